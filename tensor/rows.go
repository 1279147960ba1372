package tensor

import (
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/parallel"
)

// rowOp is an operation on each row along one axis: max, argmax,
// logsumexp, softmax and friends.
type rowOp uint8

const (
	rowMax rowOp = iota
	rowMin
	rowArgMax
	rowLSE
	rowSoftmax
	rowLogSoftmax
)

// rowTask applies a row operation to every row of a along an axis. outer
// iterates over the other dimensions (operand 0: d, operand 1: a); a row has
// L elements with stride la in a and ld in d (for softmax, which writes
// whole rows).
type rowTask[E elem] struct {
	outer     iter
	L, la, ld int
	op        rowOp
	d, a      []E
	idx       []int
}

func (t *rowTask[E]) run(lo, hi int) {
	if lo >= hi {
		return
	}
	var c cursor
	t.outer.seek(&c, lo)
	r := t.outer.rank - 1
	sd, sa := t.outer.st[0][r], t.outer.st[1][r]
	for p := lo; p < hi; {
		n := min(t.outer.shape[r]-c.idx[r], hi-p)
		od, oa := c.off[0], c.off[1]
		for j := range n {
			t.row(p+j, od, oa)
			od += sd
			oa += sa
		}
		p += n
		if p < hi {
			t.outer.advance(&c, n)
		}
	}
}

// rowMaxOf returns the largest element of the row at oa (NaN if any is NaN).
func (t *rowTask[E]) rowMaxOf(oa int) E {
	a, la := t.a, t.la
	m := a[oa]
	for i := 1; i < t.L; i++ {
		m = maxNaN(m, a[oa+i*la])
	}
	return m
}

func (t *rowTask[E]) row(p, od, oa int) {
	a, d, L, la, ld := t.a, t.d, t.L, t.la, t.ld
	switch t.op {
	case rowMax:
		d[od] = t.rowMaxOf(oa)
	case rowMin:
		m := a[oa]
		for i := 1; i < L; i++ {
			m = minNaN(m, a[oa+i*la])
		}
		d[od] = m
	case rowArgMax:
		best, m := 0, a[oa]
		for i := 1; i < L && m == m; i++ {
			v := a[oa+i*la]
			if v > m || v != v {
				best, m = i, v
			}
		}
		t.idx[p] = best
	case rowLSE:
		if L == 0 {
			d[od] = E(math.Inf(-1))
			return
		}
		m := t.rowMaxOf(oa)
		if math.IsInf(float64(m), 0) || m != m {
			// All −Inf gives −Inf; any +Inf gives +Inf; NaN stays NaN.
			d[od] = m
			return
		}
		var s E
		for i := range L {
			s += mathx.Exp(a[oa+i*la] - m)
		}
		d[od] = m + mathx.Log(s)
	case rowSoftmax:
		if L == 0 {
			return
		}
		if is32[E]() && la == 1 && ld == 1 {
			// float32, unit stride: the maximum, then exp(a − max) and
			// its sum in one pass of math32's row kernels, then the
			// scaling.
			row, src := f32(d[od:od+L]), f32(a[oa:oa+L])
			inv := 1 / math32.ExpShiftSum(row, src, math32.Max(src))
			for i := range row {
				row[i] *= inv
			}
			return
		}
		m := t.rowMaxOf(oa)
		if la == 1 && ld == 1 {
			// Unit stride: shift into d, exponentiate in place with the
			// vectorised kernel, normalise.
			row, src := d[od:od+L], a[oa:oa+L]
			shiftExp(row, src, m)
			inv := 1 / sumRun(row, 0, L, 1)
			for i := range row {
				row[i] *= inv
			}
			return
		}
		var s E
		for i := range L {
			e := mathx.Exp(a[oa+i*la] - m)
			d[od+i*ld] = e
			s += e
		}
		inv := 1 / s
		for i := range L {
			d[od+i*ld] *= inv
		}
	case rowLogSoftmax:
		if L == 0 {
			return
		}
		m := t.rowMaxOf(oa)
		if la == 1 && ld == 1 && &d[od] != &a[oa] {
			row, src := d[od:od+L], a[oa:oa+L]
			shiftExp(row, src, m)
			ls := mathx.Log(sumRun(row, 0, L, 1))
			for i := range row {
				row[i] = (src[i] - m) - ls
			}
			return
		}
		var s E
		for i := range L {
			s += mathx.Exp(a[oa+i*la] - m)
		}
		ls := mathx.Log(s)
		for i := range L {
			d[od+i*ld] = (a[oa+i*la] - m) - ls
		}
	}
}

