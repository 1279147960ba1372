package autograd

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

func vec(xs ...float64) *tensor.Dense[float64] { return tensor.FromSlice(xs, len(xs)) }

func clone(d []float64) []float64 { return append([]float64(nil), d...) }

// mlpLoss records a small MLP with cross-entropy on tp.
func mlpLoss(tp *Tape[float64], x, w1, b1, w2 *Var[float64]) *Var[float64] {
	h := tp.Relu(tp.Linear(x, w1, b1))
	return tp.CrossEntropy(tp.MatMul(h, w2), []int{1, 0, 2, 1})
}

func TestAccumulateAcrossBackwardAndZeroGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := NewVar(randT(r, -1, 1, 4, 3), false)
	w1 := NewVar(randT(r, -1, 1, 5, 3), true)
	b1 := NewVar(randT(r, -1, 1, 5), true)
	w2 := NewVar(randT(r, -1, 1, 5, 3), true)
	tp := NewTape[float64]()
	require.Nil(t, w1.Grad(), "no gradient before the first Backward")

	require.NoError(t, tp.Backward(mlpLoss(tp, x, w1, b1, w2)))
	once := [][]float64{clone(w1.Grad().Data()), clone(b1.Grad().Data()), clone(w2.Grad().Data())}
	g := w1.Grad()
	tp.Reset()
	require.NoError(t, tp.Backward(mlpLoss(tp, x, w1, b1, w2)))
	require.Same(t, g, w1.Grad(), "the gradient tensor is kept, not replaced")
	for i, v := range []*Var[float64]{w1, b1, w2} {
		for j, got := range v.Grad().Data() {
			assert.InDelta(t, 2*once[i][j], got, 1e-12)
		}
	}
	for _, v := range []*Var[float64]{w1, b1, w2} {
		v.ZeroGrad()
	}
	require.Equal(t, make([]float64, 15), w1.Grad().Data())
	tp.Reset()
	require.NoError(t, tp.Backward(mlpLoss(tp, x, w1, b1, w2)))
	for i, v := range []*Var[float64]{w1, b1, w2} {
		require.Equal(t, once[i], v.Grad().Data(), "after ZeroGrad one Backward gives the single-pass gradient exactly")
	}
	require.Nil(t, x.Grad(), "an input without requiresGrad gets no gradient")
}

func TestGraphReleasedAndRetain(t *testing.T) {
	x := NewVar(vec(1, 2, 3), true)
	tp := NewTape[float64]()
	h := tp.Square(x).KeepGrad()
	loss := tp.Sum(tp.Exp(h))
	require.NoError(t, tp.Backward(loss))
	err := tp.Backward(loss)
	require.ErrorIs(t, err, ErrGraphReleased)
	assert.InDelta(t, math.Exp(9), loss.Value().Data()[0]-math.Exp(1)-math.Exp(4), 1e-9, "values stay readable after release")

	tp.Reset()
	x.ZeroGrad()
	tp.RetainGraph(true)
	h = tp.Square(x).KeepGrad()
	loss = tp.Sum(tp.Exp(h))
	require.NoError(t, tp.Backward(loss))
	hg := clone(h.Grad().Data())
	xg := clone(x.Grad().Data())
	require.NoError(t, tp.Backward(loss))
	require.Equal(t, hg, h.Grad().Data(), "an intermediate's adjoint is per pass")
	for i := range xg {
		assert.InDelta(t, 2*xg[i], x.Grad().Data()[i], 1e-9, "leaf gradients accumulate")
	}
	for i, xv := range []float64{1, 2, 3} {
		assert.InDelta(t, math.Exp(xv*xv), hg[i], 1e-9)
		assert.InDelta(t, 2*xv*math.Exp(xv*xv), xg[i], 1e-9)
	}
}

