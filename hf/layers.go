package hf

import (
	"math"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// The building blocks, each holding its parameters under PyTorch's names
// (weight, bias) in PyTorch's layouts.

// Linear is torch.nn.Linear: y = x·Wᵀ + b with Weight [out, in], Bias
// [out] or nil.
type Linear[T tensor.Float] struct {
	Weight, Bias *autograd.Var[T]
}

// Forward records x·Wᵀ + b for x of shape [n, in].
func (l *Linear[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	y := tp.MatMulT(x, l.Weight, false, true)
	if l.Bias != nil {
		y = tp.Add(y, l.Bias)
	}
	return y
}

func (l *Linear[T]) visit(prefix string, f visitFunc[T]) {
	f(prefix+"weight", l.Weight)
	if l.Bias != nil {
		f(prefix+"bias", l.Bias)
	}
}

// Conv1D is GPT-2's Conv1D, a Linear whose Weight is stored [in, out]:
// y = x·W + b.
type Conv1D[T tensor.Float] struct {
	Weight, Bias *autograd.Var[T]
}

// Forward records x·W + b for x of shape [n, in].
func (l *Conv1D[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Add(tp.MatMul(x, l.Weight), l.Bias)
}

func (l *Conv1D[T]) visit(prefix string, f visitFunc[T]) {
	f(prefix+"weight", l.Weight)
	f(prefix+"bias", l.Bias)
}

// Embedding is torch.nn.Embedding: Weight [num, dim].
type Embedding[T tensor.Float] struct {
	Weight *autograd.Var[T]
}

func (e *Embedding[T]) visit(prefix string, f visitFunc[T]) { f(prefix+"weight", e.Weight) }

// LayerNorm is torch.nn.LayerNorm over the last axis.
type LayerNorm[T tensor.Float] struct {
	Weight, Bias *autograd.Var[T]
	Eps          float64
}

// Forward records the normalisation of x's rows.
func (l *LayerNorm[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.LayerNorm(x, l.Weight, l.Bias, l.Eps)
}

func (l *LayerNorm[T]) visit(prefix string, f visitFunc[T]) {
	f(prefix+"weight", l.Weight)
	f(prefix+"bias", l.Bias)
}

// RMSNorm is LlamaRMSNorm: y = w ⊙ x / √(mean(x²) + eps) over the last
// axis.
type RMSNorm[T tensor.Float] struct {
	Weight *autograd.Var[T]
	Eps    float64
}

// Forward records the normalisation of the rows of x ([n, c]).
func (l *RMSNorm[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	s := x.Shape()
	ms := tp.Reshape(tp.MeanAxis(tp.Square(x), 1), s[0], 1)
	r := tp.Sqrt(tp.AddScalar(ms, T(l.Eps)))
	return tp.Mul(tp.Div(x, r), l.Weight)
}

func (l *RMSNorm[T]) visit(prefix string, f visitFunc[T]) { f(prefix+"weight", l.Weight) }

// visitFunc receives each parameter with its full name.
type visitFunc[T tensor.Float] func(name string, v *autograd.Var[T])

// geluErf records GELU in its exact form, x·Φ(x) with Φ the normal CDF
// (BERT's "gelu", torch's F.gelu). The tape has no erf, so the value is
// x ⊙ Φ(x) with Φ(x) a constant computed here, and the missing part of the
// derivative, x·φ(x) (φ the normal density), comes from u − detach(u) for
// u = −φ(x): that adds exactly 0 to the value and u′ = x·φ(x) to the
// adjoint. The gradient is therefore exact: Φ(x) + x·φ(x).
func geluErf[T tensor.Float](tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	xv := x.Value().Contiguous()
	phi := tensor.New[T](xv.Shape()...)
	pd := phi.Data()
	for i, v := range xv.Data() {
		pd[i] = T(0.5 * (1 + math.Erf(float64(v)/math.Sqrt2)))
	}
	y := tp.Mul(x, tp.Const(phi))
	if noGrad(tp) {
		return y
	}
	u := tp.Scale(tp.Exp(tp.Scale(tp.Square(x), -0.5)), T(-1/math.Sqrt(2*math.Pi)))
	return tp.Add(y, tp.Sub(u, tp.Detach(u)))
}

// silu records x·σ(x).
func silu[T tensor.Float](tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Mul(x, tp.Sigmoid(x))
}

// noGrad reports whether tp records values only.
func noGrad[T tensor.Float](tp *autograd.Tape[T]) bool {
	on := tp.NoGrad(true)
	tp.NoGrad(on)
	return on
}
