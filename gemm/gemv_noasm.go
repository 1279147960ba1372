//go:build !amd64 || !gc || purego

package gemm

// Without assembly the generic matrix-vector loops run; these stubs let the
// dispatch switch compile.

const haveGemvAsm = false

func sgemvNAVX2(m, n int, a *float32, lda int, x, y *float32, alpha, beta float32) { panic(errNoAsm) }
func dgemvNAVX2(m, n int, a *float64, lda int, x, y *float64, alpha, beta float64) { panic(errNoAsm) }
func sgemvTAVX2(m, n int, a *float32, lda int, x, y *float32, alpha float32)       { panic(errNoAsm) }
func dgemvTAVX2(m, n int, a *float64, lda int, x, y *float64, alpha float64)       { panic(errNoAsm) }
