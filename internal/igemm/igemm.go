// Package igemm is the module's implicit GEMM: gemm's blocked product with
// the B operand packed by the caller, straight into gemm's panel layout,
// so that a B that exists only implicitly (the patch matrix of a
// convolution) is never built. It is internal so that gemm's public API
// does not grow: package gemm fills in the entry points at init, and the
// module's convolutions call them.
//
// # Panel layout
//
// A Packer writes micro-panels of B exactly as gemm's own packing of a
// row-major B does (see PackB), so a product through Gemm performs the same
// operations in the same order as Sgemm or Dgemm on the materialised B,
// and its result is bitwise the same, for every thread count.
//
// # Concurrency
//
// PackB is called from several goroutines at once, for disjoint
// micro-panels of one panel: it must only read shared state.
package igemm

import "unsafe"

// Packer packs panels of a k×n matrix B that is not stored.
type Packer[T float32 | float64] interface {
	// PackB writes micro-panels [q0, q1) of the kb×nb panel of B at row
	// p0, column j0 into dst: micro-panel q holds kb groups of nr values,
	// dst[q·nr·kb + p·nr + j] = B(p0+p, j0+q·nr+j), columns past nb zero.
	// A partial last micro-panel (nb − q·nr < nr columns) is ew wide
	// instead (ew >= its columns), still from dst[q·nr·kb].
	PackB(dst []T, p0, j0, nb, kb, nr, ew, q0, q1 int)
}

// InPlace is implemented by a Packer whose B can also be read where it
// lies, row by row: B(r, j) = base[off[r]+j] for every row r < k and
// column j < n of the product. GEMM's AVX-512 kernels then read full
// micro-panels of B straight from base through the offset table, as Sgemm
// reads a stored B in place for short products, and pack only the last,
// partial micro-panel of each panel through PackB. The kernels perform the
// same operations in the same order either way, so the result is bitwise
// the same. GEMM checks that off has k entries and that every row's n
// values lie inside base (it panics otherwise).
type InPlace[T float32 | float64] interface {
	// RowsInPlace returns base and off, or nil where B cannot be read in
	// place now (PackB is used for all of it).
	RowsInPlace() (base []T, off []int)
}

// Entry points, set by package gemm's init: C = alpha·A·B + beta·C with A
// m×k row-major (stride lda), C m×n (stride ldc) and B packed by b. They
// report false, doing nothing, where Sgemm (Dgemm) would not take its
// packed path for this shape (tiny products, and products narrower than a
// tile, which it computes transposed): the caller then materialises B and
// calls Sgemm, which keeps the two bitwise the same. They panic (gemm's
// errors) on bad dimensions, strides or lengths.
var (
	Sgemm func(m, n, k int, alpha float32, a []float32, lda int, b Packer[float32], beta float32, c []float32, ldc int) bool
	Dgemm func(m, n, k int, alpha float64, a []float64, lda int, b Packer[float64], beta float64, c []float64, ldc int) bool
	// ReadsInPlace reports whether Sgemm (f64: Dgemm) with m rows of C
	// would read the B of an InPlace packer in place, with the kernel
	// selected now: the module's convolutions choose their path by it.
	ReadsInPlace func(m int, f64 bool) bool
)

// Gemm calls Sgemm or Dgemm as T says.
func Gemm[T float32 | float64](m, n, k int, alpha T, a []T, lda int, b Packer[T], beta T, c []T, ldc int) bool {
	if unsafe.Sizeof(alpha) == 4 {
		return Sgemm(m, n, k, float32(alpha), f32(a), lda, any(b).(Packer[float32]), float32(beta), f32(c), ldc)
	}
	return Dgemm(m, n, k, float64(alpha), f64(a), lda, any(b).(Packer[float64]), float64(beta), f64(c), ldc)
}

func f32[T float32 | float64](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func f64[T float32 | float64](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// Convolution paths, for ConvPath.
const (
	ConvAuto     = iota // the module's rule picks per shape
	ConvIm2Col          // materialise the patch matrix, then Sgemm
	ConvImplicit        // pack patches straight into the panels (Patches)
)

// ConvPath forces the path of autograd's Conv2d, for the tests that
// compare the two and for BenchmarkConv2d; ConvAuto otherwise. Not safe to
// change while a convolution runs.
var ConvPath = ConvAuto
