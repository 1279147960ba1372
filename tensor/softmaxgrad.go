package tensor

import (
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/freelist"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/parallel"
)

// softBackTask computes the adjoint of a softmax (or log-softmax) for every
// row along an axis. outer iterates over the other dimensions with operand
// 0 d, 1 y and 2 g; a row has L elements with strides ld, ly and lg.
type softBackTask[E elem] struct {
	outer      iter
	L          int
	ld, ly, lg int
	log        bool
	d, y, g    []E
}

var softBackPool32, softBackPool64 freelist.List[any] // see iter.go

func (t *softBackTask[E]) run(lo, hi int) {
	if lo >= hi {
		return
	}
	var c cursor
	t.outer.seek(&c, lo)
	r := t.outer.rank - 1
	s0, s1, s2 := t.outer.st[0][r], t.outer.st[1][r], t.outer.st[2][r]
	for p := lo; p < hi; {
		n := min(t.outer.shape[r]-c.idx[r], hi-p)
		od, oy, og := c.off[0], c.off[1], c.off[2]
		for range n {
			t.row(od, oy, og)
			od, oy, og = od+s0, oy+s1, og+s2
		}
		p += n
		if p < hi {
			t.outer.advance(&c, n)
		}
	}
}

// row reads the whole row of g (and y) before it writes d, so d may be
// the same view as g or y.
func (t *softBackTask[E]) row(od, oy, og int) {
	d, y, g, L := t.d, t.y, t.g, t.L
	ld, ly, lg := t.ld, t.ly, t.lg
	var s E
	if t.log {
		for i := range L {
			s += g[og+i*lg]
		}
		for i := range L {
			d[od+i*ld] = g[og+i*lg] - mathx.Exp(y[oy+i*ly])*s
		}
		return
	}
	for i := range L {
		s += g[og+i*lg] * y[oy+i*ly]
	}
	for i := range L {
		d[od+i*ld] = y[oy+i*ly] * (g[og+i*lg] - s)
	}
}

func softBack[T Float](name string, log bool, d, y, g *Dense[T], axis int) *Dense[T] {
	notNil(name, "destination", d)
	notNil(name, "y", y)
	notNil(name, "g", g)
	sameShape(name, d, y)
	sameShape(name, d, g)
	r := len(d.shape)
	if r > maxRank {
		fail(ErrShape, "%s: rank %d exceeds the maximum %d", name, r, maxRank)
	}
	ax := axisIndex(name, axis, r)
	checkAlias(name, d, y)
	checkAlias(name, d, g)
	var it iter
	it.nops = 3
	k := 0
	for i := range r {
		if i == ax {
			continue
		}
		it.shape[k] = d.shape[i]
		it.st[0][k], it.st[1][k], it.st[2][k] = d.strides[i], y.strides[i], g.strides[i]
		k++
	}
	it.rank, it.n = k, 1
	for i := range k {
		it.n *= it.shape[i]
	}
	it.off = [3]int{d.offset, y.offset, g.offset}
	it.coalesce()
	L := d.shape[ax]
	if it.n == 0 || L == 0 {
		return d
	}
	rows := it.n
	c := min(parallel.NumChunks(rows*L, grainCheap), rows)
	if log {
		c = min(parallel.NumChunks(rows*L, grainMath), rows)
	}
	if unsafe.Sizeof(T(0)) == 4 {
		t := softBackTask[float32]{outer: it, L: L, ld: d.strides[ax], ly: y.strides[ax], lg: g.strides[ax], log: log,
			d: as[float32](d.data), y: as[float32](y.data), g: as[float32](g.data)}
		if c <= 1 {
			t.run(0, rows)
		} else {
			runSplit(&softBackPool32, &t, rows, c)
		}
	} else {
		t := softBackTask[float64]{outer: it, L: L, ld: d.strides[ax], ly: y.strides[ax], lg: g.strides[ax], log: log,
			d: as[float64](d.data), y: as[float64](y.data), g: as[float64](g.data)}
		if c <= 1 {
			t.run(0, rows)
		} else {
			runSplit(&softBackPool64, &t, rows, c)
		}
	}
	return d
}

// SoftmaxBackward sets d to the adjoint of the input of a softmax along
// axis, given its output y = Softmax(x) and the output's adjoint g:
// d = y ⊙ (g − Σ g⊙y), the sum taken along axis for each row. It returns
// d. d, y and g must have the same shape (ErrShape); d may be the same view
// as y or g but must not overlap them otherwise (ErrOverlap). Rows are
// split across threads, each summed in order by one goroutine, so the
// result does not depend on the thread count.
func (d *Dense[T]) SoftmaxBackward(y, g *Dense[T], axis int) *Dense[T] {
	return softBack("SoftmaxBackward", false, d, y, g, axis)
}

// LogSoftmaxBackward sets d to the adjoint of the input of a log-softmax
// along axis, given its output y = LogSoftmax(x) and the output's adjoint
// g: d = g − exp(y)·Σ g, the sum taken along axis for each row. It returns
// d; shapes, aliasing and threads as SoftmaxBackward.
func (d *Dense[T]) LogSoftmaxBackward(y, g *Dense[T], axis int) *Dense[T] {
	return softBack("LogSoftmaxBackward", true, d, y, g, axis)
}
