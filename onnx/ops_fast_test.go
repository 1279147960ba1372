package onnx

import (
	"math"
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
