//go:build amd64 && gc && !purego

package gemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Tile sizes of the assembly microkernels (see kernel_noasm.go for the
// same declarations on other builds).
const (
	mrS512, nrS512 = 8, 48 // float32 AVX-512 tile: 8 rows x 3 zmm = 24 accumulators
	mrD512, nrD512 = 8, 24 // float64 AVX-512 tile
	mrS256, nrS256 = 6, 16 // float32 AVX2+FMA tile: 6 rows x 2 ymm = 12 accumulators
	mrD256, nrD256 = 6, 8  // float64 AVX2+FMA tile
)

// CPU features, read once. x/sys/cpu already folds in OS support for the
// wider register state (XCR0), so these are safe to act on directly.
var (
	hasAVX512  = cpu.X86.HasAVX512F
	hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// TEMPORARY: Go stand-ins with the kernels' exact semantics until the
// generated assembly lands.

func sgemmKernelAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32) {
	tmpKernel(8, 48, k, a, b, c, ldc, alpha, beta)
}
func dgemmKernelAVX512(k int, a, b, c *float64, ldc int, alpha, beta float64) {
	tmpKernel(8, 24, k, a, b, c, ldc, alpha, beta)
}
func sgemmKernelAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32) {
	tmpKernel(6, 16, k, a, b, c, ldc, alpha, beta)
}
func dgemmKernelAVX2(k int, a, b, c *float64, ldc int, alpha, beta float64) {
	tmpKernel(6, 8, k, a, b, c, ldc, alpha, beta)
}

func tmpKernel[T float32 | float64](mr, nr, k int, a, b, c *T, ldc int, alpha, beta T) {
	as := unsafe.Slice(a, k*mr)
	bs := unsafe.Slice(b, k*nr)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := range mr {
		for j := range nr {
			var s T
			for p := range k {
				s += as[p*mr+i] * bs[p*nr+j]
			}
			if beta == 0 {
				cs[i*ldc+j] = alpha * s
			} else {
				cs[i*ldc+j] = alpha*s + beta*cs[i*ldc+j]
			}
		}
	}
}