func TestKeepGradDetachNoGrad(t *testing.T) {
	x := NewVar(vec(1, -2, 3), true)
	tp := NewTape[float64]()
	a := tp.Scale(x, 3)
	b := tp.Scale(x, 5).KeepGrad()
	loss := tp.Sum(tp.Mul(a, b))
	require.NoError(t, tp.Backward(loss))
	assert.Nil(t, a.Grad(), "no KeepGrad: no readable adjoint")
	require.NotNil(t, b.Grad())
	assert.Equal(t, []float64{3, -6, 9}, b.Grad().Data()) // b̄ = a
	assert.Equal(t, []float64{30, -60, 90}, x.Grad().Data())

	x.ZeroGrad()
	tp.Reset()
	loss = tp.Sum(tp.Mul(tp.Detach(x), x))
	require.NoError(t, tp.Backward(loss))
	assert.Equal(t, []float64{1, -2, 3}, x.Grad().Data(), "the detached path contributes nothing")

	tp.Reset()
	prev := tp.NoGrad(true)
	assert.False(t, prev)
	n0 := tp.Len()
	y := tp.Sum(tp.Square(x))
	assert.False(t, y.RequiresGrad())
	assert.Equal(t, 14.0, y.Value().Data()[0])
	require.ErrorIs(t, tp.Backward(y), ErrNoGrad)
	tp.NoGrad(false)
	assert.Equal(t, n0+2, tp.Len())
}

func TestAnomaly(t *testing.T) {
	tp := NewTape[float64]()
	tp.Anomaly(true)
	x := NewVar(vec(1, -1, 2), true)
	loss := tp.Sum(tp.Exp(tp.Log(x)))
	var ae *AnomalyError
	err := tp.Backward(loss)
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, ErrAnomaly)
	assert.Equal(t, "Log", ae.Op)
	assert.Equal(t, "forward", ae.Phase)
	assert.Equal(t, 1, ae.Index)
	assert.Nil(t, x.Grad(), "Backward did not run")

	tp.Reset()
	require.NoError(t, tp.Err())
	z := NewVar(vec(4, 0), true)
	err = tp.Backward(tp.Sum(tp.Sqrt(z)))
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Sqrt", ae.Op)
	assert.Equal(t, "backward", ae.Phase)
	assert.True(t, math.IsInf(ae.Value, 1))
	t.Log(err)

	tp.Anomaly(false)
	tp.Reset()
	require.NoError(t, tp.Backward(tp.Sum(tp.Sqrt(z))), "without anomaly mode Inf is just a value")
}

func TestCrossEntropyHugeLogits(t *testing.T) {
	z := tensor.FromSlice([]float64{1e4, 0, -1e4, 0, 1e4, 1e4}, 2, 3)
	// The naive formula overflows.
	naive := math.Log(math.Exp(1e4) + 1 + math.Exp(-1e4))
	require.True(t, math.IsInf(naive, 1))

	x := NewVar(z, true)
	tp := NewTape[float64]()
	loss := tp.CrossEntropy(x, []int{0, 2})
	require.NoError(t, tp.Backward(loss))
	// Row 0: lse = 1e4, loss 0. Row 1: lse = 1e4 + ln 2, loss ln 2.
	assert.InDelta(t, math.Ln2/2, loss.Value().Data()[0], 1e-12)
	// z̄ = (softmax − onehot)/N; the ±0.25 come from e^(−ln 2) up to the
	// rounding of 1e4 + ln 2 (ulp 1.8e-12).
	want := []float64{0, 0, 0, 0, 0.25, -0.25}
	for i, g := range x.Grad().Data() {
		assert.InDelta(t, want[i], g, 1e-12, "element %d", i)
	}
	assert.Equal(t, 0.0, x.Grad().Data()[0], "a certain, correct row has exactly zero adjoint")

	// float32 too.
	x32 := NewVar(tensor.FromSlice([]float32{1e4, 0, -1e4, 0, 1e4, 1e4}, 2, 3), true)
	tp32 := NewTape[float32]()
	l32 := tp32.CrossEntropy(x32, []int{0, 2})
	require.NoError(t, tp32.Backward(l32))
	assert.InDelta(t, math.Ln2/2, float64(l32.Value().Data()[0]), 1e-3)
	for i, g := range x32.Grad().Data() {
		assert.InDelta(t, want[i], float64(g), 1e-3, "element %d", i)
	}
}

