package nn

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// BatchNorm2d normalises each channel over the batch and the image
// (autograd's BatchNorm2d), with a learned scale and shift, as PyTorch's
// nn.BatchNorm2d: parameters "weight" (γ, ones) and "bias" (β, zeros),
// buffers "running_mean" (zeros), "running_var" (ones), both [C], and
// "num_batches_tracked" (a scalar counting training batches, which PyTorch
// keeps as int64 and this package as T, exact up to 2^24 batches in
// float32; Save writes it as int64, as PyTorch does, and Load reads it
// from an integer or a float tensor).
//
// A new layer is in training mode, as a new PyTorch module is: batch
// statistics, running statistics updated each Forward. Train(m, false)
// switches to evaluation: the running statistics, unchanged.
//
// Momentum and Eps are settings, not defaults to fill in: NewBatchNorm2d
// sets PyTorch's 0.1 and 1e-5, and Momentum 0 means what it means in
// PyTorch, running statistics that never change. Cumulative is PyTorch's
// momentum=None: the running statistics are the plain average over all
// batches seen (momentum 1/num_batches_tracked), and Momentum is ignored.
type BatchNorm2d[T tensor.Float] struct {
	Mode
	C                       int
	Weight, Bias            *autograd.Var[T]
	RunningMean, RunningVar *tensor.Dense[T]
	NumBatchesTracked       *tensor.Dense[T] // scalar
	Momentum                float64          // in [0, 1]
	Cumulative              bool             // momentum=None
	Eps                     float64          // positive and finite
}

// NewBatchNorm2d returns a layer over c channels with PyTorch's defaults
// (momentum 0.1, eps 1e-5). It panics (wrapping ErrArg) if c < 1.
func NewBatchNorm2d[T tensor.Float](c int) *BatchNorm2d[T] {
	if c < 1 {
		panic(fmt.Errorf("%w: NewBatchNorm2d: %d channels (must be >= 1)", ErrArg, c))
	}
	return &BatchNorm2d[T]{C: c,
		Weight:            autograd.NewVar(tensor.Full[T](1, c), true),
		Bias:              autograd.NewVar(tensor.New[T](c), true),
		RunningMean:       tensor.New[T](c),
		RunningVar:        tensor.Full[T](1, c),
		NumBatchesTracked: tensor.New[T](),
		Momentum:          0.1, Eps: 1e-5}
}

// Validate reports a setting outside its range (wrapping ErrArg).
func (l *BatchNorm2d[T]) Validate() error {
	if !(l.Eps > 0) || math.IsInf(l.Eps, 0) {
		return fmt.Errorf("%w: BatchNorm2d: Eps %v is not positive and finite", ErrArg, l.Eps)
	}
	if !(l.Momentum >= 0 && l.Momentum <= 1) {
		return fmt.Errorf("%w: BatchNorm2d: Momentum %v is not in [0, 1]", ErrArg, l.Momentum)
	}
	return nil
}

// Forward records the normalisation of x ([N, C, H, W]); in training mode
// it also counts the batch and updates the running statistics, so it is
// not safe for concurrent use in training mode. It panics (wrapping ErrArg)
// if Validate fails.
func (l *BatchNorm2d[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	if err := l.Validate(); err != nil {
		panic(err)
	}
	rm, rv := l.RunningMean, l.RunningVar
	mom := l.Momentum
	if l.Training() {
		if l.NumBatchesTracked != nil {
			nb := l.NumBatchesTracked.Data()
			nb[0]++
			if l.Cumulative {
				mom = 1 / float64(nb[0])
			}
		}
		if mom == 0 { // running statistics never change: normalise with the batch's only
			rm, rv = nil, nil
		}
	}
	return tp.BatchNorm2d(x, l.Weight, l.Bias, rm, rv,
		autograd.BatchNormOptions{Training: l.Training(), Momentum: mom, Eps: l.Eps})
}

// Members names "weight", "bias", and the buffers "running_mean",
// "running_var" and "num_batches_tracked", as PyTorch does.
func (l *BatchNorm2d[T]) Members(m *Members[T]) {
	m.Param("weight", l.Weight)
	m.Param("bias", l.Bias)
	m.Buffer("running_mean", l.RunningMean)
	m.Buffer("running_var", l.RunningVar)
	m.IntBuffer("num_batches_tracked", l.NumBatchesTracked)
}

// checkState refuses a negative running variance (or a negative or
// fractional batch count) in a state dict about to be loaded.
func (l *BatchNorm2d[T]) checkState(prefix string, sd State[T]) error {
	if v, ok := sd[prefix+"running_var"]; ok {
		for i, x := range v.Contiguous().Data() {
			if x < 0 {
				return fmt.Errorf("%w: %s holds %v at %d (a variance must be >= 0)", ErrCheckpoint, quote(prefix+"running_var"), x, i)
			}
		}
	}
	if v, ok := sd[prefix+"num_batches_tracked"]; ok && v.Size() == 1 {
		if x := v.Contiguous().Data()[0]; x < 0 || x != T(math.Trunc(float64(x))) {
			return fmt.Errorf("%w: %s is %v (a batch count)", ErrCheckpoint, quote(prefix+"num_batches_tracked"), x)
		}
	}
	return nil
}
