package autograd

import (
	"math"

	"github.com/adjoint-go/adjoint/tensor"
)

// axisOf resolves a possibly negative axis (−1 is the last) of shape.
func axisOf(op string, axis int, shape []int) int {
	a := axis
	if a < 0 {
		a += len(shape)
	}
	if a < 0 || a >= len(shape) {
		fail(ErrIndex, "%s: axis %d out of range for shape %v", op, axis, shape)
	}
	return a
}

// split views shape as outer × n × inner around axis ax.
func split(shape []int, ax int) (outer, n, inner int) {
	outer, inner = 1, 1
	for _, d := range shape[:ax] {
		outer *= d
	}
	for _, d := range shape[ax+1:] {
		inner *= d
	}
	return outer, shape[ax], inner
}

// without returns shape minus axis ax, in the tape's shape scratch.
func (tp *Tape[T]) without(shape []int, ax int) []int {
	tp.shp = append(append(tp.shp[:0], shape[:ax]...), shape[ax+1:]...)
	return tp.shp
}

// Sum returns the sum of all elements as a scalar (shape []). The sum is
// accumulated in float64.
func (tp *Tape[T]) Sum(a *Var[T]) *Var[T] { return tp.sumAll("Sum", a, false) }

// Mean returns the mean of all elements as a scalar (shape []).
func (tp *Tape[T]) Mean(a *Var[T]) *Var[T] { return tp.sumAll("Mean", a, true) }

// sumAllNode is the saved state of Sum and Mean.
type sumAllNode[T tensor.Float] struct {
	x    *Var[T]
	mean bool
}

var sumAllKey = newPoolKey()

func (tp *Tape[T]) sumAll(op string, a *Var[T], mean bool) *Var[T] {
	tp.check(op, a)
	x, _ := tp.contig(a.value)
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	if mean {
		s /= float64(len(x)) // NaN for no elements, as 0/0
	}
	out := tp.alloc()
	out.Data()[0] = T(s)
	n := newNode[sumAllNode[T]](tp, sumAllKey)
	n.x, n.mean = a, mean
	return tp.record(op, n, out, a, nil, nil)
}

func (n *sumAllNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a := n.x
	if !a.requiresGrad {
		return
	}
	g := u.grad.Data()[0]
	ga, acc := tp.grad(a)
	if n.mean {
		g /= T(len(ga))
	}
	if acc {
		for i := range ga {
			ga[i] += g
		}
	} else {
		for i := range ga {
			ga[i] = g
		}
	}
}

// SumAxis returns the sum along axis (negative counts from the end), with
// that axis removed from the shape (reshape to keep it). It panics
// (ErrIndex) if the axis is out of range.
func (tp *Tape[T]) SumAxis(a *Var[T], axis int) *Var[T] { return tp.sumAxis("SumAxis", a, axis, false) }

// MeanAxis returns the mean along axis, with that axis removed, as SumAxis.
func (tp *Tape[T]) MeanAxis(a *Var[T], axis int) *Var[T] {
	return tp.sumAxis("MeanAxis", a, axis, true)
}

// sumAxisNode is the saved state of SumAxis and MeanAxis.
type sumAxisNode[T tensor.Float] struct {
	x    *Var[T]
	axis int // resolved, non-negative
	mean bool
}

var sumAxisKey = newPoolKey()

func (tp *Tape[T]) sumAxis(name string, a *Var[T], axis int, mean bool) *Var[T] {
	tp.check(name, a)
	shape := a.value.Shape()
	ax := axisOf(name, axis, shape)
	// tensor's reduction reads a in place, strided or not, splits the
	// outputs across threads and sums each in a fixed order.
	out := tp.alloc(tp.without(shape, ax)...)
	if mean {
		out.MeanAxis(a.value, ax)
	} else {
		out.SumAxis(a.value, ax)
	}
	nd := newNode[sumAxisNode[T]](tp, sumAxisKey)
	nd.x, nd.axis, nd.mean = a, ax, mean
	return tp.record(name, nd, out, a, nil, nil)
}

func (nd *sumAxisNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a := nd.x
	if !a.requiresGrad {
		return
	}
	outer, n, inner := split(a.value.Shape(), nd.axis)
	g := u.grad.Data()
	ga, acc := tp.grad(a)
	s := T(1)
	if nd.mean {
		s = 1 / T(n)
	}
	for i := range outer {
		gi := g[i*inner : i*inner+inner]
		for k := range n {
			r := ga[(i*n+k)*inner : (i*n+k)*inner+inner]
			for j, v := range gi {
				put(r, j, acc, s*v)
			}
		}
	}
}

