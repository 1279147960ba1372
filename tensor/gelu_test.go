package tensor

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// GeluErf is x·Φ(x): checked at the tabulated Φ(1) = 0.8413447460685429,
// Φ(2) = 0.9772498680518208 and Φ(0) = ½, in float64 and float32 (whose
// bulk takes the vector form and whose tail the scalar one), and its
// backward against central differences in float64.
func TestGeluErf(t *testing.T) {
	phi := map[float64]float64{1: 0.8413447460685429, 2: 0.9772498680518208, 0: 0.5, -1: 1 - 0.8413447460685429, -2: 1 - 0.9772498680518208}
	xs := []float64{1, 2, 0, -1, -2}
	for len(xs) < 37 { // a bulk of 32 and a tail of 5
		xs = append(xs, xs[:5]...)
	}
	xs = xs[:37]
	x64 := FromSlice(xs, len(xs))
	y64 := GeluErf(x64)
	x32 := New[float32](len(xs))
	for i, v := range xs {
		x32.Data()[i] = float32(v)
	}
	y32 := GeluErf(x32)
	for i, v := range xs {
		require.InDelta(t, v*phi[v], y64.Data()[i], 1e-15, "f64 x=%v", v)
		require.InDelta(t, v*phi[v], float64(y32.Data()[i]), 3e-7, "f32 x=%v at %d", v, i)
	}
	g := Full[float64](1, len(xs))
	d := New[float64](len(xs)).GeluErfBackward(x64, g)
	for i, v := range xs {
		const h = 1e-6
		num := ((v+h)*phiOf(v+h) - (v-h)*phiOf(v-h)) / (2 * h)
		require.InDelta(t, num, d.Data()[i], 1e-8, "x=%v", v)
	}
}

func phiOf(v float64) float64 { return 0.5 * math.Erfc(-v/math.Sqrt2) }
