package math32

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// rowLevels runs f once per implementation this CPU has: the portable
// loops, and AVX2 where available.
func rowLevels(t *testing.T, f func(t *testing.T, name string)) {
	s512, s2, sn := useAVX512, useAVX2, useNEON
	defer func() { useAVX512, useAVX2, useNEON = s512, s2, sn }()
	useAVX512, useAVX2, useNEON = false, false, false
	t.Run("generic", func(t *testing.T) { f(t, "generic") })
	if s2 {
		useAVX2 = true
		t.Run("avx2", func(t *testing.T) { f(t, "avx2") })
	}
}

// TestRowReductions: Max, Sum, SumSqDiff, ExpShiftSum and NormAffine
// against float64 loops at every length 0..80 and some long ones, each
// implementation giving the same bits as the portable loop (ExpShiftSum's
// exponentials within Exp's 1 ulp of each other, its sum within 1e-6
// relative), inputs unchanged, nothing past the end written.
func TestRowReductions(t *testing.T) {
	type res struct {
		max, sum, sq, es float32
		e, na            []float32
	}
	ref := map[int]res{}
	var lengths []int
	for n := range 81 {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 128, 384, 1000, 1536)
	rng := rand.New(rand.NewPCG(3, 4))
	inputs := map[int][4][]float32{}
	for _, n := range lengths {
		var in [4][]float32
		for k := range in {
			in[k] = make([]float32, n)
			for i := range in[k] {
				in[k][i] = float32(rng.NormFloat64() * 3)
			}
		}
		inputs[n] = in
	}
	rowLevels(t, func(t *testing.T, name string) {
		for _, n := range lengths {
			x, s, b := inputs[n][0], inputs[n][1], inputs[n][2]
			x0 := slices.Clone(x)
			var r res
			var m64, s64, q64 float64
			m64 = math.Inf(-1)
			for _, v := range x {
				m64 = math.Max(m64, float64(v))
				s64 += float64(v)
			}
			const c = 0.25
			for _, v := range x {
				q64 += (float64(v) - c) * (float64(v) - c)
			}
			if n > 0 {
				r.max = Max(x)
				require.Equal(t, float32(m64), r.max, "Max n=%d", n)
			}
			r.sum = Sum(x)
			require.InDelta(t, s64, float64(r.sum), 1e-5*(1+absSum(x)), "Sum n=%d", n)
			r.sq = SumSqDiff(x, c)
			require.InDelta(t, q64, float64(r.sq), 1e-6*(1+q64), "SumSqDiff n=%d", n)
			r.e = make([]float32, n+2)
			r.e[n], r.e[n+1] = 7, 7
			r.es = ExpShiftSum(r.e, x, float32(m64))
			var e64 float64
			for i, v := range x {
				w := math.Exp(float64(v - float32(m64))) // the float32 difference, as computed
				require.LessOrEqual(t, ulpDiff(r.e[i], float32(w)), int64(1), "ExpShiftSum n=%d i=%d", n, i)
				e64 += float64(r.e[i])
			}
			require.InDelta(t, e64, float64(r.es), 1e-6*(1+e64), "ExpShiftSum sum n=%d", n)
			require.Equal(t, []float32{7, 7}, r.e[n:], "ExpShiftSum wrote past n=%d", n)
			r.na = make([]float32, n+1)
			r.na[n] = 9
			NormAffine(r.na, x, s, b, 0.5, 1.5)
			for i, v := range x {
				require.Equal(t, (v-0.5)*1.5*s[i]+b[i], r.na[i], "NormAffine n=%d i=%d", n, i)
			}
			require.Equal(t, float32(9), r.na[n], "NormAffine wrote past n=%d", n)
			nb := make([]float32, n)
			NormAffine(nb, x, s, nil, 0.5, 1.5)
			for i, v := range x {
				require.Equal(t, (v-0.5)*1.5*s[i], nb[i], "NormAffine without bias n=%d i=%d", n, i)
			}
			require.Equal(t, x0, x, "input changed")
			if name == "generic" {
				ref[n] = r
				continue
			}
			g := ref[n]
			require.Equal(t, math.Float32bits(g.max), math.Float32bits(r.max), "Max bits n=%d", n)
			require.Equal(t, math.Float32bits(g.sum), math.Float32bits(r.sum), "Sum bits n=%d", n)
			require.Equal(t, math.Float32bits(g.sq), math.Float32bits(r.sq), "SumSqDiff bits n=%d", n)
			require.InDelta(t, float64(g.es), float64(r.es), 1e-6*float64(g.es), "ExpShiftSum n=%d", n)
			require.Equal(t, g.na, r.na, "NormAffine bits n=%d", n)
		}
	})
}