func TestBCEHugeLogits(t *testing.T) {
	z := vec(1e4, -1e4, 1e4, -1e4, 0)
	tg := vec(1, 0, 0, 1, 1)
	require.True(t, math.IsInf(-math.Log(1-1/(1+math.Exp(-1e4))), 1), "naive BCE overflows")
	x := NewVar(z, true)
	y := NewVar(tg, true)
	tp := NewTape[float64]()
	loss := tp.BCEWithLogits(x, y)
	require.NoError(t, tp.Backward(loss))
	// Per element: 0, 0, 1e4, 1e4, ln 2.
	assert.InDelta(t, (2e4+math.Ln2)/5, loss.Value().Data()[0], 1e-9)
	// z̄ = (σ(z) − t)/n exactly: σ(±1e4) is 1 or 0 in float64.
	assert.Equal(t, []float64{0, 0, 0.2, -0.2, -0.1}, x.Grad().Data())
	assert.Equal(t, []float64{-2e3, 2e3, -2e3, 2e3, 0}, y.Grad().Data())
}

func TestLogSumExpNegInf(t *testing.T) {
	inf := math.Inf(-1)
	x := NewVar(tensor.FromSlice([]float64{inf, 0, math.Log(3), inf, inf, inf}, 2, 3), true)
	tp := NewTape[float64]()
	l := tp.LogSumExp(x, 1)
	assert.InDelta(t, math.Log(4), l.Value().Data()[0], 1e-15)
	assert.True(t, math.IsInf(l.Value().Data()[1], -1), "all −Inf gives −Inf")
	require.NoError(t, tp.BackwardSeed(l, vec(1, 1)))
	g := x.Grad().Data()
	assert.Equal(t, 0.0, g[0])
	assert.InDelta(t, 0.25, g[1], 1e-15)
	assert.InDelta(t, 0.75, g[2], 1e-15)
	assert.Equal(t, []float64{0, 0, 0}, g[3:], "an all −Inf row has zero adjoint, not NaN")

	// LogSoftmax and CrossEntropy with a −Inf logit (a masked class).
	tp.Reset()
	x.ZeroGrad()
	ls := tp.LogSoftmax(x, -1)
	assert.True(t, math.IsInf(ls.Value().Data()[0], -1))
	loss := tp.CrossEntropy(tp.Slice(x, 0, 0, 1), []int{2})
	require.NoError(t, tp.Backward(loss))
	assert.InDelta(t, math.Log(4)-math.Log(3), loss.Value().Data()[0], 1e-15)
	assert.Equal(t, 0.0, x.Grad().Data()[0])
	assert.InDelta(t, 0.25, x.Grad().Data()[1], 1e-15)
	assert.InDelta(t, -0.25, x.Grad().Data()[2], 1e-15)
}

func TestReluAtZero(t *testing.T) {
	x := NewVar(vec(-1, 0, math.Copysign(0, -1), 2), true)
	tp := NewTape[float64]()
	h := tp.Relu(x)
	require.NoError(t, tp.Backward(tp.Sum(tp.Scale(h, 3))))
	assert.Equal(t, []float64{0, 0, 0, 2}, h.Value().Data())
	assert.Equal(t, []float64{0, 0, 0, 3}, x.Grad().Data(), "relu′(0) = 0")

	tp.Reset()
	x.ZeroGrad()
	require.NoError(t, tp.Backward(tp.Sum(tp.Abs(x))))
	assert.Equal(t, []float64{-1, 0, 0, 1}, x.Grad().Data(), "|x|′(0) = 0")
}

