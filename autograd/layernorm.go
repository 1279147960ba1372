package autograd

import (
	"math"
	"sync"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// LayerNorm normalises x over its last axis (C elements) and applies the
// affine w and b ([C] each; either may be nil): for each row,
//
//	y = (x − mean) / √(var + eps) · w + b
//
// with the biased variance (divided by C), as torch.nn.LayerNorm computes
// it (PyTorch's default eps is 1e-5). Forward and backward are each one
// fused pass over a row; backward uses the saved mean and 1/√(var + eps):
// with x̂ the normalised row and ĝ = ȳ ⊙ w,
//
//	x̄ += (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / √(var + eps)
//	w̄ += Σ_rows ȳ ⊙ x̂,  b̄ += Σ_rows ȳ
//
// A constant row has x̂ = 0 and a finite adjoint. Statistics accumulate in
// float64. Rows are split across threads (and w̄, b̄ by columns, each summed
// over the rows in order), so results are the same for every thread count.
// It panics (ErrShape) if x has rank 0 or w or b is not [C], and
// (ErrMisuse) if eps is not positive and finite.
func (tp *Tape[T]) LayerNorm(x, w, b *Var[T], eps float64) *Var[T] {
	tp.check("LayerNorm", x)
	s := x.value.Shape()
	if len(s) == 0 {
		fail(ErrShape, "LayerNorm: x is a scalar")
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		fail(ErrMisuse, "LayerNorm: eps %v is not positive and finite", eps)
	}
	c := s[len(s)-1]
	var wd, bd []T
	for i, p := range [2]*Var[T]{w, b} {
		if p == nil {
			continue
		}
		tp.check("LayerNorm", p)
		if ps := p.value.Shape(); len(ps) != 1 || ps[0] != c {
			fail(ErrShape, "LayerNorm: %s shape %v does not fit x shape %v (want [%d])", [2]string{"w", "b"}[i], ps, s, c)
		}
		d, _ := tp.contig(p.value)
		if i == 0 {
			wd = d
		} else {
			bd = d
		}
	}
	xd, cx := tp.contig(x.value)
	rows := 0
	if c > 0 {
		rows = len(xd) / c
	}
	out := tp.allocLike(x.value)
	stats := tp.alloc(2, rows) // mean, then 1/√(var + eps)
	l := getLN[T]()
	l.x, l.y, l.st, l.w, l.b, l.c, l.rows, l.eps = xd, out.Data(), stats.Data(), wd, bd, c, rows, eps
	l.run(rows, c, l.fwdBody)
	l.release()
	v := tp.node(opLayerNorm, out, x, w, b)
	v.aux, v.aux2 = stats, cx
	v.p = eps
	return v
}

func (tp *Tape[T]) backLayerNorm(u *Var[T]) {
	x, w, b := u.a, u.b, u.c
	s := x.value.Shape()
	c := s[len(s)-1]
	xd := data(x.value, u.aux2)
	rows := 0
	if c > 0 {
		rows = len(xd) / c
	}
	l := getLN[T]()
	l.x, l.g, l.st, l.c, l.rows = xd, u.grad.Data(), u.aux.Data(), c, rows
	if w != nil {
		l.w, _ = tp.contig(w.value)
	}
	if x.requiresGrad {
		l.gx, l.acc = tp.grad(x)
		l.run(rows, c, l.bwdBody)
	}
	if w != nil && w.requiresGrad {
		l.gw, l.accW = tp.grad(w)
	}
	if b != nil && b.requiresGrad {
		l.gb, l.accB = tp.grad(b)
	}
	if l.gw != nil || l.gb != nil {
		l.run(c, rows, l.colBody)
	}
	l.release()
}

// lnTask is one LayerNorm pass split across rows (or, for w̄ and b̄,
// columns). It is pooled and its bodies bound once, so a pass allocates
// nothing.
type lnTask[T tensor.Float] struct {
	x, y, g, st     []T
	w, b            []T
	gx, gw, gb      []T
	acc, accW, accB bool
	c, rows         int
	eps             float64

	fwdBody, bwdBody, colBody func(lo, hi int)
}

var lnPools [2]sync.Pool

func getLN[T tensor.Float]() *lnTask[T] {
	if v := lnPools[typeIdx[T]()].Get(); v != nil {
		return v.(*lnTask[T])
	}
	l := new(lnTask[T])
	l.fwdBody, l.bwdBody, l.colBody = l.forward, l.backward, l.columns
	return l
}

func typeIdx[T tensor.Float]() int {
	if is32[T]() {
		return 0
	}
	return 1
}

// lnGrain is the fewest elements one LayerNorm task takes: a row costs
// several passes in float64, about 3 ns an element, so 16K elements
// outweigh a hand-off (10–16 µs) several times over.
const lnGrain = 1 << 14

// run splits n rows or columns of per elements each across the threads,
// at least lnGrain elements a task.
func (l *lnTask[T]) run(n, per int, body func(lo, hi int)) {
	parallel.For(n, rowGrain(lnGrain, per), body)
}

func (l *lnTask[T]) release() {
	*l = lnTask[T]{fwdBody: l.fwdBody, bwdBody: l.bwdBody, colBody: l.colBody}
	lnPools[typeIdx[T]()].Put(l)
}

func (l *lnTask[T]) forward(lo, hi int) {
	c, rows, wd, bd := l.c, l.rows, l.w, l.b
	for r := lo; r < hi; r++ {
		row, yr := l.x[r*c:r*c+c], l.y[r*c:r*c+c]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(c)
		var ss float64
		for _, v := range row {
			d := float64(v) - mean
			ss += d * d
		}
		rstd := 1 / math.Sqrt(ss/float64(c)+l.eps)
		l.st[r], l.st[rows+r] = T(mean), T(rstd)
		m, rs := T(mean), T(rstd)
		switch {
		case wd != nil && bd != nil:
			for j, v := range row {
				yr[j] = (v-m)*rs*wd[j] + bd[j]
			}
		case wd != nil:
			for j, v := range row {
				yr[j] = (v - m) * rs * wd[j]
			}
		case bd != nil:
			for j, v := range row {
				yr[j] = (v-m)*rs + bd[j]
			}
		default:
			for j, v := range row {
				yr[j] = (v - m) * rs
			}
		}
	}
}

// backward computes x̄ for rows [lo, hi).
func (l *lnTask[T]) backward(lo, hi int) {
	c, rows, wd, acc := l.c, l.rows, l.w, l.acc
	for r := lo; r < hi; r++ {
		xr, gr, dr := l.x[r*c:r*c+c], l.g[r*c:r*c+c], l.gx[r*c:r*c+c]
		m, rs := l.st[r], l.st[rows+r]
		// mean(ĝ) and mean(ĝ ⊙ x̂), ĝ = ȳ ⊙ w.
		var s1, s2 float64
		for j, gv := range gr {
			gh := gv
			if wd != nil {
				gh *= wd[j]
			}
			s1 += float64(gh)
			s2 += float64(gh) * float64((xr[j]-m)*rs)
		}
		m1, m2 := T(s1/float64(c)), T(s2/float64(c))
		for j, gv := range gr {
			gh := gv
			if wd != nil {
				gh *= wd[j]
			}
			put(dr, j, acc, (gh-m1-(xr[j]-m)*rs*m2)*rs)
		}
	}
}

// columns computes w̄ and b̄ for columns [lo, hi), each summed over the
// rows in order.
func (l *lnTask[T]) columns(lo, hi int) {
	c, rows := l.c, l.rows
	if l.gw != nil && !l.accW {
		clear(l.gw[lo:hi])
	}
	if l.gb != nil && !l.accB {
		clear(l.gb[lo:hi])
	}
	for r := range rows {
		xr, gr := l.x[r*c+lo:r*c+hi], l.g[r*c+lo:r*c+hi]
		m, rs := l.st[r], l.st[rows+r]
		if l.gw != nil {
			gw := l.gw[lo:hi]
			for j, gv := range gr {
				gw[j] += gv * (xr[j] - m) * rs
			}
		}
		if l.gb != nil {
			addAcc(l.gb[lo:hi], gr)
		}
	}
}