// rowRun plans and runs a row operation of a along axis ax; dst holds d's
// strides for a's dimensions (axis included, ignored unless softmax).
func rowRun[T Float](op rowOp, name string, d, a *Dense[T], ax int, dst *[maxRank]int, idx []int) {
	r := len(a.shape)
	var it iter
	it.nops = 2
	k := 0
	for i := range r {
		if i == ax {
			continue
		}
		it.shape[k], it.st[0][k], it.st[1][k] = a.shape[i], dst[i], a.strides[i]
		k++
	}
	it.rank = k
	it.n = 1
	for i := range k {
		it.n *= it.shape[i]
	}
	it.off = [3]int{0, a.offset, 0}
	if d != nil {
		it.off[0] = d.offset
	}
	it.coalesce()
	if it.n == 0 {
		return
	}
	L := a.shape[ax]
	if L == 0 && (op == rowMax || op == rowMin || op == rowArgMax) {
		fail(ErrShape, "%s: zero-size axis %d of shape %v", name, ax, a.shape)
	}
	rows := it.n
	c := min(parallel.NumChunks(rows*max(L, 1), grainMath), rows)
	var dd []T
	if d != nil {
		dd = d.data
	}
	if unsafe.Sizeof(T(0)) == 4 {
		t := rowTask[float32]{outer: it, L: L, la: a.strides[ax], ld: dst[ax], op: op, d: as[float32](dd), a: as[float32](a.data), idx: idx}
		if c <= 1 {
			t.run(0, rows)
		} else {
			runSplit(&rowPool32, &t, rows, c)
		}
	} else {
		t := rowTask[float64]{outer: it, L: L, la: a.strides[ax], ld: dst[ax], op: op, d: as[float64](dd), a: as[float64](a.data), idx: idx}
		if c <= 1 {
			t.run(0, rows)
		} else {
			runSplit(&rowPool64, &t, rows, c)
		}
	}
}

func rowReduce[T Float](op rowOp, name string, d, a *Dense[T], axis int) *Dense[T] {
	notNil(name, "destination", d)
	notNil(name, "a", a)
	var pl reducePlan
	ax := axisPlan(name, &pl, d, a, axis)
	if overlaps(d, a) {
		fail(ErrOverlap, "%s: destination overlaps the input", name)
	}
	rowRun(op, name, d, a, ax, &pl.dst, nil)
	return d
}

func rowMap[T Float](op rowOp, name string, d, a *Dense[T], axis int) *Dense[T] {
	notNil(name, "destination", d)
	notNil(name, "a", a)
	sameShape(name, d, a)
	r := len(a.shape)
	if r > maxRank {
		fail(ErrShape, "%s: rank %d exceeds the maximum %d", name, r, maxRank)
	}
	ax := axisIndex(name, axis, r)
	checkAlias(name, d, a)
	var dst [maxRank]int
	copy(dst[:], d.strides)
	rowRun(op, name, d, a, ax, &dst, nil)
	return d
}

// MaxAxis sets d to the maximum of a along axis (NaN if a row holds NaN);
// d's shape is as for SumAxis. It panics with ErrShape for a zero-size axis.
func (d *Dense[T]) MaxAxis(a *Dense[T], axis int) *Dense[T] {
	return rowReduce(rowMax, "MaxAxis", d, a, axis)
}

// MinAxis sets d to the minimum of a along axis; see MaxAxis.
func (d *Dense[T]) MinAxis(a *Dense[T], axis int) *Dense[T] {
	return rowReduce(rowMin, "MinAxis", d, a, axis)
}

// LogSumExpAxis sets d to log Σ exp(a) along axis, computed as
// m + log Σ exp(a − m) with m the row maximum, so large inputs do not
// overflow. A row of all −Inf (or an empty axis) gives −Inf, a row holding
// +Inf gives +Inf. d's shape is as for SumAxis.
func (d *Dense[T]) LogSumExpAxis(a *Dense[T], axis int) *Dense[T] {
	return rowReduce(rowLSE, "LogSumExpAxis", d, a, axis)
}

// Softmax sets d = exp(a − m) / Σ exp(a − m) along axis (m the row maximum,
// so large inputs are safe) and returns d. d must have a's shape and may be
// the same view as a. A row of all −Inf gives NaN, as in NumPy.
func (d *Dense[T]) Softmax(a *Dense[T], axis int) *Dense[T] {
	return rowMap(rowSoftmax, "Softmax", d, a, axis)
}