// The seed's example: f(x, y) = x²y with x = r cos θ, y = r sin θ, so
// f = r³cos²θ sinθ, ∂f/∂r = 3r²cos²θ sinθ, ∂f/∂θ = r³(cos³θ − 2cosθ sin²θ).
func TestPolarX2Y(t *testing.T) {
	for _, c := range []struct{ r, th float64 }{{2, 0.3}, {0.5, 2.1}, {1.3, -1}} {
		r := NewVar(vec(c.r), true)
		th := NewVar(vec(c.th), true)
		tp := NewTape[float64]()
		x := tp.Mul(r, tp.Cos(th))
		y := tp.Mul(r, tp.Sin(th))
		f := tp.Mul(tp.Square(x), y)
		require.NoError(t, tp.Backward(f))
		cs, sn := math.Cos(c.th), math.Sin(c.th)
		assert.InDelta(t, c.r*c.r*c.r*cs*cs*sn, f.Value().Data()[0], 1e-14)
		assert.InDelta(t, 3*c.r*c.r*cs*cs*sn, r.Grad().Data()[0], 1e-14)
		assert.InDelta(t, c.r*c.r*c.r*(cs*cs*cs-2*cs*sn*sn), th.Grad().Data()[0], 1e-14)
	}
}

func TestBackwardSeed(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	a := NewVar(randT(r, -1, 1, 3, 4), true)
	b := NewVar(randT(r, -1, 1, 4, 2), true)
	seed := randT(r, -1, 1, 3, 2)
	tp := NewTape[float64]()
	z := tp.MatMul(a, b)
	require.ErrorIs(t, tp.Backward(z), ErrNotScalar)
	require.NoError(t, tp.BackwardSeed(z, seed))
	ga := clone(a.Grad().Data())
	a.ZeroGrad()
	b.ZeroGrad()
	tp.Reset()
	require.NoError(t, tp.Backward(tp.Sum(tp.Mul(tp.MatMul(a, b), tp.Const(seed)))))
	for i := range ga {
		assert.InDelta(t, a.Grad().Data()[i], ga[i], 1e-14)
	}
	tp.Reset()
	z = tp.MatMul(a, b)
	require.Panics(t, func() { _ = tp.BackwardSeed(z, vec(1, 2)) })
}

// mustPanic runs f and returns the error it panicked with.
func mustPanic(t *testing.T, f func()) error {
	t.Helper()
	var p any
	func() {
		defer func() { p = recover() }()
		f()
	}()
	require.NotNil(t, p, "expected a panic")
	err, ok := p.(error)
	require.True(t, ok, "panic value %v is not an error", p)
	return err
}

