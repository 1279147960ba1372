package nn

import (
	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// MaxPool2d is max pooling as a layer (autograd's MaxPool2d); it has no
// parameters. MaxPool2d[T]{Options: autograd.Pool2dOptions{Kernel: [2]int{2, 2}}}
// halves each side, as PyTorch's nn.MaxPool2d(2).
type MaxPool2d[T tensor.Float] struct{ Options autograd.Pool2dOptions }

// Forward records the pooling of x ([N, C, H, W]).
func (p MaxPool2d[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.MaxPool2d(x, p.Options)
}

// Members names nothing.
func (MaxPool2d[T]) Members(*Members[T]) {}

// AvgPool2d is average pooling as a layer (autograd's AvgPool2d).
type AvgPool2d[T tensor.Float] struct{ Options autograd.Pool2dOptions }

// Forward records the pooling of x ([N, C, H, W]).
func (p AvgPool2d[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.AvgPool2d(x, p.Options)
}

// Members names nothing.
func (AvgPool2d[T]) Members(*Members[T]) {}

// GlobalAvgPool2d averages each channel over H and W, [N, C, 1, 1]
// (PyTorch's nn.AdaptiveAvgPool2d(1)).
type GlobalAvgPool2d[T tensor.Float] struct{}

// Forward records the pooling of x ([N, C, H, W]).
func (GlobalAvgPool2d[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.GlobalAvgPool2d(x)
}

// Members names nothing.
func (GlobalAvgPool2d[T]) Members(*Members[T]) {}

// Flatten reshapes [N, d1, d2, ...] to [N, d1·d2·...] (PyTorch's
// nn.Flatten()), a view of contiguous input.
type Flatten[T tensor.Float] struct{}

// Forward records the reshape of x (at least 1-D).
func (Flatten[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Reshape(x, x.Shape()[0], -1)
}

// Members names nothing.
func (Flatten[T]) Members(*Members[T]) {}
