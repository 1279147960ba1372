package nn

import (
	"strconv"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Sequential applies its layers in order. Members are named by position,
// as PyTorch's nn.Sequential names them: "0.weight", "0.bias",
// "2.weight"... (a layer without parameters still takes its index).
type Sequential[T tensor.Float] struct {
	Layers []Layer[T]
}

// NewSequential returns the layers composed in order.
func NewSequential[T tensor.Float](layers ...Layer[T]) *Sequential[T] {
	return &Sequential[T]{Layers: layers}
}

// Forward records every layer applied in turn.
func (s *Sequential[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	for _, l := range s.Layers {
		x = l.Forward(tp, x)
	}
	return x
}

// Members names each layer by its index.
func (s *Sequential[T]) Members(m *Members[T]) {
	for i, l := range s.Layers {
		m.Module(strconv.Itoa(i), l)
	}
}

// Act is an activation as a Layer, for use in a Sequential.
type Act[T tensor.Float] struct{ Fn Activation }

// Members names nothing.
func (Act[T]) Members(*Members[T]) {}

// Forward records the activation applied to x.
func (a Act[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return Activate(tp, a.Fn, x)
}

var (
	_ Layer[float32] = (*Linear[float32])(nil)
	_ Layer[float32] = (*Sequential[float32])(nil)
	_ Layer[float32] = Act[float32]{}
	_ Layer[float32] = (*BatchNorm2d[float32])(nil)
	_ Layer[float32] = (*Dropout[float32])(nil)
	_ Layer[float32] = (*Conv2d[float32])(nil)
)
