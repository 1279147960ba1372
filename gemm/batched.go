package gemm

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/adjoint-go/adjoint/parallel"
)

// SgemmStrided computes batch products of the same shape at fixed strides,
// for i in [0, batch):
//
//	C_i = alpha·op(A_i)·op(B_i) + beta·C_i
//
// where A_i starts at a[i·strideA], B_i at b[i·strideB] and C_i at
// c[i·strideC], each laid out as Sgemm's operand with leading dimension
// lda, ldb or ldc (the layout of cuBLAS's cublasSgemmStridedBatched). A
// stride of 0 reuses one A or B for every product (a broadcast operand);
// the C_i must not overlap one another, but may interleave (strideC = n
// with ldc ≥ batch·n writes the products side by side, as attention heads
// sit in one row).
//
// Products run in parallel across the batch when there are at least as many
// as threads, each product then on one goroutine; a smaller batch runs its
// products one after the other, each split across the threads as Sgemm
// splits it. Each C_i is computed exactly as Sgemm would compute it alone,
// so results are bitwise identical for every thread count and equal to a
// loop of Sgemm calls.
//
// It panics, before writing anything, for the reasons Sgemm does (checked
// for the whole batch: every A_i, B_i and C_i must fit its slice), for a
// negative batch or stride, or when two C_i overlap or a C_i overlaps an
// A_j or B_j; the panic value wraps ErrShape, ErrShort or ErrOverlap as
// Sgemm's does.
func SgemmStrided(tA, tB Transpose, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	checkStrided("SgemmStrided", tA, tB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch)
	runStrided(0, tA, tB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
}

// DgemmStrided is SgemmStrided for float64, with the same semantics and
// panics.
func DgemmStrided(tA, tB Transpose, m, n, k int, alpha float64, a []float64, lda, strideA int, b []float64, ldb, strideB int, beta float64, c []float64, ldc, strideC int, batch int) {
	checkStrided("DgemmStrided", tA, tB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch)
	runStrided(1, tA, tB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
}

// checkStrided validates a strided batched call: the first product as
// Sgemm checks it, then the extents of the last, then overlaps between
// products.
func checkStrided[T float32 | float64](fn string, tA, tB Transpose, m, n, k int, a []T, lda, sA int, b []T, ldb, sB int, c []T, ldc, sC int, batch int) {
	if batch < 0 {
		usage(ErrShape, fn, "batch %d < 0", batch)
	}
	for _, s := range [...]struct {
		name string
		v    int
	}{{"strideA", sA}, {"strideB", sB}, {"strideC", sC}} {
		if s.v < 0 {
			usage(ErrShape, fn, "%s %d < 0", s.name, s.v)
		}
	}
	if batch == 0 {
		return
	}
	// The first product through Sgemm's checks (transposes, dimensions,
	// leading dimensions, lengths, overlap of C_0 with A_0 and B_0).
	check(fn, tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	ar, ac := m, k
	if tA == Trans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB == Trans {
		br, bc = n, k
	}
	last := batch - 1
	checkBatchLen(fn, "a", len(a), ar, ac, lda, sA, last)
	checkBatchLen(fn, "b", len(b), br, bc, ldb, sB, last)
	checkBatchLen(fn, "c", len(c), m, n, ldc, sC, last)
	if m == 0 || n == 0 || batch == 1 {
		return
	}
	if sC == 0 {
		usage(ErrOverlap, fn, "strideC 0 with batch %d: the products' C overlap", batch)
	}
	// C_i and C_j overlap exactly when C_0 and C_{j−i} do (same leading
	// dimension, so overlaps decides exactly).
	// Past the extent of C_0, no C_d can reach back into it: O(min(batch,
	// extent/strideC)) probes.
	ext := (m-1)*ldc + n
	for d := 1; d < batch && d*sC < ext; d++ {
		if overlaps(c[d*sC:], m, n, ldc, c, m, n, ldc) {
			usage(ErrOverlap, fn, "c of product %d overlaps c of product 0 (strideC %d, ldc %d, %d×%d)", d, sC, ldc, m, n)
		}
	}
	checkBatchOverlap(fn, "a", a, ar, ac, lda, sA, c, m, n, ldc, sC, batch)
	checkBatchOverlap(fn, "b", b, br, bc, ldb, sB, c, m, n, ldc, sC, batch)
}

// checkBatchLen checks that the last product's operand fits (the first was
// checked by check): last·stride + (rows−1)·ld + cols <= l, decided
// without computing the left side, which may overflow (a stride of 1<<62
// with 3 products wrapped round and passed).
func checkBatchLen(fn, name string, l, rows, cols, ld, stride, last int) {
	if rows == 0 || cols == 0 || last == 0 {
		return
	}
	ext := (rows-1)*ld + cols // <= l: checked by check
	if stride <= (l-ext)/last {
		return
	}
	need := fmt.Sprintf("%d·%d + %d (more than MaxInt64)", last, stride, ext)
	if int64(stride) <= (math.MaxInt64-int64(ext))/int64(last) {
		need = fmt.Sprint(int64(last)*int64(stride) + int64(ext))
	}
	usage(ErrShort, fn, "len(%s) %d < %s (%d products %d×%d, ld %d, stride %d)", name, l, need, last+1, rows, cols, ld, stride)
}

// checkBatchOverlap panics if any C_i overlaps any X_j. When the whole
// ranges are disjoint (the usual case) that is one comparison. Otherwise
// the rows of every C_i (disjoint from one another, checked before) are
// sorted by address, and each row of each X_j is looked up among them by
// binary search: O(R log R) for R rows in all, where comparing every pair
// of products took 7–11 s for 40,000 tiny ones. This path allocates the
// row list; the usual layouts never reach it. Rows are compared element
// by element, so interleaved layouts that share no element pass.
func checkBatchOverlap[T float32 | float64](fn, name string, x []T, rows, cols, ldx, sX int, c []T, m, n, ldc, sC, batch int) {
	if rows == 0 || cols == 0 {
		return
	}
	xLo, _ := span(x, rows, cols, ldx)
	_, xHi := span(x[(batch-1)*sX:], rows, cols, ldx)
	cLo, _ := span(c, m, n, ldc)
	_, cHi := span(c[(batch-1)*sC:], m, n, ldc)
	if xHi <= cLo || cHi <= xLo {
		return
	}
	size := unsafe.Sizeof(c[0])
	type row struct {
		lo, hi  uintptr
		product int
	}
	// Only the C rows inside X's whole range matter, and only the X rows
	// inside C's.
	crows := make([]row, 0, min(batch*m, 1<<16))
	for i := range batch {
		for r := range m {
			lo := cLo + uintptr(i*sC+r*ldc)*size
			hi := lo + uintptr(n)*size
			if hi > xLo && lo < xHi {
				crows = append(crows, row{lo, hi, i})
			}
		}
	}
	slices.SortFunc(crows, func(p, q row) int { return cmp.Compare(p.lo, q.lo) })
	for j := range batch {
		if j > 0 && sX == 0 {
			break // every X_j is X_0
		}
		for r := range rows {
			lo := xLo + uintptr(j*sX+r*ldx)*size
			hi := lo + uintptr(cols)*size
			if hi <= cLo || lo >= cHi {
				continue
			}
			// The first C row ending after lo; C rows are disjoint, so
			// sorted by start they are sorted by end too.
			k, _ := slices.BinarySearchFunc(crows, lo, func(p row, t uintptr) int {
				if p.hi <= t {
					return -1
				}
				return 1
			})
			if k < len(crows) && crows[k].lo < hi {
				usage(ErrOverlap, fn, "c of product %d overlaps %s of product %d", crows[k].product, name, j)
			}
		}
	}
}

// stridedCall carries a batched call to the goroutines of parallel.For. It
// is kept on a free list and its method bound once, so a call allocates nothing.
type stridedCall[T float32 | float64] struct {
	ti            int
	tA, tB        Transpose
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
	sA, sB, sC    int
	body          func(lo, hi int)
}

func (s *stridedCall[T]) products(lo, hi int) {
	for i := lo; i < hi; i++ {
		s.one(i)
	}
}

// one runs product i through the single-product path. Within a parallel
// batch it stays on this goroutine (the batch already fills the threads).
func (s *stridedCall[T]) one(i int) {
	a := s.a[i*s.sA:]
	b := s.b[i*s.sB:]
	c := s.c[i*s.sC:]
	run(s.ti, s.tA, s.tB, s.m, s.n, s.k, s.alpha, a, s.lda, b, s.ldb, s.beta, c, s.ldc)
}

// stridedGrainFlops is the least work (2·m·n·k per product) one parallel
// chunk of the batch should carry: below it the hand-off to a worker costs
// more than it saves (about 10–16 µs a hand-off, see parMinFlops).
const stridedGrainFlops = 2 * 64 * 64 * 64

func runStrided[T float32 | float64](ti int, tA, tB Transpose, m, n, k int, alpha T, a []T, lda, sA int, b []T, ldb, sB int, beta T, c []T, ldc, sC int, batch int) {
	if batch == 0 || m == 0 || n == 0 {
		return
	}
	if batch == 1 || batch < parallel.Threads() {
		// Few products: one after the other, each split across the
		// threads by the single-product driver.
		for i := range batch {
			run(ti, tA, tB, m, n, k, alpha, a[i*sA:], lda, b[i*sB:], ldb, beta, c[i*sC:], ldc)
		}
		return
	}
	s := stridedList[T]().Get()
	if s == nil {
		s = new(stridedCall[T])
		s.body = s.products
	}
	s.ti, s.tA, s.tB, s.m, s.n, s.k, s.alpha, s.beta = ti, tA, tB, m, n, k, alpha, beta
	s.a, s.b, s.c, s.lda, s.ldb, s.ldc, s.sA, s.sB, s.sC = a, b, c, lda, ldb, ldc, sA, sB, sC
	flops := 2 * float64(m) * float64(n) * float64(k)
	grain := 1
	if flops < stridedGrainFlops {
		grain = int(stridedGrainFlops / max(flops, 1))
	}
	// Each product is written by exactly one goroutine and computed as
	// Sgemm computes it, so the split does not change any bit.
	parallel.For(batch, grain, s.body)
	s.a, s.b, s.c = nil, nil, nil
	stridedList[T]().Put(s)
}
