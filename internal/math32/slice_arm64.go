//go:build arm64 && gc && !purego

package math32

import "os"

//go:generate sh -c "cd ../../_asm && GOOS= GOARCH= go run ./math32/arm64 -out ../internal/math32/kernels_arm64.s -decl ../internal/math32/kernels_arm64_stubs.go -pkg math32"

// Kernel choice, read once; tests switch it to run both. NEON is mandatory
// in ARMv8-A, so the NEON kernels are the default; ADJOINT_KERNEL=generic
// (the variable gemm reads; this leaf package cannot import gemm) selects
// the portable loops. The AVX switches exist so tests name them everywhere.
var (
	useNEON            = os.Getenv("ADJOINT_KERNEL") != "generic"
	useAVX512, useAVX2 = false, false
)

// vecKernel runs kernel k over src into dst with NEON, and reports whether
// it did. len(dst) >= len(src) is already checked.
func vecKernel(k kernel, dst, src []float32) bool {
	if !useNEON {
		return false
	}
	n := len(src)
	body := n &^ 3
	if body > 0 {
		runKernel(k, &dst[0], &src[0], body)
	}
	if body < n {
		// The tail through the same kernel on a padded copy, called
		// directly so that go:noescape keeps buf on the stack.
		var buf [4]float32
		m := copy(buf[:], src[body:n])
		runKernel(k, &buf[0], &buf[0], 4)
		copy(dst[body:n], buf[:m])
	}
	return true
}

// runKernel calls the NEON kernel for k over n elements, n a multiple of 4.
func runKernel(k kernel, dst, src *float32, n int) {
	switch k {
	case kExp:
		expNEON(dst, src, n)
	case kTanh:
		tanhNEON(dst, src, n)
	case kLog:
		logNEON(dst, src, n)
	default:
		sigmoidNEON(dst, src, n)
	}
}
