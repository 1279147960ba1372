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
	igemm.ReadsInPlace = readsInPlace
}

// readsInPlace is implicit's condition for reading an igemm.InPlace B in
// place.
func readsInPlace(m int, f64 bool) bool {
	ti := 0
	if f64 {
		ti = 1
	}
	kd := &kernels[current.Load()]
	return kd.rowOffsets && m <= kd.directBRows[ti]
}

// implicit computes C = alpha·A·pk's B + beta·C through the same driver,
// blocking, kernels and thread split as Sgemm (Dgemm) would use for
// NoTrans, NoTrans on the materialised B, so the result is bitwise the
// same. Where Sgemm would take another path (the direct small-matrix loop,
// or the transposed computation of a product narrower than a tile) it
// returns false and does nothing. B is packed through pk, unless pk also
// implements igemm.InPlace: then, as Sgemm reads a stored B in place for
// short products (kernelDesc.directBRows), the kernels with row-offset
// variants (kernelDesc.rowOffsets: AVX-512) read full micro-panels through its row offsets, which gives the same bits
// (TestImplicitMatchesSgemm).
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
	if isSmall(kern, m, n, k) || swapEdges && swapPays(blocks[kern][ti], m, n) {
		return false
	}
	// B in place where the packer offers it and Sgemm would read a
	// stored B in place (the same cut-off, directBRows): the kernels
	// differ only in where they load B's rows from, so the bits are
	// Sgemm's either way.
	var base []T
	var boff []int
	if ip, ok := pk.(igemm.InPlace[T]); ok && kernels[kern].rowOffsets && m <= kernels[kern].directBRows[ti] {
		base, boff = ip.RowsInPlace()
		if base == nil {
			boff = nil
		} else {
			checkInPlace(fn, n, k, base, boff)
		}
	}
	drivePacked(kern, ti, NoTrans, NoTrans, m, n, k, alpha, a, lda, base, 0, pk, boff, beta, c, ldc, false)
	return true
}

// checkInPlace panics unless off has k entries and every row's n values,
// base[off[r] : off[r]+n], lie inside base: the kernels read them unchecked.
func checkInPlace[T float32 | float64](fn string, n, k int, base []T, off []int) {
	if len(off) < k {
		usage(ErrShort, fn, "in-place B: %d row offsets, want %d", len(off), k)
	}
	for r, o := range off[:k] {
		if o < 0 || o > len(base)-n {
			usage(ErrShort, fn, "in-place B: row %d at offset %d, %d values, base has %d", r, o, n, len(base))
		}
	}
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
