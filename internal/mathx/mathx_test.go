package mathx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGeluTanhFloat32Vector: the float32 GELU passes (vector tanh, a block
// at a time) against the float64 formula, at lengths around the block
// size, overwriting and accumulating. (Moved from autograd's
// transformer_test.go with the formulas.)
func TestGeluTanhFloat32Vector(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{0, 1, 15, 255, 256, 257, 1000} {
		x, gh := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], gh[i] = float32(r.Float64()*12-6), float32(r.Float64()*2-1)
		}
		d := make([]float32, n)
		GeluTanhSlice(d, x)
		ga := make([]float32, n)
		GeluTanhBackward(ga, gh, x, false)
		acc := make([]float32, n)
		for i := range acc {
			acc[i] = 1
		}
		GeluTanhBackward(acc, gh, x, true)
		for i, v := range x {
			require.InDelta(t, GeluTanh(float64(v)), float64(d[i]), 2e-6, "n=%d i=%d x=%v", n, i, v)
			g := float64(gh[i]) * GeluTanhGrad(float64(v))
			require.InDelta(t, g, float64(ga[i]), 2e-6, "n=%d i=%d", n, i)
			require.InDelta(t, 1+g, float64(acc[i]), 4e-6, "n=%d i=%d", n, i)
		}
	}
	x := make([]float32, 1000)
	d := make([]float32, 1000)
	require.Zero(t, testing.AllocsPerRun(10, func() { GeluTanhSlice(d, x); GeluTanhBackward(d, x, x, true) }))
}

// TestGeluErfFloat32Slices: the float32 slice forms of the exact GELU
// (vector exponential, fitted erfc) against the float64 scalar ones, over
// a sweep of float32 values: within 2 ulp, the derivative within 2 ulp or
// 6e-8 (near its zero at −0.75 the terms cancel); at lengths around the
// block size, overwriting and accumulating, without allocating.
func TestGeluErfFloat32Slices(t *testing.T) {
	var xs []float32
	for x := float32(-16); x <= 16; x += 16.0 / 4099 {
		xs = append(xs, x)
	}
	xs = append(xs, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 30, -30)
	d, g, ones := make([]float32, len(xs)), make([]float32, len(xs)), make([]float32, len(xs))
	for i := range ones {
		ones[i] = 1
	}
	GeluErfSlice(d, xs)
	GeluErfBackward(g, ones, xs, false)
	for i, x := range xs {
		want, wantG := float32(GeluErf(float64(x))), float32(GeluErfGrad(float64(x)))
		if math.IsNaN(float64(want)) {
			require.True(t, math.IsNaN(float64(d[i])), "x=%v: %v", x, d[i])
		} else {
			require.InDelta(t, float64(want), float64(d[i]), 2*ulp32(want)+1e-45, "x=%v", x)
		}
		switch {
		case math.IsNaN(float64(x)):
			require.True(t, math.IsNaN(float64(g[i])))
		default:
			require.InDelta(t, float64(wantG), float64(g[i]), 2*ulp32(wantG)+6e-8, "grad x=%v", x)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 15, 255, 256, 257, 1000} {
		x, gh := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], gh[i] = float32(r.Float64()*12-6), float32(r.Float64()*2-1)
		}
		y, ga, acc := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range acc {
			acc[i] = 1
		}
		GeluErfSlice(y, x)
		GeluErfBackward(ga, gh, x, false)
		GeluErfBackward(acc, gh, x, true)
		for i, v := range x {
			one := make([]float32, 1)
			GeluErfSlice(one, x[i:i+1])
			require.Equal(t, one[0], y[i], "position-independent bits, n=%d i=%d", n, i)
			want := float64(gh[i]) * GeluErfGrad(float64(v))
			require.InDelta(t, want, float64(ga[i]), 2e-7, "n=%d i=%d", n, i)
			require.InDelta(t, 1+want, float64(acc[i]), 4e-7, "n=%d i=%d", n, i)
		}
	}
	x := make([]float32, 1000)
	y := make([]float32, 1000)
	require.Zero(t, testing.AllocsPerRun(10, func() { GeluErfSlice(y, x); GeluErfBackward(y, x, x, true) }))
}

