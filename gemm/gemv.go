package gemm

import (
	"github.com/adjoint-go/adjoint/internal/freelist"
	"github.com/adjoint-go/adjoint/parallel"
)

// Sgemv computes y = alpha·op(A)·x + beta·y for a row-major float32 matrix
// A of m rows and n columns as stored, with row stride lda; op(A) is A
// (tA == NoTrans: x has n elements, y has m) or Aᵀ (tA == Trans: x has m
// elements, y has n). x and y are contiguous.
//
// It is Sgemm with one side a single vector, and follows its rules: y is
// not read when beta == 0 (NaNs in it are overwritten), A and x are not
// read when alpha == 0 or op(A) has no columns, and nothing is done when y
// is empty. A matrix-vector product reads each element of A once, so its
// speed is the speed at which A streams from memory: the kernels read
// several rows of A at a time in whole vectors, and a large product is
// split across threads over the elements of y, each computed by one thread
// in a fixed order, so the result does not depend on the thread count.
//
// Sgemv panics, before writing anything, if tA is invalid, m or n is
// negative, lda < max(1, n), a slice is too short for its dimensions, or y
// overlaps the part of a or x that is read; the panic value wraps
// ErrTranspose, ErrShape, ErrLeadingDim, ErrShort or ErrOverlap.
func Sgemv(tA Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	checkGemv("Sgemv", tA, m, n, a, lda, x, y)
	gemv(0, tA, m, n, alpha, a, lda, x, beta, y)
}

// Dgemv is Sgemv for float64: y = alpha·op(A)·x + beta·y, with the same
// semantics and panics.
func Dgemv(tA Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64) {
	checkGemv("Dgemv", tA, m, n, a, lda, x, y)
	gemv(1, tA, m, n, alpha, a, lda, x, beta, y)
}

// routeGemv sends Sgemm's and Dgemm's products with one side a vector to
// the GEMV kernels (a variable so that the tuning harness and the
// benchmarks can compare).
var routeGemv = true

// vectorProduct computes a checked GEMM product with m == 1 or n == 1 (k
// >= 1, alpha != 0) through gemv when the vector operands are contiguous,
// and reports whether it did. One row of C is op(B)ᵀ times a row of op(A);
// one column of C is op(A) times a column of op(B). Packing for the blocked
// path costs more than such a product, which reads each element of the
// matrix once, and its tiles are mostly padding.
func vectorProduct[T float32 | float64](ti int, tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) bool {
	aVec := tA == NoTrans || lda == 1 // op(A)'s row is contiguous (m == 1)
	bVec := tB == Trans || ldb == 1   // op(B)'s column is contiguous (n == 1)
	switch {
	case m == 1 && n == 1 && aVec && bVec: // a dot product, as one row
		gemv(ti, NoTrans, 1, k, alpha, b, k, a, beta, c)
		return true
	case m == 1 && aVec:
		if tB == NoTrans { // B is k×n
			gemv(ti, Trans, k, n, alpha, b, ldb, a, beta, c)
		} else { // B is n×k
			gemv(ti, NoTrans, n, k, alpha, b, ldb, a, beta, c)
		}
		return true
	case n == 1 && ldc == 1 && bVec:
		if tA == NoTrans { // A is m×k
			gemv(ti, NoTrans, m, k, alpha, a, lda, b, beta, c)
		} else { // A is k×m
			gemv(ti, Trans, k, m, alpha, a, lda, b, beta, c)
		}
		return true
	}
	return false
}

// checkGemv validates a GEMV call as check does a GEMM call.
func checkGemv[T float32 | float64](fn string, tA Transpose, m, n int, a []T, lda int, x, y []T) {
	if tA != NoTrans && tA != Trans {
		usage(ErrTranspose, fn, "tA %q is neither NoTrans nor Trans", byte(tA))
	}
	if m < 0 {
		usage(ErrShape, fn, "m %d < 0", m)
	}
	if n < 0 {
		usage(ErrShape, fn, "n %d < 0", n)
	}
	checkLD(fn, "lda", lda, n, "n")
	lx, ly := n, m
	if tA == Trans {
		lx, ly = m, n
	}
	checkLen(fn, "a", len(a), m, n, lda)
	checkLen(fn, "x", len(x), 1, lx, lx)
	checkLen(fn, "y", len(y), 1, ly, ly)
	if ly == 0 {
		return
	}
	if m > 0 && n > 0 && overlaps(a, m, n, lda, y, 1, ly, ly) {
		usage(ErrOverlap, fn, "y overlaps a")
	}
	if lx > 0 && overlaps(x, 1, lx, lx, y, 1, ly, ly) {
		usage(ErrOverlap, fn, "y overlaps x")
	}
}