// LogSumExp returns log Σ exp(a) along axis, with the axis removed,
// computed stably (the maximum is subtracted first). A slice that is all
// −Inf gives −Inf with a zero adjoint; −Inf elements get a zero adjoint.
func (tp *Tape[T]) LogSumExp(a *Var[T], axis int) *Var[T] {
	tp.check("LogSumExp", a)
	shape := a.value.Shape()
	ax := axisOf("LogSumExp", axis, shape)
	_, cx := tp.contig(a.value) // backward reads it row by row
	out := tp.alloc(tp.without(shape, ax)...)
	out.LogSumExpAxis(tensorOf(a.value, cx), ax)
	n := newNode[logSumExpNode[T]](tp, logSumExpKey)
	n.x, n.axis, n.xc = a, ax, cx
	return tp.record("LogSumExp", n, out, a, nil, nil)
}

// logSumExpNode is the saved state of LogSumExp.
type logSumExpNode[T tensor.Float] struct {
	x    *Var[T]
	axis int
	xc   *tensor.Dense[T] // contiguous copy of a strided input, or nil
}

var logSumExpKey = newPoolKey()

// tensorOf is the saved input of a node as a tensor: the contiguous copy
// contig made, or the value itself.
func tensorOf[T tensor.Float](d, copied *tensor.Dense[T]) *tensor.Dense[T] {
	if copied != nil {
		return copied
	}
	return d
}

func (nd *logSumExpNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a := nd.x
	if !a.requiresGrad {
		return
	}
	outer, n, inner := split(a.value.Shape(), nd.axis)
	in := tensorOf(a.value, nd.xc)
	x := in.Data()
	// ∂lse/∂x = softmax(x), recomputed from the input by tensor's kernel:
	// e^(x−lse) would lose the digits that lse = m + log s rounded away.
	p := tp.allocLike(a.value)
	p.Softmax(in, nd.axis)
	pd := p.Data()
	h, g := u.value.Data(), u.grad.Data()
	ga, acc := tp.grad(a)
	for i := range outer {
		for j := range inner {
			hv, gv := h[i*inner+j], g[i*inner+j]
			base := i*n*inner + j
			finite := !math.IsInf(float64(hv), 0) && hv == hv
			for k := range n {
				q := base + k*inner
				var t T
				switch {
				case finite:
					t = gv * pd[q]
				case !math.IsInf(float64(hv), -1):
					// +Inf or NaN: e^(x−lse) is 0, or NaN where x is
					// +Inf or NaN, as PyTorch's adjoint.
					t = gv * expT(x[q]-hv)
				}
				put(ga, q, acc, t)
			}
		}
	}
}

// Softmax returns exp(a)/Σ exp(a) along axis (same shape), computed
// stably by tensor's kernel as e^(a−m)/Σ e^(a−m), m the maximum (a row
// holding +Inf, or all −Inf, gives NaN, as NumPy and PyTorch). Backward:
// ā += h ⊙ (h̄ − Σ h̄⊙h).
func (tp *Tape[T]) Softmax(a *Var[T], axis int) *Var[T] { return tp.softmax("Softmax", a, axis, false) }

// LogSoftmax returns a − log Σ exp(a) along axis (same shape), computed
// stably by tensor's kernel as (a − m) − log Σ e^(a−m), m the maximum.
// Backward: ā += h̄ − exp(h)·Σ h̄.
func (tp *Tape[T]) LogSoftmax(a *Var[T], axis int) *Var[T] {
	return tp.softmax("LogSoftmax", a, axis, true)
}

// softmaxNode is the saved state of Softmax and LogSoftmax (backward
// reads the output).
type softmaxNode[T tensor.Float] struct {
	x    *Var[T]
	axis int
	log  bool
}

var softmaxKey = newPoolKey()

func (tp *Tape[T]) softmax(name string, a *Var[T], axis int, log bool) *Var[T] {
	tp.check(name, a)
	ax := axisOf(name, axis, a.value.Shape())
	out := tp.allocLike(a.value)
	if log {
		out.LogSoftmax(a.value, ax)
	} else {
		out.Softmax(a.value, ax)
	}
	n := newNode[softmaxNode[T]](tp, softmaxKey)
	n.x, n.axis, n.log = a, ax, log
	return tp.record(name, n, out, a, nil, nil)
}

func (n *softmaxNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a := n.x
	if !a.requiresGrad {
		return
	}
	ga, acc := tp.gradDense(a)
	d := ga
	if acc {
		d = tp.allocLike(ga) // the term, added below
	}
	if n.log {
		d.LogSoftmaxBackward(u.value, u.grad, n.axis)
	} else {
		d.SoftmaxBackward(u.value, u.grad, n.axis)
	}
	if acc {
		ga.Add(ga, d)
	}
}
