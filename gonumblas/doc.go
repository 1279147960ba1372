// Package gonumblas lets gonum use adjoint's GEMM.
//
// Implementation embeds gonum's pure-Go BLAS (gonum.org/v1/gonum/blas/gonum)
// and replaces its Sgemm and Dgemm with adjoint's packed, register-blocked,
// multi-threaded gemm.Sgemm and gemm.Dgemm. Installing it with
//
//	blas64.Use(gonumblas.Implementation{})
//	blas32.Use(gonumblas.Implementation{})
//
// makes every gonum routine that multiplies general matrices through blas64
// or blas32 use it: mat.Dense.Mul, and the blocked factorisations of gonum's
// LAPACK (LU, Cholesky, QR). Every other BLAS routine stays gonum's own.
//
// ToMat and FromMat convert between tensor.Dense[float64] and mat.Dense,
// sharing storage when the layout allows.
//
// # Layout
//
// Matrices are row-major with a leading dimension (row stride), as in
// gonum's blas. A tensor and a mat.Dense share storage when the tensor is
// contiguous and the mat.Dense's stride equals its column count; otherwise
// the conversion copies (see ToMat and FromMat).
//
// # Panics
//
// Sgemm and Dgemm check their arguments with gonum's rules and in gonum's
// order before anything is read or written, and panic with gonum's own
// values (strings such as "blas: bad leading dimension of A"), so code that
// recovers and compares them behaves as with gonum. ToMat panics with an
// error wrapping ErrShape for a tensor mat.Dense cannot hold.
//
// # Aliasing
//
// As with gonum, C may share a backing array with A or B as long as the
// elements are disjoint (as in LAPACK's in-place trailing updates): an
// operand whose address range overlaps C's is copied first. If elements
// truly coincide the result is undefined, as in every BLAS.
//
// # Concurrency
//
// Implementation has no state; calls may run concurrently. blas64.Use and
// blas32.Use set process-wide variables and should be called once at start
// up, before any goroutine uses gonum. Thread count for the GEMM comes from
// package parallel (ADJOINT_NUM_THREADS, parallel.SetThreads).
package gonumblas
