package gemm

import "unsafe"

// Float is the element type of the generic entry points: float32 or
// float64, or a type defined on one of them.
type Float interface{ ~float32 | ~float64 }

// Gemm is Sgemm or Dgemm as T says: C = alpha·op(A)·op(B) + beta·C.
// It is the one generic entry, for code written over both float types
// (tensor, autograd, the importers); the type is resolved once a call.
// Panics as Sgemm and Dgemm do.
func Gemm[T Float](tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if is32[T]() {
		Sgemm(tA, tB, m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
		return
	}
	Dgemm(tA, tB, m, n, k, float64(alpha), as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
}

// GemmStrided is SgemmStrided or DgemmStrided as T says.
func GemmStrided[T Float](tA, tB Transpose, m, n, k int, alpha T, a []T, lda, strideA int, b []T, ldb, strideB int, beta T, c []T, ldc, strideC int, batch int) {
	if is32[T]() {
		SgemmStrided(tA, tB, m, n, k, float32(alpha), as32(a), lda, strideA, as32(b), ldb, strideB, float32(beta), as32(c), ldc, strideC, batch)
		return
	}
	DgemmStrided(tA, tB, m, n, k, float64(alpha), as64(a), lda, strideA, as64(b), ldb, strideB, float64(beta), as64(c), ldc, strideC, batch)
}

// Gemv is Sgemv or Dgemv as T says: y = alpha·op(A)·x + beta·y.
func Gemv[T Float](tA Transpose, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	if is32[T]() {
		Sgemv(tA, m, n, float32(alpha), as32(a), lda, as32(x), float32(beta), as32(y))
		return
	}
	Dgemv(tA, m, n, float64(alpha), as64(a), lda, as64(x), float64(beta), as64(y))
}

func is32[T Float]() bool { var z T; return unsafe.Sizeof(z) == 4 }

// as32 and as64 view a slice of a type defined on float32 or float64 as
// the plain type (same size, same representation); nil stays nil.
func as32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func as64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
