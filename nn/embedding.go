package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Embedding is a lookup table of Num vectors of Dim elements, W of shape
// [Num, Dim] as PyTorch's nn.Embedding stores it (so its weight moves
// between the two unchanged).
type Embedding[T tensor.Float] struct {
	Num, Dim int
	Weight   *autograd.Var[T]
}

// ints lends index scratch to forward passes (tp.Embedding copies the
// indices, so the scratch goes back at once): layers keep no per-call
// state, so goroutines may share a model, and a warm step allocates
// nothing. Unlike a sync.Pool it is not emptied by a GC; it holds as many
// buffers as forward passes ever ran at once.
var ints intPool

type intPool struct {
	mu   sync.Mutex
	free []*[]int
}

func (p *intPool) Get() *[]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return new([]int)
}

func (p *intPool) Put(b *[]int) {
	p.mu.Lock()
	p.free = append(p.free, b)
	p.mu.Unlock()
}

// NewEmbedding returns a table with entries drawn from N(0, std²) (GPT-2
// and nanoGPT use std 0.02). It panics (wrapping ErrArg) if num or dim < 1,
// std is negative, NaN or Inf, or rng is nil.
func NewEmbedding[T tensor.Float](rng *rand.Rand, num, dim int, std float64) *Embedding[T] {
	if num < 1 || dim < 1 || !(std >= 0) || math.IsInf(std, 1) {
		panic(fmt.Errorf("%w: NewEmbedding: num %d, dim %d (both must be >= 1), std %g (must be finite and >= 0)", ErrArg, num, dim, std))
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
	buf := ints.Get()
	defer ints.Put(buf)
	idx := (*buf)[:0]
	for i, v := range x.Value().Contiguous().Data() {
		r := int(v)
		if T(r) != v || r < 0 || r >= e.Num {
			panic(fmt.Errorf("%w: Embedding.Forward: element %d of x is %v, not an index in [0, %d)", ErrArg, i, v, e.Num))
		}
		idx = append(idx, r)
	}
	*buf = idx
	return tp.Embedding(e.Weight, idx)
}

// Members names the table "weight".
func (e *Embedding[T]) Members(m *Members[T]) { m.Param("weight", e.Weight) }
