package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Embedding is a lookup table of Num vectors of Dim elements, W of shape
// [Num, Dim] as PyTorch's nn.Embedding stores it (so its weight moves
// between the two unchanged).
type Embedding[T tensor.Float] struct {
	Num, Dim int
	Weight   *autograd.Var[T]
	idx      []int // Forward's scratch for the indices read from x
}

// NewEmbedding returns a table with entries drawn from N(0, std²) (GPT-2
// and nanoGPT use std 0.02). It panics (wrapping ErrArg) if num or dim < 1,
// std < 0 or rng is nil.
func NewEmbedding[T tensor.Float](rng *rand.Rand, num, dim int, std float64) *Embedding[T] {
	if num < 1 || dim < 1 || !(std >= 0) {
		panic(fmt.Errorf("%w: NewEmbedding: num %d, dim %d (both must be >= 1), std %g (must be >= 0)", ErrArg, num, dim, std))
	}
	if rng == nil {
		panic(fmt.Errorf("%w: NewEmbedding: nil rng", ErrArg))
	}
	w := tensor.New[T](num, dim)
	fillNormal(rng, w.Data(), std)
	return &Embedding[T]{Num: num, Dim: dim, Weight: autograd.NewVar(w, true)}
}

// Lookup records the rows of W at indices: a [len(indices), Dim] matrix. It
// panics (autograd.ErrIndex) if an index is outside [0, Num).
func (e *Embedding[T]) Lookup(tp *autograd.Tape[T], indices []int) *autograd.Var[T] {
	return tp.Embedding(e.Weight, indices)
}

// Forward is Lookup for indices held as the values of x (any shape, each
// element an integer in [0, Num), as PyTorch passes a LongTensor); the
// result is [x.Size(), Dim]. It panics (wrapping ErrArg) if an element is
// not an integer in range.
func (e *Embedding[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	e.idx = e.idx[:0]
	for i, v := range x.Value().Contiguous().Data() {
		r := int(v)
		if T(r) != v || r < 0 || r >= e.Num {
			panic(fmt.Errorf("%w: Embedding.Forward: element %d of x is %v, not an index in [0, %d)", ErrArg, i, v, e.Num))
		}
		e.idx = append(e.idx, r)
	}
	return tp.Embedding(e.Weight, e.idx)
}

// Members names the table "weight".
func (e *Embedding[T]) Members(m *Members[T]) { m.Param("weight", e.Weight) }
