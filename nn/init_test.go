package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// TestInitStatistics draws a large tensor per scheme and checks the sample
// mean, the sample variance against the scheme's variance (uniform on
// (−b, b) has variance b²/3), and the uniform bound.
func TestInitStatistics(t *testing.T) {
	const fanIn, fanOut = 300, 100
	cases := []struct {
		init     Init
		variance float64
		bound    float64 // 0: unbounded (normal)
	}{
		{KaimingUniform, 2.0 / fanIn, math.Sqrt(6.0 / fanIn)},
		{KaimingNormal, 2.0 / fanIn, 0},
		{XavierUniform, 2.0 / (fanIn + fanOut), math.Sqrt(6.0 / (fanIn + fanOut))},
		{XavierNormal, 2.0 / (fanIn + fanOut), 0},
	}
	for _, tc := range cases {
		t.Run("init="+tc.init.String(), func(t *testing.T) {
			w := tensor.New[float64](fanIn, fanOut*10)
			Initialize(rand.New(rand.NewPCG(1, 2)), w, tc.init, fanIn, fanOut)
			var sum, sq float64
			for _, v := range w.Data() {
				sum += v
				sq += v * v
				if tc.bound > 0 {
					require.Less(t, math.Abs(v), tc.bound)
				}
			}
			n := float64(w.Size())
			mean := sum / n
			variance := sq/n - mean*mean
			// 300k draws: the standard error of the mean is σ/√n ≈ σ/550,
			// of the variance about σ²·√(2/n) ≈ σ²/390 (normal).
			sigma := math.Sqrt(tc.variance)
			assert.Less(t, math.Abs(mean), 5*sigma/math.Sqrt(n))
			assert.InEpsilon(t, tc.variance, variance, 0.015)
		})
	}
}

func TestInitDeterministic(t *testing.T) {
	a, b := tensor.New[float32](20, 30), tensor.New[float32](20, 30)
	Initialize(rand.New(rand.NewPCG(7, 7)), a, KaimingUniform, 20, 30)
	Initialize(rand.New(rand.NewPCG(7, 7)), b, KaimingUniform, 20, 30)
	assert.Equal(t, a.Data(), b.Data())
	Initialize(rand.New(rand.NewPCG(7, 8)), b, KaimingUniform, 20, 30)
	assert.NotEqual(t, a.Data(), b.Data())
}

func TestInitPanics(t *testing.T) {
	w := tensor.New[float32](2, 2)
	rng := rand.New(rand.NewPCG(1, 1))
	assert.PanicsWithError(t, "nn: invalid argument: Initialize: fan_in 0, fan_out 2 (both must be >= 1)", func() {
		Initialize(rng, w, KaimingUniform, 0, 2)
	})
	assert.PanicsWithError(t, "nn: invalid argument: Initialize: unknown scheme Init(9)", func() {
		Initialize(rng, w, Init(9), 2, 2)
	})
}
