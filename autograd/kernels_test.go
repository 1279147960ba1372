package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// levels returns the kernel levels this CPU can run, generic first.
func levels() []int {
	ls := []int{levelGeneric}
	for l := levelAVX2; l <= maxLevel; l++ {
		ls = append(ls, l)
	}
	return ls
}

func levelName(l int) string {
	if l != levelGeneric && runtime.GOARCH == "arm64" {
		return "neon"
	}
	return [...]string{"generic", "avx2", "avx512"}[l]
}

// specials are the values whose bits the kernels must get exactly right.
var specials = []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), math.NaN(), -math.NaN(),
	5e-324, -5e-324, 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32}

func fill[T tensor.Float](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		if r.IntN(4) == 0 {
			s[i] = T(specials[r.IntN(len(specials))])
		} else {
			s[i] = T(r.NormFloat64())
		}
	}
	if is32[T]() { // a negative NaN, which float32(−NaN) may not produce
		for i := 0; i < n; i += 7 {
			f32(s)[i] = math.Float32frombits(0xffc00001)
		}
	}
	return s
}

func bitsOf[T tensor.Float](s []T) []uint64 {
	b := make([]uint64, len(s))
	for i, v := range s {
		if is32[T]() {
			b[i] = uint64(math.Float32bits(float32(v)))
		} else {
			b[i] = math.Float64bits(float64(v))
		}
	}
	return b
}

// Every assembly level gives the same bits as the generic Go code, for
// every length around the block sizes, with guard elements after the end
// left untouched.
func TestKernelLevels(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testKernelLevels[float32](t) })
	t.Run("float64", func(t *testing.T) { testKernelLevels[float64](t) })
}

func testKernelLevels[T tensor.Float](t *testing.T) {
	defer func(l int) { asmLevel = l }(asmLevel)
	r := rand.New(rand.NewPCG(5, 8))
	const guard = 3
	for _, n := range []int{0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 1000} {
		x, g, h0, d0 := fill[T](r, n+guard), fill[T](r, n+guard), fill[T](r, n+guard), fill[T](r, n+guard)
		type result struct{ fwd, bwd, bwdAcc, add []uint64 }
		var want result
		for _, l := range levels() {
			asmLevel = l
			h := append([]T(nil), h0...)
			reluFwd(h[:n], x[:n])
			d := append([]T(nil), d0...)
			reluBwd(false, d[:n], g[:n], h[:n])
			da := append([]T(nil), d0...)
			reluBwd(true, da[:n], g[:n], h0[:n]) // arbitrary h: negative, NaN, −0
			s := append([]T(nil), d0...)
			addAcc(s[:n], g[:n])
			got := result{bitsOf(h), bitsOf(d), bitsOf(da), bitsOf(s)}
			if l == levelGeneric {
				want = got
				require.Equal(t, bitsOf(h0[n:]), got.fwd[n:], "guard")
				continue
			}
			name := fmt.Sprintf("n=%d level=%s", n, levelName(l))
			require.Equal(t, want.fwd, got.fwd, "reluFwd %s", name)
			require.Equal(t, want.bwd, got.bwd, "reluBwd %s", name)
			require.Equal(t, want.bwdAcc, got.bwdAcc, "reluBwdAcc %s", name)
			require.Equal(t, want.add, got.add, "addAcc %s", name)
		}
	}
	// In place, as the forward kernel may be used.
	for _, l := range levels() {
		asmLevel = l
		x := fill[T](r, 300)
		want := make([]T, len(x))
		reluFwd(want, x)
		reluFwd(x, x)
		require.Equal(t, bitsOf(want), bitsOf(x), "in place, level %s", levelName(l))
	}
}

// The generic kernels themselves against the plain definitions.
func TestReluDefinition(t *testing.T) {
	defer func(l int) { asmLevel = l }(asmLevel)
	asmLevel = levelGeneric
	x := []float64{-2, -0.0, 0, 3, math.Inf(-1), math.Inf(1)}
	h := make([]float64, len(x))
	reluFwd(h, x)
	require.Equal(t, []float64{0, 0, 0, 3, 0, math.Inf(1)}, h)
	require.False(t, math.Signbit(h[1]), "relu(−0) = +0")
	g := []float64{1, 2, 3, 4, 5, 6}
	d := make([]float64, len(x))
	reluBwd(false, d, g, h)
	require.Equal(t, []float64{0, 0, 0, 4, 0, 6}, d)
	reluBwd(true, d, g, []float64{-1, 1, math.NaN(), 0, 2, -0.0})
	require.Equal(t, []float64{0, 2, 3, 4, 5, 6}, d, "+NaN counts as positive")
}
