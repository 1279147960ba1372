package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Param is a parameter with its stable name (the key it is saved under).
type Param[T tensor.Float] struct {
	Name string
	Var  *autograd.Var[T]
}

// Linear is a fully connected layer y = x·W + b for x of shape [batch, In],
// with W of shape [In, Out] and b of shape [Out]. (PyTorch stores the
// transpose, [Out, In].)
type Linear[T tensor.Float] struct {
	In, Out int
	W, B    *autograd.Var[T]
}

// NewLinear returns a layer with weights drawn from rng by init (fans In and
// Out) and zero bias. It panics (wrapping ErrArg) if in or out < 1 or rng
// is nil.
func NewLinear[T tensor.Float](rng *rand.Rand, in, out int, init Init) *Linear[T] {
	if in < 1 || out < 1 {
		panic(fmt.Errorf("%w: NewLinear: in %d, out %d (both must be >= 1)", ErrArg, in, out))
	}
	if rng == nil {
		panic(fmt.Errorf("%w: NewLinear: nil rng", ErrArg))
	}
	w := tensor.New[T](in, out)
	Initialize(rng, w, init, in, out)
	return &Linear[T]{
		In: in, Out: out,
		W: autograd.NewVar(w, true),
		B: autograd.NewVar(tensor.New[T](out), true),
	}
}

// Forward records x·W + b on tp (one fused autograd op).
func (l *Linear[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Linear(x, l.W, l.B)
}

// NamedParams returns the weight and bias named prefix+"weight" and
// prefix+"bias".
func (l *Linear[T]) NamedParams(prefix string) []Param[T] {
	return []Param[T]{{prefix + "weight", l.W}, {prefix + "bias", l.B}}
}
