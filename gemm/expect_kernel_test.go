package gemm

import (
	"os"
	"testing"
)

// TestExpectedKernel lets CI assert what dispatch chose on an emulated CPU:
// .ci/run runs this package's test binary under qemu-x86_64-static -cpu
// Haswell with ADJOINT_EXPECT_KERNEL=avx2 and under -cpu Nehalem with
// ADJOINT_EXPECT_KERNEL=generic.
func TestExpectedKernel(t *testing.T) {
	want := os.Getenv("ADJOINT_EXPECT_KERNEL")
	if want == "" {
		t.Skip("ADJOINT_EXPECT_KERNEL not set")
	}
	if got := Kernel(); got != want {
		t.Fatalf("dispatch chose kernel %q on this CPU, want %q (available: %v)", got, want, Kernels())
	}
	t.Logf("dispatch chose %q; available %v", Kernel(), Kernels())
}
