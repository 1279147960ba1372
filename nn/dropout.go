package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Dropout zeroes elements with probability P in training mode, scaling the
// rest by 1/(1 − P) (autograd's Dropout), and passes its input through
// unchanged in evaluation mode. The masks come from the generator it was
// made with, so a seed fixes them. A new layer is in training mode.
type Dropout[T tensor.Float] struct {
	Mode
	P   float64
	rng *rand.Rand
}

// NewDropout returns a dropout layer drawing its masks from rng. It panics
// (wrapping ErrArg) if p is outside [0, 1] or rng is nil.
func NewDropout[T tensor.Float](rng *rand.Rand, p float64) *Dropout[T] {
	if !(p >= 0 && p <= 1) || math.IsNaN(p) {
		panic(fmt.Errorf("%w: NewDropout: p %v is not in [0, 1]", ErrArg, p))
	}
	if rng == nil {
		panic(fmt.Errorf("%w: NewDropout: nil rng", ErrArg))
	}
	return &Dropout[T]{P: p, rng: rng}
}

// Forward records dropout of x in training mode and returns x itself in
// evaluation mode.
func (d *Dropout[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	if !d.Training() {
		return x
	}
	return tp.Dropout(x, d.P, d.rng)
}

// Members names nothing.
func (*Dropout[T]) Members(*Members[T]) {}
