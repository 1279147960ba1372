package gemm

import (
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/igemm"
)

// The implicit GEMM (internal/igemm): Sgemm's packed path with B packed by
// the caller, for the module's convolutions. Registered here rather than
// exported so that the public API does not grow.
func init() {
	igemm.Sgemm = implicit[float32]
	igemm.Dgemm = implicit[float64]
}

// implicit computes C = alpha·A·pk's B + beta·C through the same driver,
// blocking, kernels and thread split as Sgemm (Dgemm) would use for
// NoTrans, NoTrans on the materialised B, so the result is bitwise the
// same. Where Sgemm would take another path (the direct small-matrix loop,
// or the transposed computation of a product narrower than a tile) it
// returns false and does nothing. B is always packed: the in-place reading
// of B for short products (directBRows) needs a stored B, and gives the
// same bits (TestImplicitMatchesSgemm).
func implicit[T float32 | float64](m, n, k int, alpha T, a []T, lda int, pk igemm.Packer[T], beta T, c []T, ldc int) bool {
	fn := "Sgemm (implicit)"
	ti := 0
	if unsafe.Sizeof(alpha) == 8 {
		fn, ti = "Dgemm (implicit)", 1
	}
	checkImplicit(fn, m, n, k, a, lda, c, ldc)
	if m == 0 || n == 0 {
		return true
	}
	if alpha == 0 || k == 0 {
		if beta != 1 {
			scale(m, n, beta, c, ldc)
		}
		return true
	}
	kern := int(current.Load())
	if isSmall(m, n, k) || swapEdges && swapPays(blocks[kern][ti], m, n) {
		return false
	}
	drivePacked(kern, ti, NoTrans, NoTrans, m, n, k, alpha, a, lda, nil, 0, pk, beta, c, ldc, false)
	return true
}

// checkImplicit is check without B, which only the packer sees.
func checkImplicit[T float32 | float64](fn string, m, n, k int, a []T, lda int, c []T, ldc int) {
	if m < 0 {
		usage(ErrShape, fn, "m %d < 0", m)
	}
	if n < 0 {
		usage(ErrShape, fn, "n %d < 0", n)
	}
	if k < 0 {
		usage(ErrShape, fn, "k %d < 0", k)
	}
	checkLD(fn, "lda", lda, k, "k")
	checkLD(fn, "ldc", ldc, n, "n")
	checkLen(fn, "a", len(a), m, k, lda)
	checkLen(fn, "c", len(c), m, n, ldc)
	if m > 0 && n > 0 && k > 0 && overlaps(a, m, k, lda, c, m, n, ldc) {
		usage(ErrOverlap, fn, "c overlaps a")
	}
}
