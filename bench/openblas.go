//go:build openblas && cgo

package bench

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"unsafe"

	"github.com/adjoint-go/adjoint/gemm"
)

// OpenBLAS through its CBLAS interface (Debian libopenblas-dev). Only built
// with -tags openblas, so the module builds and tests without a C toolchain.

func init() {
	openblasCore = C.GoString(C.openblas_get_corename())
	openblas = &Impl{Name: "openblas", Sgemm: openblasSgemm, Dgemm: openblasDgemm, Use: openblasUse}
}

func openblasUse(threads int) func() {
	prev := int(C.openblas_get_num_threads())
	C.openblas_set_num_threads(C.int(threads))
	return func() { C.openblas_set_num_threads(C.int(prev)) }
}

func cblasTrans(t gemm.Transpose) C.enum_CBLAS_TRANSPOSE {
	if t == gemm.Trans {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

func openblasSgemm(tA, tB gemm.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, cblasTrans(tA), cblasTrans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

func openblasDgemm(tA, tB gemm.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_dgemm(C.CblasRowMajor, cblasTrans(tA), cblasTrans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.double)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}
