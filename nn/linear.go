package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Linear is a fully connected layer y = x·Wᵀ + b for x of shape
// [..., In], as PyTorch's nn.Linear: Weight has PyTorch's shape [Out, In]
// (multiplied through GEMM's transpose flag, never copied), Bias [Out] or
// nil (no bias). The state_dict names are "weight" and "bias".
type Linear[T tensor.Float] struct {
	In, Out      int
	Weight, Bias *autograd.Var[T]
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
	return &Linear[T]{
		In: in, Out: out,
		Weight: autograd.NewVar(drawTransposed(in, out, func(w *tensor.Dense[T]) { Initialize(rng, w, init, in, out) }), true),
		Bias:   autograd.NewVar(tensor.New[T](out), true),
	}
}

// drawTransposed returns an [out, in] weight whose transpose fill drew
// (in row-major [in, out] order), so that a seed gives the same function
// as it did when this package stored Linear weights [in, out].
func drawTransposed[T tensor.Float](in, out int, fill func(*tensor.Dense[T])) *tensor.Dense[T] {
	w := tensor.New[T](in, out)
	fill(w)
	return w.T().Clone()
}

// Forward records x·Wᵀ + b on tp (one fused autograd op): x is [..., In],
// the result [..., Out].
func (l *Linear[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Linear(x, l.Weight, l.Bias)
}

// Members names "weight" and "bias" (none when Bias is nil).
func (l *Linear[T]) Members(m *Members[T]) {
	m.Param("weight", l.Weight)
	m.Param("bias", l.Bias)
}
