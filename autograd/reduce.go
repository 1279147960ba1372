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
func (tp *Tape[T]) Sum(a *Var[T]) *Var[T] { return tp.sumAll(opSum, a) }

// Mean returns the mean of all elements as a scalar (shape []).
func (tp *Tape[T]) Mean(a *Var[T]) *Var[T] { return tp.sumAll(opMean, a) }

func (tp *Tape[T]) sumAll(op opKind, a *Var[T]) *Var[T] {
	tp.check(op.String(), a)
	x, cx := tp.contig(a.value)
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	if op == opMean {
		s /= float64(len(x)) // NaN for no elements, as 0/0
	}
	out := tp.alloc()
	out.Data()[0] = T(s)
	v := tp.node(op, out, a, nil, nil)
	v.aux = cx
	return v
}

func (tp *Tape[T]) backSumAll(u *Var[T]) {
	a := u.a
	if !a.requiresGrad {
		return
	}
	g := u.grad.Data()[0]
	ga, acc := tp.grad(a)
	if u.op == opMean {
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
func (tp *Tape[T]) SumAxis(a *Var[T], axis int) *Var[T] { return tp.sumAxis(opSumAxis, a, axis) }

// MeanAxis returns the mean along axis, with that axis removed, as SumAxis.
func (tp *Tape[T]) MeanAxis(a *Var[T], axis int) *Var[T] { return tp.sumAxis(opMeanAxis, a, axis) }

func (tp *Tape[T]) sumAxis(op opKind, a *Var[T], axis int) *Var[T] {
	name := op.String()
	tp.check(name, a)
	shape := a.value.Shape()
	ax := axisOf(name, axis, shape)
	outer, n, inner := split(shape, ax)
	x, cx := tp.contig(a.value)
	out := tp.alloc(tp.without(shape, ax)...)
	o := out.Data()
	clear(o)
	for i := range outer {
		oi := o[i*inner : i*inner+inner]
		for k := range n {
			xr := x[(i*n+k)*inner : (i*n+k)*inner+inner]
			for j, v := range xr {
				oi[j] += v
			}
		}
	}
	if op == opMeanAxis {
		s := 1 / T(n)
		for i := range o {
			o[i] *= s
		}
	}
	v := tp.node(op, out, a, nil, nil)
	v.axis, v.aux = ax, cx
	return v
}

func (tp *Tape[T]) backSumAxis(u *Var[T]) {
	a := u.a
	if !a.requiresGrad {
		return
	}
	outer, n, inner := split(a.value.Shape(), u.axis)
	g := u.grad.Data()
	ga, acc := tp.grad(a)
	s := T(1)
	if u.op == opMeanAxis {
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
	outer, n, inner := split(shape, ax)
	x, cx := tp.contig(a.value)
	out := tp.alloc(tp.without(shape, ax)...)
	o := out.Data()
	for i := range outer {
		for j := range inner {
			o[i*inner+j] = lse(x[i*n*inner+j:], n, inner)
		}
	}
	v := tp.node(opLogSumExp, out, a, nil, nil)
	v.axis, v.aux = ax, cx
	return v
}

// lse returns log Σ_k exp(x[k·stride]) for k < n, stably.
func lse[T tensor.Float](x []T, n, stride int) T {
	m, ls, _ := lseParts(x, n, stride)
	return m + ls
}

// lseParts returns the maximum m of x[k·stride] for k < n, s = Σ e^(x−m)
// and ls = log s. Log-probabilities must be formed as (x − m) − ls and
// probabilities as e^(x−m)/s: going through lse = m + ls instead rounds ls
// away when m is large (logits [1e8, 1e8] gave a float32 loss of 0 and a
// float64 gradient of 0.49999999905 instead of ln 2 and 0.5). If m is ±Inf
// or NaN (or n is 0), s and ls are 0 and m is the whole answer.
func lseParts[T tensor.Float](x []T, n, stride int) (m, ls, s T) {
	m = T(math.Inf(-1))
	for k := range n {
		if v := x[k*stride]; v > m || v != v {
			m = v
		}
	}
	if math.IsInf(float64(m), 0) || m != m {
		return m, 0, 0
	}
	for k := range n {
		s += expT(x[k*stride] - m)
	}
	return m, logT(s), s
}

func (tp *Tape[T]) backLogSumExp(u *Var[T]) {
	a := u.a
	if !a.requiresGrad {
		return
	}
	outer, n, inner := split(a.value.Shape(), u.axis)
	x := data(a.value, u.aux)
	h, g := u.value.Data(), u.grad.Data()
	ga, acc := tp.grad(a)
	for i := range outer {
		for j := range inner {
			hv, gv := h[i*inner+j], g[i*inner+j]
			base := i*n*inner + j
			// ∂lse/∂x = e^(x−m)/s, recomputed from the input: e^(x−lse)
			// loses the digits that lse = m + log s rounded away.
			m, _, s := lseParts(x[base:], n, inner)
			for k := range n {
				p := base + k*inner
				var t T
				switch {
				case s != 0:
					t = gv * (expT(x[p]-m) / s)
				case !math.IsInf(float64(hv), -1):
					t = gv * expT(x[p]-hv)
				}
				put(ga, p, acc, t)
			}
		}
	}
}

// Softmax returns exp(a)/Σ exp(a) along axis (same shape), computed
// stably as e^(a−m)/Σ e^(a−m), m the maximum. Backward: ā += h ⊙ (h̄ − Σ h̄⊙h).
func (tp *Tape[T]) Softmax(a *Var[T], axis int) *Var[T] { return tp.softmax(opSoftmax, a, axis) }

// LogSoftmax returns a − log Σ exp(a) along axis (same shape), computed
// stably as (a − m) − log Σ e^(a−m), m the maximum. Backward:
// ā += h̄ − exp(h)·Σ h̄.
func (tp *Tape[T]) LogSoftmax(a *Var[T], axis int) *Var[T] {
	return tp.softmax(opLogSoftmax, a, axis)
}

func (tp *Tape[T]) softmax(op opKind, a *Var[T], axis int) *Var[T] {
	name := op.String()
	tp.check(name, a)
	shape := a.value.Shape()
	ax := axisOf(name, axis, shape)
	outer, n, inner := split(shape, ax)
	x, _ := tp.contig(a.value)
	out := tp.allocLike(a.value)
	o := out.Data()
	for i := range outer {
		for j := range inner {
			base := i*n*inner + j
			m, ls, s := lseParts(x[base:], n, inner)
			for k := range n {
				p := base + k*inner
				switch {
				case s == 0: // m is ±Inf or NaN: the old formulas give NumPy's answers
					if op == opLogSoftmax {
						o[p] = x[p] - m
					} else {
						o[p] = expT(x[p] - m)
					}
				case op == opLogSoftmax:
					o[p] = (x[p] - m) - ls
				default:
					o[p] = expT(x[p]-m) / s
				}
			}
		}
	}
	v := tp.node(op, out, a, nil, nil)
	v.axis = ax
	return v
}

func (tp *Tape[T]) backSoftmax(u *Var[T]) {
	a := u.a
	if !a.requiresGrad {
		return
	}
	outer, n, inner := split(a.value.Shape(), u.axis)
	h, g := u.value.Data(), u.grad.Data()
	ga, acc := tp.grad(a)
	for i := range outer {
		for j := range inner {
			base := i*n*inner + j
			var s T
			if u.op == opSoftmax {
				for k := range n {
					p := base + k*inner
					s += g[p] * h[p]
				}
				for k := range n {
					p := base + k*inner
					put(ga, p, acc, h[p]*(g[p]-s))
				}
			} else {
				for k := range n {
					s += g[base+k*inner]
				}
				for k := range n {
					p := base + k*inner
					put(ga, p, acc, g[p]-expT(h[p])*s)
				}
			}
		}
	}
}
