package gemm

// Transpose says whether a GEMM operand is used as stored or transposed.
type Transpose byte

const (
	NoTrans Transpose = 'N'
	Trans   Transpose = 'T'
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices. op(A) is m×k and op(B) is k×n.
//
// TEMPORARY naive implementation: the packed, blocked version replaces it.
func Sgemm(tA, tB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	naive(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64.
func Dgemm(tA, tB Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	naive(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func naive[T float32 | float64](tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := range m {
		for j := range n {
			var s T
			for p := range k {
				var x, y T
				if tA == NoTrans {
					x = a[i*lda+p]
				} else {
					x = a[p*lda+i]
				}
				if tB == NoTrans {
					y = b[p*ldb+j]
				} else {
					y = b[j*ldb+p]
				}
				s += x * y
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}
