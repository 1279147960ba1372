//go:build !amd64 || !gc || purego

package gemm

// Without assembly the kernels below are never selected; these stubs let
// the dispatch switch compile.

const errNoAsm = "gemm: assembly kernel called on a build without it"

func sgemmKernelAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)      { panic(errNoAsm) }
func dgemmKernelAVX512(k int, a, b, c *float64, ldc int, alpha, beta float64)      { panic(errNoAsm) }
func sgemmKernelAVX512x32(k int, a, b, c *float32, ldc int, alpha, beta float32)   { panic(errNoAsm) }
func sgemmKernelAVX512x16(k int, a, b, c *float32, ldc int, alpha, beta float32)   { panic(errNoAsm) }
func dgemmKernelAVX512x16(k int, a, b, c *float64, ldc int, alpha, beta float64)   { panic(errNoAsm) }
func dgemmKernelAVX512x8(k int, a, b, c *float64, ldc int, alpha, beta float64)    { panic(errNoAsm) }
func sgemmKernelAVX512m4x48(k int, a, b, c *float32, ldc int, alpha, beta float32) { panic(errNoAsm) }
func sgemmKernelAVX512m4x32(k int, a, b, c *float32, ldc int, alpha, beta float32) { panic(errNoAsm) }
func sgemmKernelAVX512m4x16(k int, a, b, c *float32, ldc int, alpha, beta float32) { panic(errNoAsm) }
func sgemmKernelAVX512m2x48(k int, a, b, c *float32, ldc int, alpha, beta float32) { panic(errNoAsm) }
func sgemmKernelAVX512m2x32(k int, a, b, c *float32, ldc int, alpha, beta float32) { panic(errNoAsm) }
func sgemmKernelAVX512m2x16(k int, a, b, c *float32, ldc int, alpha, beta float32) { panic(errNoAsm) }
func dgemmKernelAVX512m4x24(k int, a, b, c *float64, ldc int, alpha, beta float64) { panic(errNoAsm) }
func dgemmKernelAVX512m4x16(k int, a, b, c *float64, ldc int, alpha, beta float64) { panic(errNoAsm) }
func dgemmKernelAVX512m4x8(k int, a, b, c *float64, ldc int, alpha, beta float64)  { panic(errNoAsm) }
func dgemmKernelAVX512m2x24(k int, a, b, c *float64, ldc int, alpha, beta float64) { panic(errNoAsm) }
func dgemmKernelAVX512m2x16(k int, a, b, c *float64, ldc int, alpha, beta float64) { panic(errNoAsm) }
func dgemmKernelAVX512m2x8(k int, a, b, c *float64, ldc int, alpha, beta float64)  { panic(errNoAsm) }
func sgemmKernelAVX512Bld(k int, a, b, c *float32, ldb, ldc int, alpha, beta float32) {
	panic(errNoAsm)
}
func sgemmKernelAVX512Bldm4(k int, a, b, c *float32, ldb, ldc int, alpha, beta float32) {
	panic(errNoAsm)
}
func sgemmKernelAVX512Bldm2(k int, a, b, c *float32, ldb, ldc int, alpha, beta float32) {
	panic(errNoAsm)
}
func dgemmKernelAVX512Bld(k int, a, b, c *float64, ldb, ldc int, alpha, beta float64) {
	panic(errNoAsm)
}
func dgemmKernelAVX512Bldm4(k int, a, b, c *float64, ldb, ldc int, alpha, beta float64) {
	panic(errNoAsm)
}
func dgemmKernelAVX512Bldm2(k int, a, b, c *float64, ldb, ldc int, alpha, beta float64) {
	panic(errNoAsm)
}
func sgemmKernelAVX2Bld(k int, a, b, c *float32, ldb, ldc int, alpha, beta float32) {
	panic(errNoAsm)
}
func dgemmKernelAVX2Bld(k int, a, b, c *float64, ldb, ldc int, alpha, beta float64) {
	panic(errNoAsm)
}
func sgemmKernelAVX512Ind(k int, a, b *float32, off *int, c *float32, ldc int, alpha, beta float32) {
	panic(errNoAsm)
}
func sgemmKernelAVX512Indm4(k int, a, b *float32, off *int, c *float32, ldc int, alpha, beta float32) {
	panic(errNoAsm)
}
func sgemmKernelAVX512Indm2(k int, a, b *float32, off *int, c *float32, ldc int, alpha, beta float32) {
	panic(errNoAsm)
}
func dgemmKernelAVX512Ind(k int, a, b *float64, off *int, c *float64, ldc int, alpha, beta float64) {
	panic(errNoAsm)
}
func dgemmKernelAVX512Indm4(k int, a, b *float64, off *int, c *float64, ldc int, alpha, beta float64) {
	panic(errNoAsm)
}
func dgemmKernelAVX512Indm2(k int, a, b *float64, off *int, c *float64, ldc int, alpha, beta float64) {
	panic(errNoAsm)
}
func sgemmKernelAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32) { panic(errNoAsm) }
func dgemmKernelAVX2(k int, a, b, c *float64, ldc int, alpha, beta float64) { panic(errNoAsm) }

// FMA throughput probes (see kernel_amd64.go), for benchmarks.
func fmaPeakAVX512PS(n int) { panic(errNoAsm) }
func fmaPeakAVX512PD(n int) { panic(errNoAsm) }
func fmaPeakAVX2PS(n int)   { panic(errNoAsm) }
func fmaPeakAVX2PD(n int)   { panic(errNoAsm) }
