package tensor

import (
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/freelist"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/parallel"
)

// Reductions are deterministic: the result never depends on the number of
// threads. Work is split only across output elements, each of which is
// accumulated by one goroutine in a fixed order, or, for a reduction to one
// value, over fixed chunks of sumChunk elements whose partial sums are added
// in order.
const sumChunk = 1 << 14

// sumRun returns the sum of n elements of s from off with the given stride.
// A unit-stride run is mathx.Sum (eight accumulators: faster, and less
// rounding error than one running sum).
func sumRun[E elem](s []E, off, n, stride int) E {
	if stride == 1 {
		return mathx.Sum(s[off : off+n])
	}
	var acc E
	for range n {
		acc += s[off]
		off += stride
	}
	return acc
}

// sumIter returns the sum of the elements at flat positions [lo, hi) of a
// one-operand iteration over s (its offset moved by base), adding run sums
// in order.
func sumIter[E elem](it *iter, s []E, base, lo, hi int) E {
	var total E
	if lo >= hi {
		return total
	}
	var c cursor
	it.seek(&c, lo)
	c.off[0] += base
	r := it.rank - 1
	st := it.st[0][r]
	for p := lo; p < hi; {
		n := min(it.shape[r]-c.idx[r], hi-p)
		if st == 1 {
			total += mathx.Sum(s[c.off[0] : c.off[0]+n]) // not through sumRun: one call, not two
		} else {
			total += sumRun(s, c.off[0], n, st)
		}
		p += n
		if p < hi {
			it.advance(&c, n)
		}
	}
	return total
}

// allTask sums a whole iteration in fixed chunks.
type allTask[E elem] struct {
	it    iter
	s     []E
	parts []E
}

func (t *allTask[E]) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		t.parts[i] = sumIter(&t.it, t.s, 0, i*sumChunk, min((i+1)*sumChunk, t.it.n))
	}
}

var partsPool32, partsPool64 freelist.List[any]

// sumAll returns the sum over a one-operand iteration, the same for any
// thread count.
func sumAll[E elem](it *iter, s []E) E {
	n := it.n
	nc := (n + sumChunk - 1) / sumChunk
	c := min(parallel.NumChunks(n, grainCheap), nc)
	if c <= 1 {
		var total E
		for i := range nc {
			total += sumIter(it, s, 0, i*sumChunk, min((i+1)*sumChunk, n))
		}
		return total
	}
	pp, pool := &partsPool64, &allPool64
	if is32[E]() {
		pp, pool = &partsPool32, &allPool32
	}
	bp, _ := pp.Get().(*[]E)
	if bp == nil {
		bp = new([]E)
	}
	if cap(*bp) < nc {
		*bp = make([]E, nc)
	}
	t := allTask[E]{it: *it, s: s, parts: (*bp)[:nc]}
	runSplit(pool, &t, nc, c)
	var total E
	for _, v := range t.parts {
		total += v
	}
	pp.Put(bp)
	return total
}

// redTask sums src over the reduced dimensions into d.
type redTask[E elem] struct {
	kept    iter // operand 0: d, operand 1: src; over the kept dimensions
	red     iter // operand 0: src; over the reduced dimensions, offset 0
	rowMode bool // reduce each output over a run (reduced axis innermost)
	acc     bool // d += sum instead of d = scale·sum
	scale   E
	d, s    []E
}

func (t *redTask[E]) run(lo, hi int) {
	if t.rowMode {
		t.runRows(lo, hi)
		return
	}
	const blk = 1024
	for b := lo; b < hi; b += blk {
		e := min(b+blk, hi)
		var rc cursor
		t.red.seek(&rc, 0)
		for q := 0; q < t.red.n; q++ {
			t.colPass(b, e, rc.off[0], q == 0 && !t.acc)
			if q+1 < t.red.n {
				t.red.advance(&rc, 1)
			}
		}
		if !t.acc && t.scale != 1 {
			t.scalePass(b, e)
		}
	}
}

