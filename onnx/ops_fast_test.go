package onnx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// erfFloat32 against math.Erf (float64) on a dense grid and at the branch points.
func TestErf32(t *testing.T) {
	xs := []float32{0, -0, 1e-30, 1e-8, -1e-8, 0.49999997, 0.5, 0.50000006, 3.9999998, 4, 10, -10,
		float32(math.Inf(1)), float32(math.Inf(-1))}
	for x := float32(-6); x <= 6; x += 1.0 / 1024 {
		xs = append(xs, x)
	}
	for _, x := range xs {
		want := math.Erf(float64(x))
		got := float64(erfFloat32(x))
		require.LessOrEqual(t, math.Abs(got-want), 2e-7*math.Abs(want)+1e-30, "erf(%g) = %g, want %g", x, got, want)
	}
	require.True(t, math.IsNaN(float64(erfFloat32(float32(math.NaN())))))
}

// Broadcast arithmetic against a naive loop over output indices, on random
// shapes where each axis of each operand is kept, broadcast (1) or left out.
func TestBroadcastArithNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Large outputs (>= grain elements) take tensor's kernels.
	big := [][]int{{2, 128, 96}, {3, 80, 70}, {160, 128}}
	for it := 0; it < 500+len(big); it++ {
		var os []int
		if it < len(big) {
			os = big[it]
		} else {
			os = make([]int, rng.IntN(5))
			for i := range os {
				os[i] = 1 + rng.IntN(4)
			}
		}
		r := len(os)
		mk := func() *Tensor {
			lead := rng.IntN(r + 1) // leading axes left out
			s := make([]int, r-lead)
			for i := range s {
				s[i] = os[lead+i]
				if rng.IntN(3) == 0 {
					s[i] = 1
				}
			}
			x := NewTensor(Float, s...)
			for i := range x.F32 {
				x.F32[i] = float32(rng.IntN(19) - 9)
			}
			return x
		}
		a, b := mk(), mk()
		shape, err := BroadcastShape(a.Shape, b.Shape)
		require.NoError(t, err)
		for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
			got, err := runOp(t, op, 14, 1, nil, a, b)
			require.NoError(t, err)
			require.Equal(t, shape, got[0].Shape)
			idx := make([]int, len(shape))
			for i := range got[0].Size() {
				// Unravel i, then index each operand with broadcasting.
				rem := i
				for d := len(shape) - 1; d >= 0; d-- {
					idx[d] = rem % shape[d]
					rem /= shape[d]
				}
				at := func(x *Tensor) float32 {
					off, st := 0, 1
					for d := len(x.Shape) - 1; d >= 0; d-- {
						j := idx[len(shape)-len(x.Shape)+d]
						if x.Shape[d] == 1 {
							j = 0
						}
						off += j * st
						st *= x.Shape[d]
					}
					return x.F32[off]
				}
				x, y := at(a), at(b)
				want := map[string]float32{"Add": x + y, "Sub": x - y, "Mul": x * y, "Div": x / y}[op]
				g := got[0].F32[i]
				require.True(t, g == want || (g != g && want != want), "%s %v %v: element %d got %v want %v", op, a.Shape, b.Shape, i, g, want)
			}
		}
	}
}

// A transpose large enough to split across threads, against index math.
func TestTransposeLargeParallel(t *testing.T) {
	x := NewTensor(Float, 4, 128, 3, 64)
	for i := range x.F32 {
		x.F32[i] = float32(i)
	}
	got, err := runOp(t, "Transpose", 13, 1, []*Attribute{aInts("perm", 2, 0, 3, 1)}, x)
	require.NoError(t, err)
	require.Equal(t, []int{3, 4, 64, 128}, got[0].Shape)
	for c := range 3 {
		for a := range 4 {
			for d := range 64 {
				for b := range 128 {
					want := x.F32[((a*128+b)*3+c)*64+d]
					require.Equal(t, want, got[0].F32[((c*4+a)*64+d)*128+b])
				}
			}
		}
	}
}

// Tile and constant Pad copy whole rows; check them against index math.
func TestTileAndPadRows(t *testing.T) {
	x := NewTensor(Float, 2, 1, 3)
	for i := range x.F32 {
		x.F32[i] = float32(i + 1)
	}
	got, err := runOp(t, "Tile", 13, 1, nil, x, i64t([]int{3}, 2, 3, 2))
	require.NoError(t, err)
	require.Equal(t, []int{4, 3, 6}, got[0].Shape)
	for a := range 4 {
		for b := range 3 {
			for c := range 6 {
				require.Equal(t, x.F32[(a%2)*3+c%3], got[0].F32[(a*3+b)*6+c])
			}
		}
	}
	// Pads: axis 0 by (1, 0), axis 1 by (0, 2), axis 2 by (2, 1); value 9.
	got, err = runOp(t, "Pad", 13, 1, nil, x, i64t([]int{6}, 1, 0, 2, 0, 2, 1), f32([]int{}, 9))
	require.NoError(t, err)
	require.Equal(t, []int{3, 3, 6}, got[0].Shape)
	for a := range 3 {
		for b := range 3 {
			for c := range 6 {
				want := float32(9)
				if a >= 1 && b < 1 && c >= 2 && c < 5 {
					want = x.F32[(a-1)*3+c-2]
				}
				require.Equal(t, want, got[0].F32[(a*3+b)*6+c], "at %d %d %d", a, b, c)
			}
		}
	}
}

// Reductions over trailing axes (the fast path) and over a middle axis (the
// general path) against plain loops.
func TestReduceMeanPaths(t *testing.T) {
	x := NewTensor(Float, 3, 4, 5)
	for i := range x.F32 {
		x.F32[i] = float32(i%7) - 3
	}
	mean := func(keep func(a, b, c int) int, n int, div float32) []float32 {
		out := make([]float32, n)
		for a := range 3 {
			for b := range 4 {
				for c := range 5 {
					out[keep(a, b, c)] += x.F32[(a*4+b)*5+c]
				}
			}
		}
		for i := range out {
			out[i] /= div
		}
		return out
	}
	for _, c := range []struct {
		axes  []int64
		shape []int
		want  []float32
	}{
		{[]int64{-1}, []int{3, 4, 1}, mean(func(a, b, c int) int { return a*4 + b }, 12, 5)},
		{[]int64{1, 2}, []int{3, 1, 1}, mean(func(a, b, c int) int { return a }, 3, 20)},
		{[]int64{1}, []int{3, 1, 5}, mean(func(a, b, c int) int { return a*5 + c }, 15, 4)},
	} {
		got, err := runOp(t, "ReduceMean", 13, 1, []*Attribute{aInts("axes", c.axes...)}, x)
		require.NoError(t, err)
		require.Equal(t, c.shape, got[0].Shape)
		for i, w := range c.want {
			require.InDelta(t, w, got[0].F32[i], 1e-6, "axes %v element %d", c.axes, i)
		}
	}
}
