package nn

import (
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// LayerNorm normalises the last axis (Dim elements) of its input and
// applies an elementwise affine map: y = (x − mean)/√(var + Eps)·W + B, as
// torch.nn.LayerNorm (biased variance; W starts at 1, B at 0). B is nil for
// a LayerNorm without bias (nanoGPT's bias=False).
type LayerNorm[T tensor.Float] struct {
	Dim          int
	Eps          float64
	Weight, Bias *autograd.Var[T]
}

// NewLayerNorm returns a LayerNorm over dim elements with PyTorch's eps
// 1e-5, weight 1 and, with bias, bias 0. It panics (wrapping ErrArg) if dim
// < 1.
func NewLayerNorm[T tensor.Float](dim int, bias bool) *LayerNorm[T] {
	if dim < 1 {
		panic(fmt.Errorf("%w: NewLayerNorm: dim %d < 1", ErrArg, dim))
	}
	w := tensor.New[T](dim)
	w.Fill(1)
	l := &LayerNorm[T]{Dim: dim, Eps: 1e-5, Weight: autograd.NewVar(w, true)}
	if bias {
		l.Bias = autograd.NewVar(tensor.New[T](dim), true)
	}
	return l
}

// Forward records the normalisation of x over its last axis (one fused
// autograd op).
func (l *LayerNorm[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.LayerNorm(x, l.Weight, l.Bias, l.Eps)
}

// Members names "weight" and, with a bias, "bias".
func (l *LayerNorm[T]) Members(m *Members[T]) {
	m.Param("weight", l.Weight)
	m.Param("bias", l.Bias)
}
