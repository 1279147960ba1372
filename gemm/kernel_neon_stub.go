//go:build !arm64 || !gc || purego

package gemm

// Without the arm64 assembly the NEON kernels are never selected; these
// stubs let the dispatch switch compile.
const errNoNEON = "gemm: NEON kernel called on a build without it"

func sgemmKernelNEON(k int, a, b, c *float32, ldc int, alpha, beta float32) { panic(errNoNEON) }
func dgemmKernelNEON(k int, a, b, c *float64, ldc int, alpha, beta float64) { panic(errNoNEON) }
func fmaPeakNEONS(n int)                                                    { panic(errNoNEON) }
func fmaPeakNEOND(n int)                                                    { panic(errNoNEON) }
