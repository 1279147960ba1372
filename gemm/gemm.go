package gemm

// Transpose says whether a GEMM operand is used as stored or transposed.
type Transpose byte

const (
	NoTrans Transpose = 'N' // use the matrix as stored
	Trans   Transpose = 'T' // use its transpose
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(X) is X or Xᵀ as tA and tB say, op(A) is m×k, op(B) is
// k×n and C is m×n. lda, ldb and ldc are the row strides of A, B and C as
// stored (see the package documentation for the layout).
//
// As in the reference BLAS, C is not read when beta == 0 (NaNs in it are
// overwritten), A and B are not read when alpha == 0 or k == 0, and nothing
// is done when m or n is 0, or when beta == 1 and alpha or k is 0.
//
// Sgemm panics, before writing anything, if tA or tB is invalid, a dimension
// is negative, a leading dimension is too small, a slice is too short for its
// dimensions, or the part of c that is written overlaps the part of a or b
// that is read; the panic value wraps ErrTranspose, ErrShape, ErrLeadingDim,
// ErrShort or ErrOverlap.
func Sgemm(tA, tB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	check("Sgemm", tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	run(0, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64: C = alpha·op(A)·op(B) + beta·C, with the same
// semantics and panics.
func Dgemm(tA, tB Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	check("Dgemm", tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	run(1, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// run handles the degenerate cases, then hands the product to the blocked
// driver. ti is 0 for float32, 1 for float64.
func run[T float32 | float64](ti int, tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		if beta != 1 {
			scale(m, n, beta, c, ldc)
		}
		return
	}
	if (m == 1 || n == 1) && routeGemv && vectorProduct(ti, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	kern := int(current.Load())
	if isSmall(kern, m, n, k) {
		gemmSmall(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemm(kern, ti, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// scale sets C = beta·C, or C = 0 without reading it when beta == 0.
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
