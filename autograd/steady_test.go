package autograd

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

func toF32(d *tensor.Dense[float64]) *tensor.Dense[float32] {
	out := tensor.New[float32](d.Shape()...)
	for i, v := range d.Data() {
		out.Data()[i] = float32(v)
	}
	return out
}

// graph32 is the same computation in either precision: every op kind with
// a float32 kernel of its own (math32 exp, tanh, sigmoid; GEMM; softmax).
func graph[T tensor.Float](tp *Tape[T], in []*Var[T]) *Var[T] {
	x, w1, b1, w2, b2 := in[0], in[1], in[2], in[3], in[4]
	h := tp.Tanh(tp.Linear(x, w1, b1))
	h2 := tp.Mul(tp.Sigmoid(h), tp.Exp(tp.Scale(h, 0.5)))
	h3 := tp.Gelu(tp.Relu(tp.Sub(h2, tp.MeanAxis(h2, 0))))
	z := tp.Add(tp.MatMul(h3, w2), b2)
	l := tp.CrossEntropy(z, []int{0, 1, 2, 3, 0, 1, 2, 3})
	sm := tp.Mean(tp.Square(tp.Softmax(z, -1)))
	lg := tp.Mean(tp.Log(tp.AddScalar(tp.Sqrt(tp.Square(z)), 1)))
	return tp.Add(tp.Add(l, sm), lg)
}

// float32 gradients agree with float64 to |g32 − g64| ≤ 1e-5·(1 + |g64|):
// float32 carries 24 bits (ε = 6e-8); with sums over ≤ 16 terms and a
// few transcendental functions (math32, ≤ 2 ulp) the error stays orders
// below that bound, which still catches any formula that is wrong or that
// loses precision (a one-pass variance, an unstabilised exp).
func TestFloat32MatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	shapes := [][]int{{8, 6}, {16, 6}, {16}, {16, 4}, {4}}
	var in64 []*Var[float64]
	var in32 []*Var[float32]
	for _, s := range shapes {
		d := randT(r, -1, 1, s...)
		in64 = append(in64, NewVar(d, true))
		in32 = append(in32, NewVar(toF32(d), true))
	}
	tp64, tp32 := NewTape[float64](), NewTape[float32]()
	l64, l32 := graph(tp64, in64), graph(tp32, in32)
	require.NoError(t, tp64.Backward(l64))
	require.NoError(t, tp32.Backward(l32))
	require.InDelta(t, l64.Value().Data()[0], float64(l32.Value().Data()[0]), 1e-5*(1+math.Abs(l64.Value().Data()[0])))
	worst := 0.0
	for i := range in64 {
		g64, g32 := in64[i].Grad().Data(), in32[i].Grad().Data()
		for j := range g64 {
			d := math.Abs(g64[j]-float64(g32[j])) / (1 + math.Abs(g64[j]))
			worst = max(worst, d)
			require.LessOrEqual(t, d, 1e-5, "input %d element %d: %v vs %v", i, j, g64[j], g32[j])
		}
	}
	t.Logf("worst scaled float32 error %.2g", worst)
}

// A training step in steady state (forward, backward, SGD update in place,
// ZeroGrad, Reset) allocates nothing, single-threaded and with the
// elementwise kernels split across two workers.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, threads := range []int{1, 2} {
		prev := parallel.SetThreads(threads)
		r := rand.New(rand.NewPCG(31, 31))
		const n, d, hdim, c = 64, 300, 300, 10 // 64×300 > 2 grains: kernels split
		x := tensor.New[float32](n, d)
		for i := range x.Data() {
			x.Data()[i] = float32(r.NormFloat64())
		}
		labels := make([]int, n)
		for i := range labels {
			labels[i] = r.IntN(c)
		}
		mk := func(shape ...int) *Var[float32] {
			t := tensor.New[float32](shape...)
			for i := range t.Data() {
				t.Data()[i] = float32(r.NormFloat64() * 0.05)
			}
			return NewVar(t, true)
		}
		w1, b1, w2, b2 := mk(hdim, d), mk(hdim), mk(hdim, c), mk(c)
		params := []*Var[float32]{w1, b1, w2, b2}
		tp := NewTape[float32]()
		step := func() {
			xv := tp.Const(x)
			h := tp.Relu(tp.Linear(xv, w1, b1))
			h = tp.Mul(h, tp.Sigmoid(h))
			h = tp.Reshape(h, n, hdim) // the cached view
			z := tp.Add(tp.MatMul(h, w2), b2)
			loss := tp.CrossEntropy(z, labels)
			if err := tp.Backward(loss); err != nil {
				t.Fatal(err)
			}
			for _, p := range params {
				v, g := p.Value().Data(), p.Grad().Data()
				for i := range v {
					v[i] -= 0.01 * g[i]
				}
				p.ZeroGrad()
			}
			tp.Reset()
		}
		step()
		step()
		allocs := testing.AllocsPerRun(20, step)
		// A GC empties every sync.Pool; the step's state must not live in one.
		allocsGC := testing.AllocsPerRun(2, func() { runtime.GC(); step() })
		parallel.SetThreads(prev)
		require.Zero(t, allocs, "threads=%d", threads)
		require.Zero(t, allocsGC, "threads=%d, after a GC", threads)
	}
}

// float32 transcendental kernels on lengths that are not a multiple of the
// vector width: the same bits with one or two threads (chunk boundaries
// fall on whole vectors), and no allocation for the tail.
func TestVectorTailsFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 41))
	for _, n := range []int{1, 15, 17, 4099, 8 * 1031} {
		x := tensor.New[float32](n)
		for i := range x.Data() {
			x.Data()[i] = float32(r.Float64()*6 - 3)
		}
		xv := NewVar(x, true)
		run := func(threads int) ([]float32, []float32) {
			prev := parallel.SetThreads(threads)
			defer parallel.SetThreads(prev)
			tp := NewTape[float32]()
			h := tp.Add(tp.Tanh(xv), tp.Sigmoid(xv))
			h = tp.Add(h, tp.Exp(xv))
			h = tp.Log(tp.AddScalar(tp.Square(h), 1))
			xv.ZeroGrad()
			require.NoError(t, tp.Backward(tp.Sum(h)))
			return append([]float32(nil), h.Value().Data()...), append([]float32(nil), xv.Grad().Data()...)
		}
		v1, g1 := run(1)
		v2, g2 := run(2)
		require.Equal(t, v1, v2, "n=%d", n)
		require.Equal(t, g1, g2, "n=%d", n)
		for i, v := range x.Data() {
			want := math.Log(math.Pow(math.Tanh(float64(v))+1/(1+math.Exp(-float64(v)))+math.Exp(float64(v)), 2) + 1)
			require.InDelta(t, want, float64(v1[i]), 1e-5*(1+math.Abs(want)), "n=%d i=%d", n, i)
		}
		if !raceEnabled {
			tp := NewTape[float32]()
			step := func() {
				tp.Log(tp.Exp(tp.Sigmoid(tp.Tanh(xv))))
				tp.Reset()
			}
			step()
			require.Zero(t, testing.AllocsPerRun(10, step), "n=%d", n)
		}
	}
}
