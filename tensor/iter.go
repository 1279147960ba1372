package tensor

import (
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/freelist"
	"github.com/adjoint-go/adjoint/parallel"
)

// maxRank is the highest rank the elementwise and reduction engines handle,
// MaxRank, so every tensor that can be made can be operated on. Their index
// bookkeeping lives in fixed-size arrays so that an operation with a
// destination allocates nothing.
const maxRank = MaxRank

// iter walks up to three operands (a destination and two inputs) over a
// common shape. Each operand has its own strides (0 along broadcast
// dimensions) and offset. Dimensions of size 1 are dropped and adjacent
// dimensions that are laid out contiguously for every operand are merged, so
// same-shape contiguous operands become one flat run, and a row-vector
// broadcast becomes rows of unit-stride runs.
type iter struct {
	rank  int // after coalescing, at least 1
	nops  int
	n     int // number of elements
	shape [maxRank]int
	st    [3][maxRank]int
	off   [3]int
}

// init starts an iteration over shape with nops operands.
func (it *iter) init(op string, shape []int, nops int) {
	if len(shape) > maxRank {
		fail(ErrShape, "%s: rank %d exceeds the maximum %d", op, len(shape), maxRank)
	}
	it.rank = len(shape)
	it.nops = nops
	n := 1
	for i, d := range shape {
		it.shape[i] = d
		n *= d
	}
	it.n = n
}

// operand sets operand k from a tensor whose shape broadcasts to the
// iteration shape (right-aligned; size-1 and missing dimensions get stride 0).
func (it *iter) operand(k int, shape, strides []int, off int) {
	lead := it.rank - len(shape)
	for i := 0; i < it.rank; i++ {
		j := i - lead
		if j < 0 || shape[j] == 1 {
			it.st[k][i] = 0
		} else {
			it.st[k][i] = strides[j]
		}
	}
	it.off[k] = off
}

// coalesce drops size-1 dimensions and merges mergeable neighbours.
func (it *iter) coalesce() {
	out := 0
	for i := 0; i < it.rank; i++ {
		s := it.shape[i]
		if s == 1 {
			continue
		}
		if out > 0 {
			p := out - 1
			ok := true
			for k := 0; k < it.nops; k++ {
				if it.st[k][p] != it.st[k][i]*s {
					ok = false
					break
				}
			}
			if ok {
				it.shape[p] *= s
				for k := 0; k < it.nops; k++ {
					it.st[k][p] = it.st[k][i]
				}
				continue
			}
		}
		it.shape[out] = s
		for k := 0; k < it.nops; k++ {
			it.st[k][out] = it.st[k][i]
		}
		out++
	}
	if out == 0 {
		it.shape[0] = 1
		for k := 0; k < it.nops; k++ {
			it.st[k][0] = 0
		}
		out = 1
	}
	it.rank = out
}

// cursor is a position of an iter: a multi-index and the operand offsets.
type cursor struct {
	idx [maxRank]int
	off [3]int
}

// seek sets c to flat (row-major) position p.
func (it *iter) seek(c *cursor, p int) {
	c.off = it.off
	for i := it.rank - 1; i >= 0; i-- {
		s := it.shape[i]
		x := p % s
		p /= s
		c.idx[i] = x
		for k := 0; k < it.nops; k++ {
			c.off[k] += x * it.st[k][i]
		}
	}
}

// advance moves c forward by n positions along the innermost dimension,
// which must not pass its end, carrying into outer dimensions at the end.
func (it *iter) advance(c *cursor, n int) {
	r := it.rank - 1
	for k := 0; k < it.nops; k++ {
		c.off[k] += n * it.st[k][r]
	}
	c.idx[r] += n
	if c.idx[r] < it.shape[r] {
		return
	}
	for k := 0; k < it.nops; k++ {
		c.off[k] -= it.shape[r] * it.st[k][r]
	}
	c.idx[r] = 0
	for i := r - 1; i >= 0; i-- {
		c.idx[i]++
		for k := 0; k < it.nops; k++ {
			c.off[k] += it.st[k][i]
		}
		if c.idx[i] < it.shape[i] {
			return
		}
		for k := 0; k < it.nops; k++ {
			c.off[k] -= it.shape[i] * it.st[k][i]
		}
		c.idx[i] = 0
	}
}

// chunk returns the bounds of part i of n split into c nearly equal parts.
func chunk(n, c, i int) (lo, hi int) {
	q, r := n/c, n%c
	lo = i*q + min(i, r)
	hi = lo + q
	if i < r {
		hi++
	}
	return lo, hi
}

// Grain sizes: below twice these many elements an operation runs on the
// caller's goroutine. Transcendental functions cost more per element, so
// they split earlier.
const (
	grainCheap = 1 << 15
	grainMath  = 1 << 12
)

// elem is the concrete element type every operation runs on; a Dense[T] of
// a named float type is reinterpreted as its underlying type.
type elem interface{ float32 | float64 }

func is32[E elem]() bool { return unsafe.Sizeof(E(0)) == 4 }

// as reinterprets a slice of T as a slice of E with the same layout.
func as[E elem, T Float](s []T) []E {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// f32 and f64 reinterpret a slice of E as its concrete type (E is one of
// them; callers check is32 first).
func f32[E elem](s []E) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
func f64[E elem](s []E) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// pooledTask is a heap copy of a task with a prebuilt closure for
// parallel.Do, so a parallel operation does not allocate in steady state.
type pooledTask[X any] struct {
	task X
	n, c int
	fn   func(i int)
}

// Free lists of pooledTask, one per task type and element type. Not
// sync.Pools: a pool is emptied by garbage collections, after which every
// parallel operation allocated again (see package freelist).
var (
	ewPool32, ewPool64   freelist.List[any]
	redPool32, redPool64 freelist.List[any]
	rowPool32, rowPool64 freelist.List[any]
	allPool32, allPool64 freelist.List[any]
)

// runSplit runs t over [0, n) split into c ≥ 2 parts on parallel.Do, using
// a pooled copy of t.
func runSplit[X any, PX interface {
	*X
	run(lo, hi int)
}](pool *freelist.List[any], t *X, n, c int) {
	p, _ := pool.Get().(*pooledTask[X])
	if p == nil {
		p = new(pooledTask[X])
		p.fn = func(i int) {
			lo, hi := chunk(p.n, p.c, i)
			PX(&p.task).run(lo, hi)
		}
	}
	p.task, p.n, p.c = *t, n, c
	parallel.Do(c, p.fn)
	var zero X
	p.task = zero
	pool.Put(p)
}

// runEW runs t over [0, t.it.n), splitting across threads above grain.
func runEW[E elem](t *ewTask[E], grain int) {
	n := t.it.n
	c := parallel.NumChunks(n, grain)
	if c <= 1 {
		t.run(0, n)
		return
	}
	pool := &ewPool64
	if is32[E]() {
		pool = &ewPool32
	}
	runSplit(pool, t, n, c)
}
