// Package gemm is adjoint's matrix multiplication: row-major BLAS-style
// SGEMM and DGEMM,
//
//	C = alpha·op(A)·op(B) + beta·C,
//
// with op(X) = X or Xᵀ, built the way Goto's BLAS and BLIS are: operands
// packed into cache-sized panels, and a register-blocked microkernel in
// AVX-512 or AVX2+FMA assembly on amd64 (a portable Go kernel elsewhere, or
// when forced), spread over goroutines with package parallel.
//
// # Layout
//
// Matrices are row-major: element (i, j) of a matrix stored with leading
// dimension ld is s[i*ld+j], so ld is the distance between the starts of two
// rows and must be at least the number of columns (and at least 1). The
// transposes apply to the stored matrices: with tA == NoTrans, A is stored
// m×k (lda >= k); with tA == Trans it is stored k×m (lda >= m) and used
// transposed. Likewise B is stored k×n (ldb >= n) or n×k (ldb >= k). C is
// m×n with ldc >= n. A slice must be long enough to hold the last element
// used, (rows−1)·ld + cols; elements between rows are never read or written.
//
// # Kernels
//
// The best kernel the CPU supports is chosen at start-up: "avx512" (AVX-512F),
// "avx2" (AVX2 and FMA) or "generic" (pure Go; the only one on other
// architectures or with the purego build tag). The environment variable
// ADJOINT_KERNEL=generic|avx2|avx512 forces one at start-up, and SetKernel at
// run time; Kernel names the one in use and Kernels lists those available.
//
// The AVX-512 family has, besides its 8×48 (float32) and 8×24 (float64)
// tile, narrower and shorter variants for the last partial column and row
// panels (NR 32, 16 or 16, 8; MR 4, 2), so edge tiles cost in proportion to
// their size, and variants that read B in place for products of at most 64
// rows, where packing B would cost more than it saves. The choice depends
// only on the shape. Packing transposes 8-row blocks in vector registers
// where AVX is available.
//
// Different kernels round differently (the assembly fuses multiply-adds), so
// results can differ between kernels in the last bits, never between runs or
// thread counts with the same kernel.
//
// # Panics
//
// Sgemm and Dgemm panic, before writing anything, on programmer errors: a
// Transpose other than NoTrans and Trans (ErrTranspose), a negative m, n or k
// (ErrShape), a leading dimension too small (ErrLeadingDim), a slice too
// short for its dimensions (ErrShort), or C overlapping A or B (ErrOverlap).
// The panic value is an error that wraps one of these sentinels, so
// errors.Is matches it, and whose message names the function, the argument
// and the values, e.g. "gemm: Sgemm: lda 3 < k 4".
//
// # Aliasing
//
// The elements of c that are written must not share memory with the
// elements of a or b that are read; this is checked (by address range) and
// panics with ErrOverlap. A and B may alias each other freely (for example
// A·Aᵀ with the same slice), since both are only read.
//
// # Concurrency
//
// Sgemm and Dgemm may be called from any number of goroutines at once, as
// long as no two calls write overlapping parts of C. A large product is split
// over up to parallel.Threads() goroutines, over the rows and columns of C
// only, never over k, so the result is bitwise identical for any thread
// count. Pack buffers come from sync.Pools, so a warm single-threaded call
// does not allocate.
package gemm
