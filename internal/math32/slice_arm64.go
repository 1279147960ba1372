//go:build arm64 && gc && !purego

package math32

import "github.com/adjoint-go/adjoint/internal/dispatch"

//go:generate sh -c "cd ../../_asm && GOOS= GOARCH= go run ./math32/arm64 -out ../internal/math32/kernels_arm64.s -decl ../internal/math32/kernels_arm64_stubs.go -pkg math32"

// Kernel choice, set once by internal/dispatch: NEON, mandatory in ARMv8-A,
// unless ADJOINT_KERNEL=generic. Tests switch it to run both. The AVX
// switches exist so tests name them everywhere.
var (
	useNEON            bool
	useAVX512, useAVX2 = false, false
)

func init() {
	dispatch.Register("internal/math32",
		func() dispatch.Level {
			if useNEON {
				return dispatch.NEON
			}
			return dispatch.Generic
		},
		func(l dispatch.Level) { useNEON = l == dispatch.NEON },
		dispatch.NEON)
}

// vecKernel runs kernel k over src into dst with NEON, and reports whether
// it did. len(dst) >= len(src) is already checked.
func vecKernel(k kernel, dst, src []float32) bool {
	if !useNEON || k == kGeluErf { // no NEON GELU kernel yet
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