// TestGeluErf checks the exact GELU against values of x·Φ(x) from
// Abramowitz and Stegun's table of Φ (26.2, Φ(1) = 0.8413447460685429,
// Φ(2) = 0.9772498680518208, Φ(−1) = 1 − Φ(1)), its derivative against
// central differences, and the ends of the range.
func TestGeluErf(t *testing.T) {
	for _, c := range []struct{ x, phi float64 }{
		{1, 0.8413447460685429}, {2, 0.9772498680518208}, {-1, 1 - 0.8413447460685429}, {0, 0.5},
	} {
		require.InDelta(t, c.x*c.phi, GeluErf(c.x), 1e-15, "x=%v", c.x)
		require.InDelta(t, c.x*c.phi, float64(GeluErf(float32(c.x))), 1e-7, "x=%v", c.x)
	}
	for x := -6.0; x <= 6; x += 0.37 {
		const h = 1e-6
		num := (GeluErf(x+h) - GeluErf(x-h)) / (2 * h)
		require.InDelta(t, num, GeluErfGrad(x), 1e-8, "x=%v", x)
		num = (GeluTanh(x+h) - GeluTanh(x-h)) / (2 * h)
		require.InDelta(t, num, GeluTanhGrad(x), 1e-8, "x=%v", x)
	}
	require.Equal(t, math.Inf(1), GeluErf(math.Inf(1)))
	require.True(t, math.IsNaN(GeluErf(math.Inf(-1))), "−Inf·0, NaN as PyTorch")
	// Far in the left tail, through erfc rather than 1 + erf: x·Φ(x) at
	// x = −8 is −8 × 6.22096e-16 (the tabulated Φ(−8) = 6.220960574e-16),
	// where 1 + erf(x/√2) keeps one digit.
	require.InEpsilon(t, -8*6.22096e-16, GeluErf(-8.0), 2e-5)
	require.Equal(t, 1.0, GeluErfGrad(math.Inf(1)))
	require.Equal(t, 0.0, GeluErfGrad(math.Inf(-1)))
	require.True(t, math.IsNaN(GeluErf(math.NaN())) && math.IsNaN(GeluErfGrad(math.NaN())))
	// The two forms differ by less than 5e-4 anywhere.
	for x := -8.0; x <= 8; x += 0.01 {
		require.Less(t, math.Abs(GeluErf(x)-GeluTanh(x)), 5e-4, "x=%v", x)
	}
}

// The slice forms equal the scalar ones in float64, and in float32 are
// within 2 ulp of them (the vector kernels' bound).
func TestSlicesMatchScalars(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 100
	x64 := make([]float64, n)
	x32 := make([]float32, n)
	for i := range x64 {
		x64[i] = r.Float64()*20 - 10
		x32[i] = float32(x64[i])
	}
	pos64, pos32 := make([]float64, n), make([]float32, n)
	for i := range pos64 {
		pos64[i] = math.Abs(x64[i]) + 1e-3
		pos32[i] = float32(pos64[i])
	}
	type fns struct {
		name string
		s64  func(d, s []float64)
		f64  func(float64) float64
		s32  func(d, s []float32)
		f32  func(float32) float32
		pos  bool
	}
	for _, c := range []fns{
		{"Exp", ExpSlice[float64], Exp[float64], ExpSlice[float32], Exp[float32], false},
		{"Log", LogSlice[float64], Log[float64], LogSlice[float32], Log[float32], true},
		{"Tanh", TanhSlice[float64], Tanh[float64], TanhSlice[float32], Tanh[float32], false},
		{"Sigmoid", SigmoidSlice[float64], Sigmoid[float64], SigmoidSlice[float32], Sigmoid[float32], false},
		{"GeluErf", GeluErfSlice[float64], GeluErf[float64], GeluErfSlice[float32], GeluErf[float32], false},
		{"GeluTanh", GeluTanhSlice[float64], GeluTanh[float64], GeluTanhSlice[float32], GeluTanh[float32], false},
	} {
		in64, in32 := x64, x32
		if c.pos {
			in64, in32 = pos64, pos32
		}
		d64, d32 := make([]float64, n), make([]float32, n)
		c.s64(d64, in64)
		c.s32(d32, in32)
		for i := range n {
			require.Equal(t, c.f64(in64[i]), d64[i], "%s(%v)", c.name, in64[i])
			want := c.f32(in32[i])
			require.InDelta(t, float64(want), float64(d32[i]), 2*ulp32(want)+1e-30, "%s(%v)", c.name, in32[i])
		}
	}
	// Sigmoid's two branches agree with 1/(1 + e⁻ˣ) where that is exact enough.
	for _, x := range []float64{-30, -1, 0, 1, 30} {
		require.InDelta(t, 1/(1+math.Exp(-x)), Sigmoid(x), 1e-16)
	}
}

func ulp32(x float32) float64 {
	a := math.Abs(float64(x))
	return float64(math.Nextafter32(float32(a), float32(math.Inf(1)))) - a
}