func TestMisusePanics(t *testing.T) {
	tp := NewTape[float64]()
	a := NewVar(tensor.New[float64](2, 3), true)
	b := NewVar(tensor.New[float64](4, 5), true)
	c := NewVar(tensor.New[float64](3, 2), true)
	cases := []struct {
		name     string
		f        func()
		sentinel error
		contains []string
	}{
		{"MatMul", func() { tp.MatMul(a, b) }, ErrShape, []string{"MatMul", "[2 3]", "[4 5]"}},
		{"MatMulT", func() { tp.MatMulT(a, c, gemm.Trans, gemm.NoTrans) }, ErrShape, []string{"MatMulT", "[2 3]", "[3 2]"}},
		{"MatMul/vector", func() { tp.MatMul(a, NewVar(vec(1, 2, 3), false)) }, ErrShape, []string{"MatMul", "[3]"}},
		{"Linear", func() { tp.Linear(a, b, nil) }, ErrShape, []string{"Linear", "[2 3]", "[4 5]"}},
		{"Linear/bias", func() { tp.Linear(a, NewVar(tensor.New[float64](2, 3), true), NewVar(vec(1, 2, 3), false)) }, ErrShape, []string{"Linear", "bias", "[3]"}},
		{"Add", func() { tp.Add(a, b) }, ErrShape, []string{"Add", "[2 3]", "[4 5]", "broadcast"}},
		{"Mul", func() { tp.Mul(a, c) }, ErrShape, []string{"Mul", "[2 3]", "[3 2]"}},
		{"MSE", func() { tp.MSE(a, c) }, ErrShape, []string{"MSE", "[2 3]", "[3 2]"}},
		{"BCEWithLogits", func() { tp.BCEWithLogits(a, c) }, ErrShape, []string{"BCEWithLogits"}},
		{"CrossEntropy/labels", func() { tp.CrossEntropy(a, []int{0}) }, ErrShape, []string{"CrossEntropy", "[2 3]", "1 labels"}},
		{"CrossEntropy/range", func() { tp.CrossEntropy(a, []int{0, 3}) }, ErrIndex, []string{"CrossEntropy", "label 3", "3 classes"}},
		{"SumAxis", func() { tp.SumAxis(a, 2) }, ErrIndex, []string{"SumAxis", "axis 2", "[2 3]"}},
		{"Softmax", func() { tp.Softmax(a, -3) }, ErrIndex, []string{"Softmax", "axis -3"}},
		{"Slice", func() { tp.Slice(a, 1, 2, 4) }, ErrIndex, []string{"Slice", "[2, 4)", "[2 3]"}},
		{"Reshape", func() { tp.Reshape(a, 4, 2) }, ErrShape, []string{"Reshape", "[2 3]", "[4 2]"}},
		{"Concat", func() { tp.Concat(0, a, c) }, ErrShape, []string{"Concat", "[3 2]", "[2 3]"}},
		{"Transpose", func() { tp.Transpose(NewVar(vec(1), false)) }, ErrShape, []string{"Transpose", "[1]"}},
		{"nil", func() { tp.Exp(nil) }, ErrMisuse, []string{"Exp", "nil"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := tp.Len()
			err := mustPanic(t, c.f)
			require.ErrorIs(t, err, c.sentinel)
			for _, s := range c.contains {
				assert.Contains(t, err.Error(), s)
			}
			assert.Equal(t, n, tp.Len(), "nothing recorded")
		})
	}

	t.Run("stale", func(t *testing.T) {
		h := tp.Exp(a)
		tp.Reset()
		err := mustPanic(t, func() { tp.Exp(h) })
		require.ErrorIs(t, err, ErrMisuse)
		assert.Contains(t, err.Error(), "Reset")
	})
	t.Run("other-tape", func(t *testing.T) {
		h := NewTape[float64]().Exp(a)
		err := mustPanic(t, func() { tp.Exp(h) })
		require.ErrorIs(t, err, ErrMisuse)
		assert.Contains(t, err.Error(), "another tape")
	})
}

// Leaves whose values are transposed views: products read them through
// GEMM's transpose flag, activations through a copy; values and gradients
// (in the view's shape) match those of contiguous copies.
func TestTransposedViews(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	xs := randT(r, -1, 1, 4, 3) // x = xsᵀ is 3×4
	ws := randT(r, -1, 1, 5, 4) // w = wsᵀ is 4×5
	run := func(x, w *tensor.Dense[float64]) (loss float64, gx, gw []float64) {
		xv, wv := NewVar(x, true), NewVar(w, true)
		tp := NewTape[float64]()
		z := tp.MatMul(xv, wv)                            // 3×5
		g := tp.MatMulT(xv, xv, gemm.NoTrans, gemm.Trans) // 3×3, same view twice
		k := tp.MatMulT(wv, xv, gemm.Trans, gemm.Trans)   // 5×3
		l := tp.Add(weigh(tp, tp.Tanh(z)), weigh(tp, tp.Sigmoid(xv)))
		l = tp.Add(l, tp.Add(weigh(tp, tp.Relu(g)), weigh(tp, tp.Gelu(k))))
		require.NoError(t, tp.Backward(l))
		require.Equal(t, x.Shape(), xv.Grad().Shape())
		return l.Value().Data()[0], xv.Grad().Data(), wv.Grad().Data()
	}
	xview, wview := xs.T(), ws.T()
	require.False(t, xview.IsContiguous())
	l1, gx1, gw1 := run(xview, wview)
	l2, gx2, gw2 := run(xview.Clone(), wview.Clone())
	assert.InDelta(t, l2, l1, 1e-13)
	assert.InDeltaSlice(t, gx2, gx1, 1e-13)
	assert.InDeltaSlice(t, gw2, gw1, 1e-13)
	require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
		z := tp.MatMulT(in[0], in[1], gemm.Trans, gemm.Trans) // xsᵀ·wsᵀ
		return weigh(tp, tp.Tanh(z))
	}, []*tensor.Dense[float64]{xs, ws}, CheckOptions{}))
}

