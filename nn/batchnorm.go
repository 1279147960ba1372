package nn

import (
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// BatchNorm2d normalises each channel over the batch and the image
// (autograd's BatchNorm2d), with a learned scale and shift, as PyTorch's
// nn.BatchNorm2d: parameters "weight" (γ, ones) and "bias" (β, zeros),
// buffers "running_mean" (zeros) and "running_var" (ones), all [C].
// (PyTorch also keeps num_batches_tracked, used only when its momentum is
// None; it is not saved here.)
//
// A new layer is in training mode, as a new PyTorch module is: batch
// statistics, running statistics updated each Forward. SetTraining(false)
// switches to evaluation: the running statistics, unchanged.
type BatchNorm2d[T tensor.Float] struct {
	C                   int
	Weight, Bias        *autograd.Var[T]
	RunningMean, RunVar *tensor.Dense[T]
	Momentum, Eps       float64 // 0: PyTorch's 0.1 and 1e-5
	eval                bool
}

// NewBatchNorm2d returns a layer over c channels. It panics (wrapping
// ErrArg) if c < 1.
func NewBatchNorm2d[T tensor.Float](c int) *BatchNorm2d[T] {
	if c < 1 {
		panic(fmt.Errorf("%w: NewBatchNorm2d: %d channels (must be >= 1)", ErrArg, c))
	}
	return &BatchNorm2d[T]{C: c,
		Weight:      autograd.NewVar(tensor.Full[T](1, c), true),
		Bias:        autograd.NewVar(tensor.New[T](c), true),
		RunningMean: tensor.New[T](c), RunVar: tensor.Full[T](1, c)}
}

// Forward records the normalisation of x ([N, C, H, W]).
func (l *BatchNorm2d[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.BatchNorm2d(x, l.Weight, l.Bias, l.RunningMean, l.RunVar,
		autograd.BatchNormOptions{Training: !l.eval, Momentum: l.Momentum, Eps: l.Eps})
}

// SetTraining switches between training (on) and evaluation mode.
func (l *BatchNorm2d[T]) SetTraining(on bool) { l.eval = !on }

// NamedParams returns prefix+"weight" and prefix+"bias".
func (l *BatchNorm2d[T]) NamedParams(prefix string) []Param[T] {
	return []Param[T]{{prefix + "weight", l.Weight}, {prefix + "bias", l.Bias}}
}

// NamedBuffers returns prefix+"running_mean" and prefix+"running_var".
func (l *BatchNorm2d[T]) NamedBuffers(prefix string) []Buffer[T] {
	return []Buffer[T]{{prefix + "running_mean", l.RunningMean}, {prefix + "running_var", l.RunVar}}
}
