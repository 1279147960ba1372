package mathx

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSum: small integers add exactly in any order, so Sum must equal a
// plain loop at every length around the eight-wide step; NaN and Inf
// reach the result from any position.
func TestSum(t *testing.T) {
	for n := range 27 {
		s := make([]float32, n)
		want := 0.0
		for i := range s {
			s[i] = float32(i%7 - 3)
			want += float64(s[i])
		}
		require.Equal(t, want, float64(Sum(s)), "n=%d", n)
		require.Equal(t, want, float64(Sum(f64Copy(s))), "n=%d float64", n)
		for i := range n {
			c := f64Copy(s)
			c[i] = math.NaN()
			require.True(t, math.IsNaN(Sum(c)), "n=%d NaN at %d", n, i)
			c[i] = math.Inf(-1)
			require.True(t, math.IsInf(Sum(c), -1), "n=%d -Inf at %d", n, i)
		}
	}
}

func f64Copy(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}
