package math32

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKernelsLengthsOffsetsSpecials runs every kernel this CPU can (AVX-512
// and AVX2 on amd64, NEON on arm64, and the portable loop) over every
// length 0..71 and some up to 200 at misaligned starts 0..3, on values that mix ±Inf, NaN,
// ±0, subnormals and ordinary numbers, and checks each element against the
// float64 reference within the documented bound (NaN where the reference
// is NaN), and that nothing beyond the slice is written.
func TestKernelsLengthsOffsetsSpecials(t *testing.T) {
	var lengths []int // every tail of the 4- and 16-wide kernels, and longer runs
	for n := range 72 {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 127, 128, 129, 199, 200)
	rng := rand.New(rand.NewPCG(5, 9))
	specials := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		0, float32(math.Copysign(0, -1)), 1e-40, -1e-40, 88.8, -103.9, 0.625, -0.625}
	for _, f := range fns {
		for _, im := range impls() {
			for _, n := range lengths {
				for off := range 4 {
					src := make([]float32, off+n)
					for i := range src {
						if rng.IntN(8) == 0 {
							src[i] = specials[rng.IntN(len(specials))]
						} else {
							src[i] = float32(rng.NormFloat64() * 8)
						}
						if f.name == "Log" && rng.IntN(2) == 0 {
							src[i] = float32(math.Abs(float64(src[i])))
						}
					}
					dst := make([]float32, off+n+2)
					for i := range dst {
						dst[i] = 777
					}
					im.run(f, dst[off:off+n], src[off:])
					for i := range n {
						x := src[off+i]
						require.LessOrEqual(t, ulpDiff(dst[off+i], f.ref(x)), f.maxUlp,
							"%s/%s n=%d off=%d x=%v got %v", f.name, im.name, n, off, x, dst[off+i])
					}
					for i, v := range dst {
						if i < off || i >= off+n {
							require.Equal(t, float32(777), v, "%s/%s n=%d off=%d: wrote dst[%d]", f.name, im.name, n, off, i)
						}
					}
				}
			}
		}
	}
}
