package tensor

import (
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/stretchr/testify/require"
)

// TestKernelLevelsSpecials runs the fuzz comparison of every assembly level
// (AVX-512 and AVX2 on amd64, NEON on arm64) against the generic loops
// deterministically over every length 0..200 (all tails of every unroll),
// misaligned starts 0..3 and operand values that include ±Inf, NaN and
// zeros (fuzzLevels draws them), so CI checks them without -fuzz.
func TestKernelLevelsSpecials(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 200))
	for n := range 201 {
		for off := range 4 {
			for op := opAdd; op <= opDiv; op++ {
				fuzzLevels[float32](t, rng, n, off, op)
				fuzzLevels[float64](t, rng, n, off, op)
			}
		}
	}
}

// TestExpectKernel checks the level dispatch chose: CI runs the arm64 tests
// with ADJOINT_EXPECT_KERNEL=neon, and ADJOINT_KERNEL=generic must select
// the Go loops on arm64.
func TestExpectKernel(t *testing.T) {
	if runtime.GOARCH == "arm64" && os.Getenv(gemm.EnvKernel) == "generic" {
		require.Equal(t, levelGeneric, ewLevel, "ADJOINT_KERNEL=generic")
	}
	want := os.Getenv("ADJOINT_EXPECT_KERNEL")
	if want != "neon" {
		t.Skip("ADJOINT_EXPECT_KERNEL is not neon")
	}
	require.Equal(t, "neon", levelName(ewLevel))
}
