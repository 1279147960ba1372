package autograd

import (
	"sync"
	"sync/atomic"

	"github.com/adjoint-go/adjoint/tensor"
)

// Var is a value in a computation: a leaf made by NewVar (a parameter or an
// input) or a node recorded by an op on a Tape. It holds the value and, once
// Backward has reached it, its adjoint (gradient).
//
// Nodes belong to their tape and are recycled by Tape.Reset: a node must
// not be used after the Reset that follows its step. Ops panic with
// ErrMisuse on such a node until the tape reuses its struct for a node of
// a later step; from then on the old pointer silently means the new node.
// Leaves live as long as the caller keeps them.
type Var[T tensor.Float] struct {
	value *tensor.Dense[T]
	grad  *tensor.Dense[T]

	requiresGrad bool
	keepGrad     bool
	leaf         bool
	// fresh: grad holds no contribution from the current backward pass
	// yet, so the first contribution overwrites it instead of adding.
	fresh bool
	// lazy: a leaf's ZeroGrad state (nil for nodes).
	lazy *lazyZero

	tape *Tape[T]
	gen  uint64
	id   int

	// What the node computed: the op's name and its typed node (saved
	// state and backward; nil for a leaf, Const and Detach).
	op string
	fn node[T]
}

// NewVar returns a leaf holding value (not copied: the Var reads and, for an
// optimiser, updates value's storage). A leaf is tied to no tape and can be
// used by any number of tapes and steps. With requiresGrad, Backward
// accumulates its gradient into Grad. It panics if value is nil.
func NewVar[T tensor.Float](value *tensor.Dense[T], requiresGrad bool) *Var[T] {
	if value == nil {
		fail(ErrMisuse, "NewVar: nil value")
	}
	return &Var[T]{value: value, requiresGrad: requiresGrad, leaf: true, lazy: new(lazyZero)}
}

// lazyZero records that ZeroGrad zeroed a leaf's gradient without touching
// it: it reads as zero, and the next contribution overwrites it. Grad may
// be called from several goroutines (an optimiser's parallel segments), so
// the deferred clear happens once, under a lock.
type lazyZero struct {
	pending atomic.Bool
	mu      sync.Mutex
}

// Value returns the value. For a leaf it is the tensor given to NewVar; for
// a node it is owned by the tape and valid until Reset.
func (v *Var[T]) Value() *tensor.Dense[T] { return v.value }

// Item returns the one element of v's value (a scalar, or any shape of
// size 1), as PyTorch's loss.item(): the usual way to read a loss. It panics
// (ErrShape) for a nil Var or any other size.
func (v *Var[T]) Item() T {
	if v == nil {
		fail(ErrShape, "Item: nil Var")
	}
	if n := v.value.Size(); n != 1 {
		fail(ErrShape, "Item: Var made by %s has shape %v (%d elements, not 1)", v.Op(), v.value.Shape(), n)
	}
	return v.value.Item()
}

// Shape returns the value's shape. The slice must not be modified.
func (v *Var[T]) Shape() []int { return v.value.Shape() }

// Grad returns the adjoint ∂loss/∂v. For a leaf it is the gradient
// accumulated over every Backward since the last ZeroGrad, nil until a
// Backward first reaches the leaf; it is always the same tensor. Because
// ZeroGrad is lazy, read a leaf's gradient through Grad after a ZeroGrad
// rather than through a pointer kept from before it. For a node it is nil
// unless KeepGrad was called before Backward and the pass reached the
// node; it is then read-only and valid until Reset.
func (v *Var[T]) Grad() *tensor.Dense[T] {
	if v.leaf {
		if z := v.lazy; z.pending.Load() {
			z.mu.Lock()
			if z.pending.Load() {
				clear(v.grad.Data())
				z.pending.Store(false)
			}
			z.mu.Unlock()
		}
		return v.grad
	}
	if !v.keepGrad || v.fresh {
		return nil
	}
	return v.grad
}

// ZeroGrad sets a leaf's gradient to zero, in place and lazily: it costs
// nothing now, the next Backward that reaches the leaf overwrites the
// buffer instead of adding to it (GEMMs run with beta = 0, so no zeroing
// pass and no read of the old values), and Grad clears it first if it is
// read before that. On a node, or a leaf that has no gradient yet, it does
// nothing.
func (v *Var[T]) ZeroGrad() {
	if v.leaf && v.grad != nil {
		v.lazy.pending.Store(true)
	}
}

// SetRequiresGrad switches whether Backward computes a gradient for a
// leaf (freeze or unfreeze a parameter); it affects ops recorded after the
// call. It panics (ErrMisuse) on a node.
func (v *Var[T]) SetRequiresGrad(on bool) {
	if !v.leaf {
		fail(ErrMisuse, "SetRequiresGrad: Var made by %s is not a leaf", v.op)
	}
	v.requiresGrad = on
}

// RequiresGrad reports whether Backward computes an adjoint for v: a leaf
// made with requiresGrad, or a node recorded outside no-grad mode with at
// least one input that requires it.
func (v *Var[T]) RequiresGrad() bool { return v.requiresGrad }

// IsLeaf reports whether v was made by NewVar.
func (v *Var[T]) IsLeaf() bool { return v.leaf }

// KeepGrad asks Backward to keep v's adjoint readable through Grad (nodes
// only; leaves always keep theirs). It returns v.
func (v *Var[T]) KeepGrad() *Var[T] {
	v.keepGrad = true
	return v
}

// Op returns the name of the op that made v ("Leaf" for a leaf).
func (v *Var[T]) Op() string {
	if v.leaf {
		return "Leaf"
	}
	return v.op
}