func TestThreadsGiveIdenticalResults(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	x := randT(r, -2, 2, 600, 500) // above the parallel grains (grainVec for relu, bias fill and sums)
	bias := randT(r, -1, 1, 500)
	w := randT(r, -0.1, 0.1, 500, 500)
	run := func(threads int) ([]float64, []float64, float64) {
		prev := parallel.SetThreads(threads)
		defer parallel.SetThreads(prev)
		xv, bv := NewVar(x, true), NewVar(bias, true)
		wv := NewVar(w, true)
		tp := NewTape[float64]()
		h := tp.Tanh(tp.Add(xv, bv))
		h = tp.Mul(tp.Relu(h), tp.Exp(h))
		h = tp.Sigmoid(tp.Linear(h, wv, bv)) // parallel bias fill and column sums
		l := weigh(tp, h)
		require.NoError(t, tp.Backward(l))
		return clone(xv.Grad().Data()), append(clone(bv.Grad().Data()), wv.Grad().Data()...), l.Value().Data()[0]
	}
	g1, b1, l1 := run(1)
	g2, b2, l2 := run(2)
	require.Equal(t, l1, l2)
	require.Equal(t, g1, g2)
	require.Equal(t, b1, b2)
}

func TestErrorsAreDistinct(t *testing.T) {
	for _, e := range []error{ErrMisuse, ErrNotScalar, ErrGraphReleased, ErrNoGrad, ErrAnomaly, ErrGradCheck} {
		require.False(t, errors.Is(e, ErrShape))
	}
}

func TestEmptyShapes(t *testing.T) {
	tp := NewTape[float64]()
	a := NewVar(tensor.New[float64](2, 0), true)
	b := NewVar(tensor.New[float64](0, 3), true)
	z := tp.MatMul(a, b)
	for i := range z.Value().Data() {
		z.Value().Data()[i] = 7 // a fresh tape buffer may hold anything; recompute below
	}
	tp.Reset()
	z = tp.MatMul(a, b)
	require.Equal(t, []int{2, 3}, z.Value().Shape())
	require.Equal(t, make([]float64, 6), z.Value().Data(), "an empty inner dimension gives zeros")
	bt := NewVar(tensor.New[float64](3, 0), true)
	l := tp.Sum(tp.Linear(a, bt, NewVar(vec(1, 2, 3), true)))
	assert.Equal(t, 12.0, l.Value().Data()[0])
	require.NoError(t, tp.Backward(l))
	assert.Equal(t, []int{2, 0}, a.Grad().Shape())
	assert.Equal(t, []int{3, 0}, bt.Grad().Shape())

	tp.Reset()
	e := NewVar(tensor.New[float64](0, 4), true)
	s := tp.Sum(tp.Relu(e))
	assert.Equal(t, 0.0, s.Value().Data()[0])
	require.NoError(t, tp.Backward(s))
	assert.Equal(t, []int{0, 4}, e.Grad().Shape())
}

// ZeroGrad is lazy: the next Backward overwrites, Grad reads zeros if no
// Backward came first, and the tensor stays the same.
func TestLazyZeroGrad(t *testing.T) {
	w := NewVar(vec(1, 2, 3), true)
	u := NewVar(vec(5), true)
	tp := NewTape[float64]()
	require.NoError(t, tp.Backward(tp.Sum(tp.Mul(tp.Square(w), u))))
	g := w.Grad()
	require.Equal(t, []float64{10, 20, 30}, g.Data())
	w.ZeroGrad()
	u.ZeroGrad()
	tp.Reset()
	require.NoError(t, tp.Backward(tp.Sum(tp.Scale(w, 4)))) // u not reached
	require.Same(t, g, w.Grad())
	assert.Equal(t, []float64{4, 4, 4}, g.Data(), "overwritten, not added")
	assert.Equal(t, []float64{0}, u.Grad().Data(), "an unreached zeroed gradient reads as zero")
	tp.Reset()
	require.NoError(t, tp.Backward(tp.Sum(tp.Scale(tp.Mul(w, u), 1))))
	assert.Equal(t, []float64{9, 9, 9}, w.Grad().Data(), "added after a read")
	assert.Equal(t, []float64{6}, u.Grad().Data())
	require.Panics(t, func() { tp.Sum(w).SetRequiresGrad(false) })
	w.SetRequiresGrad(false)
	tp.Reset()
	require.ErrorIs(t, tp.Backward(tp.Sum(w)), ErrNoGrad)
}