// runRows computes outputs [lo, hi) one at a time.
func (t *redTask[E]) runRows(lo, hi int) {
	var c cursor
	t.kept.seek(&c, lo)
	r := t.kept.rank - 1
	sd, ss := t.kept.st[0][r], t.kept.st[1][r]
	for p := lo; p < hi; {
		n := min(t.kept.shape[r]-c.idx[r], hi-p)
		od, os := c.off[0], c.off[1]
		for range n {
			v := sumIter(&t.red, t.s, os, 0, t.red.n)
			if t.acc {
				t.d[od] += v
			} else {
				t.d[od] = t.scale * v
			}
			od += sd
			os += ss
		}
		p += n
		if p < hi {
			t.kept.advance(&c, n)
		}
	}
}

// colPass adds (or, if first, copies) the src slice at reduced offset roff
// into outputs [b, e).
func (t *redTask[E]) colPass(b, e, roff int, first bool) {
	var c cursor
	t.kept.seek(&c, b)
	r := t.kept.rank - 1
	sd, ss := t.kept.st[0][r], t.kept.st[1][r]
	for p := b; p < e; {
		n := min(t.kept.shape[r]-c.idx[r], e-p)
		od, os := c.off[0], c.off[1]+roff
		if sd == 1 && ss == 1 {
			d, s := t.d[od:od+n], t.s[os:os+n]
			if first {
				copy(d, s)
			} else {
				binVV(opAdd, 0, d, d, s) // the vector add where the CPU has one
			}
		} else if first {
			for range n {
				t.d[od] = t.s[os]
				od += sd
				os += ss
			}
		} else {
			for range n {
				t.d[od] += t.s[os]
				od += sd
				os += ss
			}
		}
		p += n
		if p < e {
			t.kept.advance(&c, n)
		}
	}
}

func (t *redTask[E]) scalePass(b, e int) {
	var c cursor
	t.kept.seek(&c, b)
	r := t.kept.rank - 1
	sd := t.kept.st[0][r]
	for p := b; p < e; {
		n := min(t.kept.shape[r]-c.idx[r], e-p)
		od := c.off[0]
		for range n {
			t.d[od] *= t.scale
			od += sd
		}
		p += n
		if p < e {
			t.kept.advance(&c, n)
		}
	}
}

// reducePlan describes a sum of src into d: dst holds d's strides aligned to
// src's dimensions and reduced marks the dimensions summed over.
type reducePlan struct {
	rank    int
	dst     [maxRank]int
	reduced [maxRank]bool
	dOff    int
}

// sumInto runs a planned sum. acc selects d += sum; otherwise d = scale·sum.
func sumInto[T Float](op string, pl *reducePlan, d, src *Dense[T], acc bool, scale T) {
	if overlaps(d, src) {
		fail(ErrOverlap, "%s: destination overlaps the input", op)
	}
	if unsafe.Sizeof(T(0)) == 4 {
		sumIntoE(op, pl, as[float32](d.data), src, as[float32](src.data), acc, float32(scale))
	} else {
		sumIntoE(op, pl, as[float64](d.data), src, as[float64](src.data), acc, float64(scale))
	}
}

