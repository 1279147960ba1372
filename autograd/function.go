package autograd

import "github.com/adjoint-go/adjoint/tensor"

// Function is an op defined by its user, with its forward and backward,
// as PyTorch's torch.autograd.Function: Tape.Apply runs Forward and
// records a node whose backward is Backward, so the op takes part in
// Backward, NoGrad, anomaly mode and CheckGrad like a built-in one.
//
// Both methods compute on tensors, not Vars: they must not record ops on
// the tape, and must not modify the inputs. Whatever Backward needs from
// the forward pass it keeps with ctx.Save (or in the Function's own
// fields); buffers from ctx.Alloc are the tape's and are recycled at
// Reset, so an op written with them allocates nothing in a steady-state
// loop.
type Function[T tensor.Float] interface {
	// Forward returns the op's value for the inputs' values in (one per
	// input given to Apply, in order). It must not return nil.
	Forward(ctx *Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T]
	// Backward adds the op's contribution to the inputs' adjoints:
	// gradOut is ∂loss/∂output (the output's shape), and gradIn[i] is
	// input i's adjoint (its shape, contiguous) to add ∂loss/∂in[i] to, or
	// nil where input i needs no gradient (ctx.NeedsInputGrad(i) is
	// false). gradIn[i] holds zeros when this is the first contribution
	// of the pass. gradOut must not be modified.
	Backward(ctx *Context[T], gradOut *tensor.Dense[T], gradIn ...*tensor.Dense[T])
}

// Namer may be implemented by a Function to name its op in Var.Op and in
// anomaly reports; otherwise the name is "Function".
type Namer interface{ Name() string }

// Context is the node that Apply records for a Function: what its
// Backward may use from the forward pass. It is valid from Forward to the
// Reset that ends the step, and must not be kept beyond it.
type Context[T tensor.Float] struct {
	tape  *Tape[T]
	f     Function[T]
	ins   []*Var[T]
	vals  []*tensor.Dense[T]
	saved []*tensor.Dense[T]
	grads []*tensor.Dense[T]
	out   *tensor.Dense[T]
}

var functionKey = newPoolKey()

// clearRefs drops every reference and keeps the slices' capacity.
func (c *Context[T]) clearRefs() {
	clear(c.ins)
	clear(c.vals)
	clear(c.saved)
	*c = Context[T]{ins: c.ins[:0], vals: c.vals[:0], saved: c.saved[:0], grads: c.grads[:0]}
}

// Save keeps tensors for Backward (PyTorch's ctx.save_for_backward); Saved
// returns them in the order saved. They are not copied: a saved tensor must
// not change before Backward.
func (c *Context[T]) Save(ts ...*tensor.Dense[T]) { c.saved = append(c.saved, ts...) }

// Saved returns the tensors given to Save, in order. The slice must not be
// modified.
func (c *Context[T]) Saved() []*tensor.Dense[T] { return c.saved }

// Alloc returns a contiguous tensor of the given shape from the tape's
// buffers, recycled at Reset (its contents are arbitrary). A Forward that
// writes its output into one allocates nothing once the loop is steady.
func (c *Context[T]) Alloc(shape ...int) *tensor.Dense[T] { return c.tape.alloc(shape...) }

// NeedsInputGrad reports whether Backward must compute input i's adjoint
// (PyTorch's ctx.needs_input_grad). It panics (ErrIndex) if i is out of
// range.
func (c *Context[T]) NeedsInputGrad(i int) bool {
	if i < 0 || i >= len(c.ins) {
		fail(ErrIndex, "Context.NeedsInputGrad: input %d out of range for %d inputs", i, len(c.ins))
	}
	return c.ins[i].requiresGrad && !c.tape.noGrad
}

// Output returns the value Forward returned (nil during Forward).
func (c *Context[T]) Output() *tensor.Dense[T] { return c.out }

// Apply records the user-defined op f on inputs: it calls f.Forward with
// the inputs' values and returns its result as a node whose backward is
// f.Backward. The result requires a gradient if any input does (outside
// no-grad mode). It panics (ErrMisuse) if f is nil, an input is nil, from
// another tape or recycled, or Forward returns nil.
func (tp *Tape[T]) Apply(f Function[T], inputs ...*Var[T]) *Var[T] {
	if f == nil {
		fail(ErrMisuse, "Apply: nil Function")
	}
	name := "Function"
	if nm, ok := f.(Namer); ok {
		name = nm.Name()
	}
	for _, in := range inputs {
		tp.check(name, in)
	}
	c := newNode[Context[T]](tp, functionKey)
	c.tape, c.f = tp, f
	c.ins = append(c.ins[:0], inputs...)
	for _, in := range inputs {
		c.vals = append(c.vals, in.value)
	}
	out := f.Forward(c, c.vals...)
	if out == nil {
		fail(ErrMisuse, "Apply: %s: Forward returned nil", name)
	}
	c.out = out
	v := tp.record(name, c, out, nil, nil, nil)
	if !tp.noGrad {
		for _, in := range inputs {
			v.requiresGrad = v.requiresGrad || in.requiresGrad
		}
	}
	return v
}

func (c *Context[T]) backward(tp *Tape[T], u *Var[T]) {
	c.grads = c.grads[:0]
	need := false
	for _, in := range c.ins {
		var g *tensor.Dense[T]
		if in.requiresGrad {
			var acc bool
			g, acc = tp.gradDense(in)
			if !acc {
				clear(g.Data())
			}
			need = true
		}
		c.grads = append(c.grads, g)
	}
	if need {
		c.f.Backward(c, u.grad, c.grads...)
	}
	clear(c.grads)
}