func absSum(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += math.Abs(float64(v))
	}
	return s
}

// TestMaxNaNInf: a NaN anywhere (vector body or tail) gives NaN; ±Inf are
// ordinary values; the empty slice panics.
func TestMaxNaNInf(t *testing.T) {
	rowLevels(t, func(t *testing.T, _ string) {
		for _, n := range []int{1, 7, 8, 9, 16, 17, 33, 128} {
			for at := range n {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(i) - 50
				}
				x[at] = float32(math.NaN())
				require.True(t, math.IsNaN(float64(Max(x))), "n=%d at=%d", n, at)
				x[at] = float32(math.Inf(1))
				require.Equal(t, float32(math.Inf(1)), Max(x))
				x[at] = float32(math.Inf(-1))
				if n == 1 {
					require.Equal(t, float32(math.Inf(-1)), Max(x))
				}
			}
		}
		require.Panics(t, func() { Max(nil) })
		require.Panics(t, func() { ExpShiftSum(make([]float32, 3), make([]float32, 4), 0) })
		require.Panics(t, func() { NormAffine(make([]float32, 4), make([]float32, 4), make([]float32, 3), nil, 0, 1) })
	})
}

// TestRowsNoAlloc: the row functions allocate nothing.
func TestRowsNoAlloc(t *testing.T) {
	x, d, s := make([]float32, 131), make([]float32, 131), make([]float32, 131)
	a := testing.AllocsPerRun(20, func() {
		_ = Max(x) + Sum(x) + SumSqDiff(x, 1) + ExpShiftSum(d, x, 0)
		NormAffine(d, x, s, s, 0, 1)
	})
	require.Zero(t, a)
}

// TestScale: Scale against the one-rounding loop x[i]·a, bit for bit, at
// every length 0..80 and some long ones, at every offset 0..7 (unaligned
// starts), in place and not, with specials (±0, ±Inf, NaN, subnormals)
// among the values; nothing past the end written.
func TestScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e-40, -3e-39, math.MaxFloat32}
	lengths := []int{128, 384, 1000}
	for n := range 81 {
		lengths = append(lengths, n)
	}
	rowLevels(t, func(t *testing.T, name string) {
		for _, n := range lengths {
			for off := range 8 {
				for _, a := range []float32{0.37, -2.5, 1 / 3.0} {
					x := make([]float32, off+n+8)
					for i := range x {
						x[i] = float32(rng.NormFloat64() * 10)
						if rng.IntN(10) == 0 {
							x[i] = specials[rng.IntN(len(specials))]
						}
					}
					want := slices.Clone(x)
					for i := off; i < off+n; i++ {
						want[i] = x[i] * a
					}
					dst := make([]float32, len(x))
					copy(dst, x)
					sentinel := float32(-7.25)
					for i := off + n; i < len(dst); i++ {
						dst[i] = sentinel
					}
					src := slices.Clone(x)
					Scale(dst[off:off+n+8], src[off:off+n], a)
					for i := range x {
						if math.Float32bits(x[i]) != math.Float32bits(src[i]) {
							t.Fatalf("%s n %d: input changed at %d", name, n, i)
						}
					}
					for i := off; i < off+n; i++ {
						if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s n %d off %d a %v: dst[%d] = %v, want %v", name, n, off, a, i, dst[i], want[i])
						}
					}
					for i := off + n; i < len(dst); i++ {
						require.Equal(t, sentinel, dst[i], "%s n %d: wrote past the end", name, n)
					}
					in := slices.Clone(x)
					Scale(in[off:off+n], in[off:off+n], a) // in place
					for i := off; i < off+n; i++ {
						if math.Float32bits(in[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s n %d in place: [%d] = %v, want %v", name, n, i, in[i], want[i])
						}
					}
				}
			}
		}
	})
	require.Panics(t, func() { Scale(make([]float32, 3), make([]float32, 4), 1) })
}
