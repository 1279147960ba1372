package autograd

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// The expected values below were printed by PyTorch 1.13 (/usr/bin/python3),
// e.g. for float64
//
//	z = torch.tensor([[1e8, 1e8]], dtype=torch.float64, requires_grad=True)
//	loss = torch.nn.functional.cross_entropy(z, torch.tensor([1]))
//	loss.backward(); print(repr(loss.item()), z.grad.tolist())
//
// and likewise torch.log_softmax(z, dim=1), torch.softmax(z, dim=1) and
// the gradient of log_softmax(z)[0, 1], for z = [1e8, 1e8] and
// [1e8, 1e8 − 1], in float32 and float64 (float32 values widened to
// float64 by .item() and .tolist(), so they are compared as float32).
//
// PyTorch's own logsumexp backward forms e^(z − lse) and loses the digits
// this issue is about (it prints 0.49999999904767284 for [1e8, 1e8] in
// float64, and 1.0 in float32); its derivative is softmax(z), so the
// LogSumExp gradient is checked against torch.softmax's values instead.
type stableCase struct {
	name       string
	z          []float64
	label      int
	ce         float64    // cross_entropy(z, [label])
	ceGrad     [2]float64 // its gradient
	logSoftmax [2]float64
	softmax    [2]float64 // also LogSumExp's gradient
	dLogSm1    [2]float64 // gradient of log_softmax(z)[0, 1]
}

var stable64 = []stableCase{
	{"[1e8, 1e8]", []float64{1e8, 1e8}, 1,
		0.6931471805599453, [2]float64{0.5, -0.5},
		[2]float64{-0.6931471805599453, -0.6931471805599453},
		[2]float64{0.5, 0.5},
		[2]float64{-0.5, 0.5}},
	{"[1e8, 1e8-1]", []float64{1e8, 1e8 - 1}, 1,
		1.3132616875182228, [2]float64{0.7310585786300049, -0.7310585786300049},
		[2]float64{-0.31326168751822286, -1.3132616875182228},
		[2]float64{0.7310585786300049, 0.26894142136999516},
		[2]float64{-0.7310585786300049, 0.7310585786300049}},
}

// In float32, 1e8 − 1 rounds to 1e8: both cases are [1e8, 1e8].
var stable32 = stableCase{"[1e8, 1e8]", []float64{1e8, 1e8}, 1,
	0.6931471824645996, [2]float64{0.5, -0.5},
	[2]float64{-0.6931471824645996, -0.6931471824645996},
	[2]float64{0.5, 0.5},
	[2]float64{-0.5, 0.5}}

// checkStable runs CrossEntropy, LogSoftmax, Softmax and LogSumExp on the
// case's logits and compares values and gradients with tol (relative).
func checkStable[T tensor.Float](t *testing.T, c stableCase, tol float64) {
	leaf := func() *Var[T] {
		return NewVar(tensor.FromSlice([]T{T(c.z[0]), T(c.z[1])}, 1, 2), true)
	}
	near := func(want, got float64, what string) {
		t.Helper()
		if want == 0 {
			assert.Equal(t, want, got, what)
			return
		}
		assert.InEpsilon(t, want, got, tol, "%s: want %.17g, got %.17g", what, want, got)
	}
	tp := NewTape[T]()

	z := leaf()
	loss := tp.CrossEntropy(z, []int{c.label})
	near(c.ce, float64(loss.Value().Data()[0]), "cross-entropy")
	require.NoError(t, tp.Backward(loss))
	for j := range 2 {
		near(c.ceGrad[j], float64(z.Grad().Data()[j]), "cross-entropy gradient")
	}

	tp.Reset()
	z = leaf()
	ls := tp.LogSoftmax(z, 1)
	sel := tp.Const(tensor.FromSlice([]T{0, 1}, 1, 2))
	for j := range 2 {
		near(c.logSoftmax[j], float64(ls.Value().Data()[j]), "log-softmax")
	}
	require.NoError(t, tp.Backward(tp.Sum(tp.Mul(ls, sel))))
	for j := range 2 {
		near(c.dLogSm1[j], float64(z.Grad().Data()[j]), "log-softmax gradient")
	}

	tp.Reset()
	sm := tp.Softmax(leaf(), 1)
	for j := range 2 {
		near(c.softmax[j], float64(sm.Value().Data()[j]), "softmax")
	}

	tp.Reset()
	z = leaf()
	require.NoError(t, tp.Backward(tp.Sum(tp.LogSumExp(z, 1))))
	for j := range 2 {
		near(c.softmax[j], float64(z.Grad().Data()[j]), "log-sum-exp gradient")
	}
}

// TestLargeLogits: issue 9 item 7. Logits [1e8, 1e8], label 1 gave a
// float32 loss of 0 (PyTorch: ln 2), a float64 loss of 0.6931471824645996
// (PyTorch 0.6931471805599453) and a gradient of 0.49999999905 instead of
// 0.5, because the loss was (m + log Σ e^(z−m)) − z_y and the
// probabilities e^(z−lse).
func TestLargeLogits(t *testing.T) {
	for _, c := range stable64 {
		t.Run("float64/"+c.name, func(t *testing.T) { checkStable[float64](t, c, 1e-15) })
	}
	t.Run("float32/"+stable32.name, func(t *testing.T) { checkStable[float32](t, stable32, 1e-7) })

	// Rows whose maximum is not finite give what NumPy (exp(z − max) over
	// its sum) and PyTorch 1.13 print for z = [+Inf, 0]: softmax and
	// log_softmax [nan, nan], logsumexp +Inf with gradient [nan, 0].
	tp := NewTape[float64]()
	inf := math.Inf(1)
	sm := tp.Softmax(tp.Const(tensor.FromSlice([]float64{inf, 0}, 1, 2)), 1).Value().Data()
	assert.True(t, math.IsNaN(sm[0]) && math.IsNaN(sm[1]), "softmax %v", sm)
	lsm := tp.LogSoftmax(tp.Const(tensor.FromSlice([]float64{inf, 0}, 1, 2)), 1).Value().Data()
	assert.True(t, math.IsNaN(lsm[0]) && math.IsNaN(lsm[1]), "log_softmax %v", lsm)
	zi := NewVar(tensor.FromSlice([]float64{inf, 0}, 1, 2), true)
	li := tp.LogSumExp(zi, 1)
	assert.True(t, math.IsInf(li.Value().Data()[0], 1))
	require.NoError(t, tp.Backward(tp.Sum(li)))
	assert.True(t, math.IsNaN(zi.Grad().Data()[0]))
	assert.Equal(t, 0.0, zi.Grad().Data()[1])
	lse := tp.LogSumExp(tp.Const(tensor.FromSlice([]float64{math.Inf(-1), math.Inf(-1)}, 1, 2)), 1).Value().Data()
	assert.True(t, math.IsInf(lse[0], -1))
}
