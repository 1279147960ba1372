package gemm

import (
	"testing"

	"github.com/adjoint-go/adjoint/internal/dispatch"
)

// Test hooks for the kernel table (kernels.go), the one way tests override
// a kernel's cut-offs.

// setKernelDescs applies f to every kernel's table entry for the rest of t.
// The cache blocks derived from the tiles at start-up (blocks) do not
// follow a change of tile.
func setKernelDescs(t testing.TB, f func(*kernelDesc)) {
	prev := kernels
	for i := range kernels {
		f(&kernels[i])
	}
	t.Cleanup(func() { kernels = prev })
}

// curDesc returns the table entry of the kernel in use.
func curDesc() *kernelDesc { return &kernels[current.Load()] }

// What this CPU and build can run, for the kernel tests' skips.
var (
	hasAVX512  = dispatch.Supported(dispatch.AVX512)
	hasAVX2FMA = dispatch.Supported(dispatch.AVX2)
	hasNEON    = dispatch.Supported(dispatch.NEON)
)