func sumIntoE[E elem, T Float](op string, pl *reducePlan, d []E, src *Dense[T], s []E, acc bool, scale E) {
	var t redTask[E]
	t.d, t.s, t.acc, t.scale = d, s, acc, scale
	t.kept.nops, t.red.nops = 2, 1
	kr, rr := 0, 0
	n := 1
	for i := range pl.rank {
		sz := src.shape[i]
		n *= sz
		if sz == 1 {
			continue
		}
		if pl.reduced[i] {
			t.red.shape[rr], t.red.st[0][rr] = sz, src.strides[i]
			rr++
		} else {
			t.kept.shape[kr], t.kept.st[0][kr], t.kept.st[1][kr] = sz, pl.dst[i], src.strides[i]
			kr++
		}
	}
	t.kept.rank, t.red.rank = kr, rr
	t.kept.off = [3]int{pl.dOff, src.offset, 0}
	t.kept.n, t.red.n = 1, 1
	for i := range kr {
		t.kept.n *= t.kept.shape[i]
	}
	for i := range rr {
		t.red.n *= t.red.shape[i]
	}
	if n == 0 {
		if t.kept.n == 0 || acc {
			return
		}
		// Sum over an empty axis: zero.
		var it iter
		it.rank, it.nops, it.n = kr, 1, t.kept.n
		for i := range kr {
			it.shape[i], it.st[0][i] = t.kept.shape[i], t.kept.st[0][i]
		}
		it.off[0] = pl.dOff
		it.coalesce()
		tk := ewTask[E]{it: it, op: opFill, d: d}
		tk.run(0, it.n)
		return
	}
	if rr == 0 {
		// Nothing is summed over (d has src's shape, up to size-1
		// dimensions): an elementwise copy, scale or add, at the speed of
		// one. Summing each output over a run of one costs a reduction
		// set-up per element (about 150× slower).
		e := ewTask[E]{it: t.kept, op: opCopy, p: scale, d: d, a: s}
		switch {
		case acc:
			e.op, e.a, e.b = opAdd, d, s
			e.it.nops = 3
			e.it.st[2], e.it.st[1] = e.it.st[1], e.it.st[0]
			e.it.off = [3]int{pl.dOff, pl.dOff, src.offset}
		case scale != 1:
			e.op = opMulS
		}
		e.it.coalesce()
		runEW(&e, grainCheap)
		return
	}
	t.kept.coalesce()
	t.red.coalesce()
	if kr == 0 {
		t.red.off[0] = src.offset
		v := sumAll(&t.red, s)
		if acc {
			d[pl.dOff] += v
		} else {
			d[pl.dOff] = scale * v
		}
		return
	}
	minRed, minKept := math.MaxInt, math.MaxInt
	for i := range t.red.rank {
		minRed = min(minRed, abs(t.red.st[0][i]))
	}
	for i := range t.kept.rank {
		minKept = min(minKept, abs(t.kept.st[1][i]))
	}
	t.rowMode = minRed < minKept || t.kept.n < 64
	outs := t.kept.n
	c := min(parallel.NumChunks(n, grainCheap), outs)
	if c <= 1 {
		t.run(0, outs)
		return
	}
	pool := &redPool64
	if is32[E]() {
		pool = &redPool32
	}
	runSplit(pool, &t, outs, c)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// axisPlan checks that d has a's shape with axis set to 1 or removed and
// plans the sum of a over axis into d.
func axisPlan[T Float](op string, pl *reducePlan, d, a *Dense[T], axis int) int {
	notNil(op, "destination", d)
	notNil(op, "a", a)
	r := len(a.shape)
	if r > maxRank {
		fail(ErrShape, "%s: rank %d exceeds the maximum %d", op, r, maxRank)
	}
	ax := axisIndex(op, axis, r)
	pl.rank = r
	pl.dOff = d.offset
	switch len(d.shape) {
	case r:
		for i := range r {
			want := a.shape[i]
			if i == ax {
				want = 1
			}
			if d.shape[i] != want {
				axisShapeFail(op, d, a, axis)
			}
			pl.dst[i] = d.strides[i]
		}
		pl.dst[ax] = 0
	case r - 1:
		for i := range r {
			switch {
			case i < ax:
				if d.shape[i] != a.shape[i] {
					axisShapeFail(op, d, a, axis)
				}
				pl.dst[i] = d.strides[i]
			case i > ax:
				if d.shape[i-1] != a.shape[i] {
					axisShapeFail(op, d, a, axis)
				}
				pl.dst[i] = d.strides[i-1]
			}
		}
		pl.dst[ax] = 0
	default:
		axisShapeFail(op, d, a, axis)
	}
	for i := range r {
		pl.reduced[i] = i == ax
	}
	return ax
}

func axisShapeFail[T Float](op string, d, a *Dense[T], axis int) {
	fail(ErrShape, "%s: destination shape %v does not fit shape %v reduced over axis %d (that axis 1 or removed)", op, d.shape, a.shape, axis)
}

// reducedShape returns a's shape with axis set to 1 (keepDims) or removed.
func reducedShape(op string, shape []int, axis int, keepDims bool) []int {
	ax := axisIndex(op, axis, len(shape))
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		if i == ax {
			if keepDims {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

// SumAxis sets d to the sum of a along axis (negative counts from the end)
// and returns d. d must have a's shape with that axis either set to 1
// (keep-dims) or removed; both are accepted (ErrShape otherwise). d must not
// overlap a.
func (d *Dense[T]) SumAxis(a *Dense[T], axis int) *Dense[T] {
	var pl reducePlan
	axisPlan("SumAxis", &pl, d, a, axis)
	sumInto("SumAxis", &pl, d, a, false, 1)
	return d
}

// MeanAxis sets d to the mean of a along axis; see SumAxis. The mean over
// an empty axis is NaN.
func (d *Dense[T]) MeanAxis(a *Dense[T], axis int) *Dense[T] {
	var pl reducePlan
	ax := axisPlan("MeanAxis", &pl, d, a, axis)
	n := a.shape[ax]
	sumInto("MeanAxis", &pl, d, a, false, T(1/float64(n)))
	if n == 0 {
		d.Fill(T(math.NaN()))
	}
	return d
}

// SumAxis returns the sum of a along axis, keeping that axis with size 1
// if keepDims, else removing it.
func SumAxis[T Float](a *Dense[T], axis int, keepDims bool) *Dense[T] {
	return New[T](reducedShape("SumAxis", shapeOf("SumAxis", a), axis, keepDims)...).SumAxis(a, axis)
}

// MeanAxis returns the mean of a along axis; see SumAxis.
func MeanAxis[T Float](a *Dense[T], axis int, keepDims bool) *Dense[T] {
	return New[T](reducedShape("MeanAxis", shapeOf("MeanAxis", a), axis, keepDims)...).MeanAxis(a, axis)
}

// SumTo overwrites d with src summed over the dimensions along which d's
// shape broadcasts to src's (the leading dimensions d lacks and those where
// d has size 1), and returns d. It is the adjoint of broadcasting: if
// y = x broadcast to src's shape, x̄ = ȳ summed to x's shape. It panics with
// ErrShape if d's shape does not broadcast to src's. d must not overlap src.
func (d *Dense[T]) SumTo(src *Dense[T]) *Dense[T] {
	var pl reducePlan
	sumToPlan("SumTo", &pl, d, src)
	sumInto("SumTo", &pl, d, src, false, 1)
	return d
}

// AddSumTo is SumTo that accumulates: d += src summed to d's shape.
func (d *Dense[T]) AddSumTo(src *Dense[T]) *Dense[T] {
	var pl reducePlan
	sumToPlan("AddSumTo", &pl, d, src)
	sumInto("AddSumTo", &pl, d, src, true, 1)
	return d
}

// SumTo returns src summed to the given shape, which must broadcast to
// src's shape.
func SumTo[T Float](src *Dense[T], shape ...int) *Dense[T] {
	return New[T](shape...).SumTo(src)
}

func sumToPlan[T Float](op string, pl *reducePlan, d, src *Dense[T]) {
	notNil(op, "destination", d)
	notNil(op, "src", src)
	r := len(src.shape)
	if r > maxRank {
		fail(ErrShape, "%s: rank %d exceeds the maximum %d", op, r, maxRank)
	}
	lead := r - len(d.shape)
	if lead < 0 {
		fail(ErrShape, "%s: shape %v does not broadcast to %v", op, d.shape, src.shape)
	}
	pl.rank = r
	pl.dOff = d.offset
	for i := range r {
		j := i - lead
		switch {
		case j < 0:
			pl.dst[i], pl.reduced[i] = 0, true
		case d.shape[j] == src.shape[i]:
			pl.dst[i], pl.reduced[i] = d.strides[j], false
		case d.shape[j] == 1:
			pl.dst[i], pl.reduced[i] = 0, true
		default:
			fail(ErrShape, "%s: shape %v does not broadcast to %v", op, d.shape, src.shape)
		}
	}
}

// SumAll returns the sum of all elements of a (0 for an empty tensor). The
// result is the same for any number of threads.
func SumAll[T Float](a *Dense[T]) T {
	notNil("SumAll", "a", a)
	var it iter
	it.init("SumAll", a.shape, 1)
	it.operand(0, a.shape, a.strides, a.offset)
	it.coalesce()
	if it.n == 0 {
		return 0
	}
	if unsafe.Sizeof(T(0)) == 4 {
		return T(sumAll(&it, as[float32](a.data)))
	}
	return T(sumAll(&it, as[float64](a.data)))
}

// MeanAll returns the mean of all elements of a (NaN for an empty tensor).
func MeanAll[T Float](a *Dense[T]) T {
	notNil("MeanAll", "a", a)
	return SumAll(a) / T(a.Size())
}