// Work split of a matrix-vector product: in units of gemvRows rows of A
// (NoTrans) or gemvCols columns (Trans), at least gemvGrain elements of A
// per thread. At most gemvColBlock columns of y (Trans: 16 KB of float32,
// half an L1) are updated by every row of A before the next block, so that
// they stay in L1 between rows.
const (
	gemvRows     = 4
	gemvCols     = 16
	gemvGrain    = 1 << 15
	gemvColBlock = 4096
)

// gemvCall carries one product to the threads; body is its run method bound
// once, so a parallel call allocates nothing.
type gemvCall[T float32 | float64] struct {
	asm         bool
	tA          Transpose
	m, n        int
	alpha, beta T
	a, x, y     []T
	lda         int
	body        func(lo, hi int)
}

var (
	gemvCalls32 freelist.List[*gemvCall[float32]]
	gemvCalls64 freelist.List[*gemvCall[float64]]
)

func gemvList[T float32 | float64]() *freelist.List[*gemvCall[T]] {
	if l, ok := any(&gemvCalls32).(*freelist.List[*gemvCall[T]]); ok {
		return l
	}
	return any(&gemvCalls64).(*freelist.List[*gemvCall[T]])
}

// gemv runs a checked call. ti is 0 for float32, 1 for float64.
func gemv[T float32 | float64](ti int, tA Transpose, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	k, ly := n, m
	if tA == Trans {
		k, ly = m, n
	}
	if ly == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		if beta != 1 {
			scale(1, ly, beta, y, ly)
		}
		return
	}
	_ = ti
	kern := int(current.Load())
	asm := haveGemvAsm && (kern == kernAVX2 || kern == kernAVX512)
	units, unit := ceilDiv(m, gemvRows), gemvRows*n
	if tA == Trans {
		units, unit = ceilDiv(n, gemvCols), gemvCols*m
	}
	grain := max(1, gemvGrain/unit)
	if parallel.NumChunks(units, grain) <= 1 {
		if tA == Trans {
			gemvTRange(asm, m, n, alpha, a, lda, x, beta, y)
		} else {
			gemvNRange(asm, m, n, alpha, a, lda, x, beta, y)
		}
		return
	}
	l := gemvList[T]()
	cl := l.Get()
	if cl == nil {
		cl = new(gemvCall[T])
		cl.body = cl.run
	}
	cl.asm, cl.tA, cl.m, cl.n, cl.alpha, cl.beta = asm, tA, m, n, alpha, beta
	cl.a, cl.lda, cl.x, cl.y = a, lda, x, y
	parallel.For(units, grain, cl.body)
	cl.a, cl.x, cl.y = nil, nil, nil
	l.Put(cl)
}

// run computes the units [lo, hi) of the split.
func (cl *gemvCall[T]) run(lo, hi int) {
	if cl.tA == Trans {
		j0, j1 := lo*gemvCols, min(hi*gemvCols, cl.n)
		gemvTRange(cl.asm, cl.m, j1-j0, cl.alpha, cl.a[j0:], cl.lda, cl.x, cl.beta, cl.y[j0:j1])
		return
	}
	i0, i1 := lo*gemvRows, min(hi*gemvRows, cl.m)
	gemvNRange(cl.asm, i1-i0, cl.n, cl.alpha, cl.a[i0*cl.lda:], cl.lda, cl.x, cl.beta, cl.y[i0:i1])
}

// gemvNRange computes y[:m] = alpha·A·x + beta·y for m >= 1 rows of A
// (n >= 1, alpha != 0).
func gemvNRange[T float32 | float64](asm bool, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	if asm {
		switch a := any(a).(type) {
		case []float32:
			sgemvNAVX2(m, n, &a[0], lda, pf32(x), pf32(y), float32(alpha), float32(beta))
		case []float64:
			dgemvNAVX2(m, n, &a[0], lda, pf64(x), pf64(y), float64(alpha), float64(beta))
		}
		return
	}
	gemvNGeneric(m, n, alpha, a, lda, x, beta, y)
}

