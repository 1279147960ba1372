//go:build !amd64 || !gc || purego

package gemm

// Tile sizes of the assembly microkernels. They are declared on every
// platform so that blocking code compiles everywhere; without assembly the
// kernels below are never selected.
const (
	mrS512, nrS512 = 8, 48 // float32 AVX-512 tile: 8 rows x 3 zmm = 24 accumulators
	mrD512, nrD512 = 8, 24 // float64 AVX-512 tile
	mrS256, nrS256 = 6, 16 // float32 AVX2+FMA tile: 6 rows x 2 ymm = 12 accumulators
	mrD256, nrD256 = 6, 8  // float64 AVX2+FMA tile
)

// Without assembly no CPU feature is usable.
var (
	hasAVX512  bool
	hasAVX2FMA bool
)

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
