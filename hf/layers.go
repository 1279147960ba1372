package hf

import (
	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/tensor"
)

// The building blocks nn lacks, each holding its parameters under
// PyTorch's names (weight, bias) in the checkpoints' layouts. Linear,
// Embedding and LayerNorm are nn's.

// Conv1D is GPT-2's Conv1D, a Linear whose Weight is stored [in, out]:
// y = x·W + b.
type Conv1D[T tensor.Float] struct {
	Weight, Bias *autograd.Var[T]
}

// Forward records x·W + b for x of shape [n, in].
func (l *Conv1D[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Add(tp.MatMul(x, l.Weight), l.Bias)
}

// Members names "weight" and "bias".
func (l *Conv1D[T]) Members(m *nn.Members[T]) {
	m.Param("weight", l.Weight)
	m.Param("bias", l.Bias)
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

// Members names "weight".
func (l *RMSNorm[T]) Members(m *nn.Members[T]) { m.Param("weight", l.Weight) }

// geluErf records GELU in its exact form, x·Φ(x) (BERT's "gelu",
// torch's F.gelu with approximate='none').
func geluErf[T tensor.Float](tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.GeluErf(x)
}

// silu records x·σ(x).
func silu[T tensor.Float](tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Mul(x, tp.Sigmoid(x))
}

func param[T tensor.Float](shape ...int) *autograd.Var[T] {
	return autograd.NewVar(tensor.New[T](shape...), true)
}

func newLinear[T tensor.Float](in, out int, bias bool) *nn.Linear[T] {
	l := &nn.Linear[T]{In: in, Out: out, Weight: param[T](out, in)}
	if bias {
		l.Bias = param[T](out)
	}
	return l
}

func newLayerNorm[T tensor.Float](n int, eps float64) *nn.LayerNorm[T] {
	return &nn.LayerNorm[T]{Dim: n, Eps: eps, Weight: autograd.NewVar(tensor.Ones[T](n), true), Bias: param[T](n)}
}

func newEmbedding[T tensor.Float](num, dim int) *nn.Embedding[T] {
	return &nn.Embedding[T]{Num: num, Dim: dim, Weight: param[T](num, dim)}
}