// gemvTRange computes y[:n] = alpha·Aᵀ·x + beta·y for n >= 1 columns of A
// (m >= 1, alpha != 0), a block of columns at a time.
func gemvTRange[T float32 | float64](asm bool, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	if beta != 1 {
		scale(1, n, beta, y, n)
	}
	// Blocks of equal width, at most gemvColBlock, in whole vectors: a
	// narrow last block would read every row of A again for a few columns.
	nb := ceilDiv(ceilDiv(n, ceilDiv(n, gemvColBlock)), gemvCols) * gemvCols
	for j0 := 0; j0 < n; j0 += nb {
		nb := min(nb, n-j0)
		if asm {
			switch a := any(a).(type) {
			case []float32:
				sgemvTAVX2(m, nb, &a[j0], lda, pf32(x), pf32(y[j0:]), float32(alpha))
			case []float64:
				dgemvTAVX2(m, nb, &a[j0], lda, pf64(x), pf64(y[j0:]), float64(alpha))
			}
			continue
		}
		gemvTGeneric(m, nb, alpha, a[j0:], lda, x, y[j0:j0+nb])
	}
}

// gemvNGeneric is the portable gemvN (see gemv_amd64.go): four rows at a
// time, reading x once for the four; every row's sum in the same order
// (even and odd columns apart, then added), alone or in a group.
func gemvNGeneric[T float32 | float64](m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	x = x[:n]
	i := 0
	for ; i+4 <= m; i += 4 {
		r0 := a[i*lda : i*lda+n]
		r1 := a[(i+1)*lda : (i+1)*lda+n]
		r2 := a[(i+2)*lda : (i+2)*lda+n]
		r3 := a[(i+3)*lda : (i+3)*lda+n]
		var s0, s1, s2, s3, t0, t1, t2, t3 T
		j := 0
		for ; j+2 <= n; j += 2 {
			u, v := x[j], x[j+1]
			s0 += r0[j] * u
			s1 += r1[j] * u
			s2 += r2[j] * u
			s3 += r3[j] * u
			t0 += r0[j+1] * v
			t1 += r1[j+1] * v
			t2 += r2[j+1] * v
			t3 += r3[j+1] * v
		}
		if j < n {
			u := x[j]
			s0 += r0[j] * u
			s1 += r1[j] * u
			s2 += r2[j] * u
			s3 += r3[j] * u
		}
		yi := y[i : i+4 : i+4]
		gemvStore(&yi[0], s0+t0, alpha, beta)
		gemvStore(&yi[1], s1+t1, alpha, beta)
		gemvStore(&yi[2], s2+t2, alpha, beta)
		gemvStore(&yi[3], s3+t3, alpha, beta)
	}
	for ; i < m; i++ {
		r := a[i*lda : i*lda+n]
		var s, t T
		j := 0
		for ; j+2 <= n; j += 2 {
			s += r[j] * x[j]
			t += r[j+1] * x[j+1]
		}
		if j < n {
			s += r[j] * x[j]
		}
		gemvStore(&y[i], s+t, alpha, beta)
	}
}

func gemvStore[T float32 | float64](y *T, s, alpha, beta T) {
	if beta == 0 {
		*y = alpha * s
	} else {
		*y = alpha*s + beta**y
	}
}

// gemvTGeneric is the portable gemvT (see gemv_amd64.go): y += alpha·Aᵀ·x
// over m rows and n columns, four rows per pass over y, each y[j] updated
// row after row in order.
func gemvTGeneric[T float32 | float64](m, n int, alpha T, a []T, lda int, x, y []T) {
	y = y[:n]
	i := 0
	for ; i+4 <= m; i += 4 {
		t0, t1, t2, t3 := alpha*x[i], alpha*x[i+1], alpha*x[i+2], alpha*x[i+3]
		r0 := a[i*lda : i*lda+n]
		r1 := a[(i+1)*lda : (i+1)*lda+n]
		r2 := a[(i+2)*lda : (i+2)*lda+n]
		r3 := a[(i+3)*lda : (i+3)*lda+n]
		for j := range y {
			v := y[j]
			v += t0 * r0[j]
			v += t1 * r1[j]
			v += t2 * r2[j]
			v += t3 * r3[j]
			y[j] = v
		}
	}
	for ; i < m; i++ {
		t := alpha * x[i]
		r := a[i*lda : i*lda+n]
		for j := range y {
			y[j] += t * r[j]
		}
	}
}
