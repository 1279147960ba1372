package hf

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNormalCDF: the float32 approximation of Φ against math.Erf.
func TestNormalCDF(t *testing.T) {
	var x []float32
	for v := -12.0; v <= 12; v += 0.001 {
		x = append(x, float32(v))
	}
	x = append(x, 0, float32(math.Inf(1)), float32(math.Inf(-1)))
	got := make([]float32, len(x))
	normalCDF(got, x)
	for i, v := range x {
		want := 0.5 * (1 + math.Erf(float64(v)/math.Sqrt2))
		require.InDelta(t, want, float64(got[i]), 2.5e-7, "Φ(%v)", v)
	}
}
