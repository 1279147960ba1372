package gonumblas

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/adjoint-go/adjoint/gemm"
)

// Implementation is gonum's pure-Go BLAS with Sgemm and Dgemm replaced by
// adjoint's packed GEMM. Every other routine is gonum's, promoted from the
// embedded gonum.Implementation. The zero value is ready to use.
type Implementation struct{ gonum.Implementation }

var (
	_ blas.Float64 = Implementation{}
	_ blas.Float32 = Implementation{}
)

// Panic strings, identical to those of gonum.org/v1/gonum/blas/gonum so that
// code which recovers a BLAS panic and compares it keeps working.
const (
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badTranspose = "blas: illegal transpose"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

// Dgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(A) is m×k and op(B) is k×n, with adjoint's gemm.Dgemm. The
// arguments are checked by gonum's rules, in gonum's order, with gonum's
// panic values, before anything is read or written. blas.ConjTrans means
// blas.Trans for real matrices.
func (Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ta, tb, run := check(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc, alpha == 0, beta)
	if !run {
		return
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	a, lda, b, ldb = isolate(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)
	gemm.Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm is Dgemm for float32, with gemm.Sgemm.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb, run := check(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc, alpha == 0, float64(beta))
	if !run {
		return
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	a, lda, b, ldb = isolate(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)
	gemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// check applies gonum's argument checks for ?gemm (blas/gonum/dgemm.go), in
// the same order, panicking with the same values. It returns the transpose
// flags for package gemm, and run = false when gonum returns early without
// touching C.
func check(tA, tB blas.Transpose, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int, alphaZero bool, beta float64) (ta, tb gemm.Transpose, run bool) {
	ta, okA := trans(tA)
	if !okA {
		panic(badTranspose)
	}
	tb, okB := trans(tB)
	if !okB {
		panic(badTranspose)
	}
	switch {
	case m < 0:
		panic(mLT0)
	case n < 0:
		panic(nLT0)
	case k < 0:
		panic(kLT0)
	}
	if ta == gemm.Trans {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if tb == gemm.Trans {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return ta, tb, false
	}
	if ta == gemm.Trans {
		if lenA < (k-1)*lda+m {
			panic(shortA)
		}
	} else if lenA < (m-1)*lda+k {
		panic(shortA)
	}
	if tb == gemm.Trans {
		if lenB < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if lenB < (k-1)*ldb+n {
		panic(shortB)
	}
	if lenC < (m-1)*ldc+n {
		panic(shortC)
	}
	if (alphaZero || k == 0) && beta == 1 {
		return ta, tb, false
	}
	return ta, tb, true
}

// trans maps a gonum transpose flag to gemm's; ConjTrans is Trans for real
// matrices.
func trans(t blas.Transpose) (gemm.Transpose, bool) {
	switch t {
	case blas.NoTrans:
		return gemm.NoTrans, true
	case blas.Trans, blas.ConjTrans:
		return gemm.Trans, true
	}
	return 0, false
}

// scale sets C = beta·C; beta = 0 overwrites C without reading it, as
// reference BLAS does, so NaN in C does not survive.
func scale[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// isolate returns A and B unchanged unless the memory range that C spans
// overlaps the range of A or B, in which case that operand is first copied
// into a packed temporary. gonum's BLAS accepts such calls: gonum's LAPACK
// routinely updates a trailing sub-matrix in place from panels of the same
// matrix (Dgetrf: A22 -= A21·A12), where the elements are disjoint but the
// address ranges interleave. package gemm rejects any range overlap, so the
// copy keeps every call gonum accepts working. It costs O(mk) or O(kn)
// against the O(mnk) product and happens only for such calls.
func isolate[T float32 | float64](ta, tb gemm.Transpose, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) ([]T, int, []T, int) {
	ar, ac := m, k
	if ta == gemm.Trans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb == gemm.Trans {
		br, bc = n, k
	}
	cLo, cHi := span(c, m, n, ldc)
	if lo, hi := span(a, ar, ac, lda); lo < cHi && cLo < hi {
		a, lda = packed(a, ar, ac, lda), ac
	}
	if lo, hi := span(b, br, bc, ldb); lo < cHi && cLo < hi {
		b, ldb = packed(b, br, bc, ldb), bc
	}
	return a, lda, b, ldb
}

// span returns the address range [lo, hi) of a rows×cols matrix with
// leading dimension ld stored in s (rows, cols > 0, length checked).
func span[T float32 | float64](s []T, rows, cols, ld int) (lo, hi uintptr) {
	lo = uintptr(unsafe.Pointer(&s[0]))
	hi = uintptr(unsafe.Pointer(&s[(rows-1)*ld+cols-1])) + unsafe.Sizeof(s[0])
	return lo, hi
}

// packed copies a rows×cols matrix into a new slice with leading dimension
// cols.
func packed[T float32 | float64](s []T, rows, cols, ld int) []T {
	d := make([]T, rows*cols)
	for i := range rows {
		copy(d[i*cols:(i+1)*cols], s[i*ld:i*ld+cols])
	}
	return d
}