// LogSoftmax sets d = a − LogSumExp(a) along axis, computed as
// (a − m) − log Σ exp(a − m); see Softmax.
func (d *Dense[T]) LogSoftmax(a *Dense[T], axis int) *Dense[T] {
	return rowMap(rowLogSoftmax, "LogSoftmax", d, a, axis)
}

// MaxAxis returns the maximum of a along axis; see SumAxis for keepDims.
func MaxAxis[T Float](a *Dense[T], axis int, keepDims bool) *Dense[T] {
	return New[T](reducedShape("MaxAxis", shapeOf("MaxAxis", a), axis, keepDims)...).MaxAxis(a, axis)
}

// MinAxis returns the minimum of a along axis.
func MinAxis[T Float](a *Dense[T], axis int, keepDims bool) *Dense[T] {
	return New[T](reducedShape("MinAxis", shapeOf("MinAxis", a), axis, keepDims)...).MinAxis(a, axis)
}

// LogSumExpAxis returns log Σ exp(a) along axis (stable; see the method).
func LogSumExpAxis[T Float](a *Dense[T], axis int, keepDims bool) *Dense[T] {
	return New[T](reducedShape("LogSumExpAxis", shapeOf("LogSumExpAxis", a), axis, keepDims)...).LogSumExpAxis(a, axis)
}

// Softmax returns a new tensor, the softmax of a along axis.
func Softmax[T Float](a *Dense[T], axis int) *Dense[T] {
	return New[T](shapeOf("Softmax", a)...).Softmax(a, axis)
}

// LogSoftmax returns a new tensor, the log-softmax of a along axis.
func LogSoftmax[T Float](a *Dense[T], axis int) *Dense[T] {
	return New[T](shapeOf("LogSoftmax", a)...).LogSoftmax(a, axis)
}

// ArgMaxAxis returns, for each position of a with axis removed (in
// row-major order of that reduced shape), the index along axis of the
// largest element; the first one wins ties, and the first NaN wins over
// everything. If dst is nil a new slice is allocated; otherwise dst must
// have exactly that many elements (ErrShape) and is filled and returned. It
// panics with ErrShape for a zero-size axis.
func ArgMaxAxis[T Float](dst []int, a *Dense[T], axis int) []int {
	notNil("ArgMaxAxis", "a", a)
	r := len(a.shape)
	if r > maxRank {
		fail(ErrShape, "ArgMaxAxis: rank %d exceeds the maximum %d", r, maxRank)
	}
	ax := axisIndex("ArgMaxAxis", axis, r)
	n := 1
	for i, s := range a.shape {
		if i != ax {
			n *= s
		}
	}
	if dst == nil {
		dst = make([]int, n)
	} else if len(dst) != n {
		fail(ErrShape, "ArgMaxAxis: len(dst) %d, want %d for shape %v along axis %d", len(dst), n, a.shape, axis)
	}
	var zero [maxRank]int
	rowRun(rowArgMax, "ArgMaxAxis", nil, a, ax, &zero, dst)
	return dst
}

// MaxAll returns the largest element of a (NaN if any is NaN). It panics
// with ErrShape if a is empty.
func MaxAll[T Float](a *Dense[T]) T { return extremeAll("MaxAll", a, true) }

// MinAll returns the smallest element of a (NaN if any is NaN). It panics
// with ErrShape if a is empty.
func MinAll[T Float](a *Dense[T]) T { return extremeAll("MinAll", a, false) }

func extremeAll[T Float](name string, a *Dense[T], isMax bool) T {
	notNil(name, "a", a)
	var it iter
	it.init(name, a.shape, 1)
	it.operand(0, a.shape, a.strides, a.offset)
	it.coalesce()
	if it.n == 0 {
		fail(ErrShape, "%s: empty tensor of shape %v", name, a.shape)
	}
	var c cursor
	it.seek(&c, 0)
	r := it.rank - 1
	st := it.st[0][r]
	m := a.data[it.off[0]]
	for p := 0; p < it.n; {
		n := it.shape[r] - c.idx[r]
		o := c.off[0]
		for range n {
			v := a.data[o]
			if isMax && (v > m || v != v) || !isMax && (v < m || v != v) {
				m = v
			}
			o += st
		}
		p += n
		if p < it.n {
			it.advance(&c, n)
		}
	}
	return m
}

// shiftExp sets row[i] = exp(src[i] − m); row may be src.
func shiftExp[E elem](row, src []E, m E) {
	src = src[:len(row)]
	for i := range row {
		row[i] = src[i] - m
	}
	unaryVV(opExp, 0, row, row)
}