// Strided leaves that are not plain transposes (column slices) are copied
// once per op; values and gradients match contiguous copies.
func TestStridedViews(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	base := randT(r, -1, 1, 4, 6)
	wbase := randT(r, -1, 1, 5, 3)
	run := func(x, w *tensor.Dense[float64]) (float64, []float64, []float64) {
		xv, wv := NewVar(x, true), NewVar(w, true)
		tp := NewTape[float64]()
		z := tp.MatMul(xv, wv)                                    // 4×3
		y := tp.Linear(xv, tp.Transpose(wv), nil)                 // same product through Linear (w read through its transpose flag)
		s := tp.Mul(tp.Reshape(xv, 2, 10), tp.Reshape(xv, 2, 10)) // strided input to a binary op, used twice
		l := tp.Add(tp.Add(weigh(tp, z), weigh(tp, tp.Tanh(y))), weigh(tp, s))
		require.NoError(t, tp.Backward(l))
		return l.Value().Data()[0], clone(xv.Grad().Data()), clone(wv.Grad().Data())
	}
	orig := clone(base.Data())
	xview := base.Slice(1, 1, 6) // 4×5, row stride 6
	wview := wbase.T().T()       // contiguous after all
	require.False(t, xview.IsContiguous())
	l1, gx1, gw1 := run(xview, wview)
	l2, gx2, gw2 := run(xview.Clone(), wview.Clone())
	assert.InDelta(t, l2, l1, 1e-13)
	assert.InDeltaSlice(t, gx2, gx1, 1e-13)
	assert.InDeltaSlice(t, gw2, gw1, 1e-13)
	assert.Equal(t, orig, base.Data(), "inputs unchanged")
}

// One tape per goroutine, sharing read-only leaves; concurrent Grad calls
// on a lazily zeroed leaf (an optimiser's parallel segments) are safe.
func TestConcurrentTapes(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	w := NewVar(randT(r, -1, 1, 20, 30), false)
	x := randT(r, -1, 1, 8, 20)
	want := func() float64 {
		tp := NewTape[float64]()
		return tp.Sum(tp.Tanh(tp.MatMul(tp.Const(x), w))).Value().Data()[0]
	}()
	done := make(chan float64, 4)
	for range 4 {
		go func() {
			tp := NewTape[float64]()
			var v float64
			for range 20 {
				v = tp.Sum(tp.Tanh(tp.MatMul(tp.Const(x), w))).Value().Data()[0]
				tp.Reset()
			}
			done <- v
		}()
	}
	for range 4 {
		require.Equal(t, want, <-done)
	}

	p := NewVar(randT(r, -1, 1, 100), true)
	tp := NewTape[float64]()
	require.NoError(t, tp.Backward(tp.Sum(p)))
	p.ZeroGrad()
	sums := make(chan float64, 4)
	for range 4 {
		go func() {
			var s float64
			for _, g := range p.Grad().Data() {
				s += g
			}
			sums <- s
		}()
	}
	for range 4 {
		require.Equal(t, 0.0, <-sums)
	}
}

func TestResetReusesBuffersAndTrim(t *testing.T) {
	x := NewVar(vec(1, 2, 3), true)
	tp := NewTape[float64]()
	h := tp.Exp(x)
	first := h.Value()
	tp.Reset()
	h = tp.Exp(x)
	require.Same(t, first, h.Value(), "the same op in the next step gets the same buffer")
	tp.Reset()
	tp.Trim()
	h = tp.Exp(x)
	require.NotSame(t, first, h.Value(), "after Trim buffers are new")
	assert.Equal(t, []float64{math.Exp(1), math.Exp(2), math.Exp(3)}, h.Value().Data())
}
