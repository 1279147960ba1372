package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAdamKernelsSpecials runs every kernel (AVX-512 and AVX2 on amd64, NEON
// on arm64) against the generic code over every length 0..200 (all tails),
// at offsets 0..3, with parameters and gradients that include ±Inf, NaN and
// ±0, and requires the same bits in p, m and v (for NaN results only that
// both are NaN: the amd64 kernels' operand order can give a NaN of the other
// sign, 0x7fc00000 against 0xffc00000; on arm64 the bits agree), with the
// guard elements either side untouched.
func TestAdamKernelsSpecials(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	specials := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0,
		float32(math.Copysign(0, -1)), 1e-40, 3e38}
	draw := func() float32 {
		if rng.IntN(10) == 0 {
			return specials[rng.IntN(len(specials))]
		}
		return float32(rng.NormFloat64())
	}
	s := adamScalars[float32]{lr: 0.3, b1: 0.5, b2: 0.9, nb1: 0.5, nb2: 0.1, c1: 1.5, c2: 3, eps: 1e-3, wd: 0.1, decay: 0.97}
	for name, k := range kernels() {
		if name == "generic" {
			continue
		}
		t.Run("impl="+name, func(t *testing.T) {
			for n := range 201 {
				for off := range 4 {
					mk := func(abs bool) []float32 {
						x := make([]float32, off+n+2)
						for i := range x {
							x[i] = 42
						}
						for i := off; i < off+n; i++ {
							x[i] = draw()
							if abs {
								x[i] = float32(math.Abs(float64(x[i])))
							}
						}
						return x
					}
					p, g, m, v := mk(false), mk(false), mk(false), mk(true)
					rp, rm, rv := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
					adamGeneric(rp[off:off+n], g[off:off+n], rm[off:off+n], rv[off:off+n], &s)
					withKernel(t, k)
					adam(p[off:off+n], g[off:off+n], m[off:off+n], v[off:off+n], &s)
					for i := range p {
						same(t, rp[i], p[i], "n=%d off=%d p[%d]", n, off, i)
						same(t, rm[i], m[i], "n=%d off=%d m[%d]", n, off, i)
						same(t, rv[i], v[i], "n=%d off=%d v[%d]", n, off, i)
					}
				}
			}
		})
	}
}

// same requires equal bits, or both NaN.
func same(t *testing.T, want, got float32, msg string, args ...any) {
	t.Helper()
	if want != want && got != got {
		return
	}
	require.Equal(t, math.Float32bits(want), math.Float32bits(got), append([]any{msg + ": %g vs %g"}, append(args, want, got)...)...)
}
