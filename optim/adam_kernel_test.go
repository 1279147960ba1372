package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// kernels lists the Adam implementations this CPU can run, as settings of
// the feature switches; the generic code is always there.
func kernels() map[string][3]bool {
	ks := map[string][3]bool{"generic": {false, false, false}}
	if hasAVX2 {
		ks["avx2"] = [3]bool{false, true, false}
	}
	if hasAVX512 {
		ks["avx512"] = [3]bool{true, false, false}
	}
	if hasNEON {
		ks["neon"] = [3]bool{false, false, true}
	}
	return ks
}

func withKernel(t testing.TB, k [3]bool) {
	old512, old2, oldN := hasAVX512, hasAVX2, hasNEON
	hasAVX512, hasAVX2, hasNEON = k[0], k[1], k[2]
	t.Cleanup(func() { hasAVX512, hasAVX2, hasNEON = old512, old2, oldN })
}

// TestAdamKernelsBitwise runs every kernel on lengths around the vector
// widths, on offsets that misalign the slices, with zeros, tiny and huge
// values, and requires results identical to the generic code bit for bit.
// Guard elements either side must stay untouched.
func TestAdamKernelsBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	draw := func() float32 {
		switch rng.IntN(8) {
		case 0:
			return 0
		case 1:
			return float32(rng.NormFloat64() * 1e-20)
		case 2:
			return float32(rng.NormFloat64() * 1e10)
		}
		return float32(rng.NormFloat64())
	}
	scal := []adamScalars[float32]{
		{lr: 1e-3, b1: 0.9, b2: 0.999, nb1: 0.1, nb2: 0.001, c1: 10, c2: 1000, eps: 1e-8, decay: 1},
		{lr: 0.3, b1: 0.5, b2: 0.9, nb1: 0.5, nb2: 0.1, c1: 1.5, c2: 3, eps: 1e-3, wd: 0.1, decay: 0.97},
	}
	guard := float32(math.NaN())
	for name, k := range kernels() {
		t.Run("impl="+name, func(t *testing.T) {
			for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1000 + 13} {
				for off := range 3 {
					for si, s := range scal {
						mk := func() []float32 {
							x := make([]float32, n+off+1)
							for i := range x {
								x[i] = guard
							}
							for i := off; i < off+n; i++ {
								x[i] = draw()
							}
							return x
						}
						p, g, m, v := mk(), mk(), mk(), mk()
						for i := off; i < off+n; i++ {
							v[i] = float32(math.Abs(float64(v[i]))) // a second moment is >= 0
						}
						rp, rm, rv := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
						adamGeneric(rp[off:off+n], g[off:off+n], rm[off:off+n], rv[off:off+n], &s)

						withKernel(t, k)
						adam(p[off:off+n], g[off:off+n], m[off:off+n], v[off:off+n], &s)
						for i := range p {
							require.Equal(t, math.Float32bits(rp[i]), math.Float32bits(p[i]), "n=%d off=%d s=%d p[%d]: %g vs %g", n, off, si, i, rp[i], p[i])
							require.Equal(t, math.Float32bits(rm[i]), math.Float32bits(m[i]), "n=%d off=%d m[%d]", n, off, i)
							require.Equal(t, math.Float32bits(rv[i]), math.Float32bits(v[i]), "n=%d off=%d v[%d]", n, off, i)
						}
					}
				}
			}
		})
	}
}
