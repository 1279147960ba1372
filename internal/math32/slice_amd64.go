//go:build amd64 && gc && !purego

package math32

import "github.com/adjoint-go/adjoint/internal/dispatch"

//go:generate sh -c "cd ../../_asm && GOOS= GOARCH= go run ./math32/amd64 -out ../internal/math32/kernels_amd64.s -stubs ../internal/math32/kernels_amd64_stubs.go -pkg math32"

// Kernel choice, set once by internal/dispatch (so ADJOINT_KERNEL sets it as
// it sets every package's level): at the AVX-512 level both AVX switches are
// on, and vecKernel takes the wider. Tests switch them to run every kernel
// this CPU supports.
var (
	useNEON            = false // arm64's kernel, named here for the tests
	useAVX512, useAVX2 bool
)

func init() {
	dispatch.Register("internal/math32",
		func() dispatch.Level {
			switch {
			case useAVX512:
				return dispatch.AVX512
			case useAVX2:
				return dispatch.AVX2
			}
			return dispatch.Generic
		},
		func(l dispatch.Level) {
			useAVX512 = l == dispatch.AVX512
			useAVX2 = l == dispatch.AVX2 || useAVX512 && dispatch.Supported(dispatch.AVX2)
		},
		dispatch.AVX2, dispatch.AVX512)
}

// vecKernel runs kernel k over src into dst if this CPU has a vector kernel,
// and reports whether it did. len(dst) >= len(src) is already checked.
func vecKernel(k kernel, dst, src []float32) bool {
	n := len(src)
	if k == kGeluErf {
		return geluVec(dst, src)
	}
	var w int
	switch {
	case useAVX512:
		w = 16
	case useAVX2:
		w = 8
	default:
		return false
	}
	body := n - n%w
	if body > 0 {
		runKernel(k, w == 16, &dst[0], &src[0], body)
	}
	if body < n {
		// The tail through the same kernel on a padded copy. The kernels
		// are called directly (not through a func value) so their
		// go:noescape keeps buf on the stack.
		var buf [16]float32
		m := copy(buf[:], src[body:n])
		runKernel(k, w == 16, &buf[0], &buf[0], w)
		copy(dst[body:n], buf[:m])
	}
	return true
}

// runKernel calls the AVX-512 (wide) or AVX2 kernel for k over n elements,
// n a multiple of the vector width.
func runKernel(k kernel, wide bool, dst, src *float32, n int) {
	if wide {
		switch k {
		case kExp:
			expAVX512(dst, src, n)
		case kTanh:
			tanhAVX512(dst, src, n)
		case kLog:
			logAVX512(dst, src, n)
		default:
			sigmoidAVX512(dst, src, n)
		}
		return
	}
	switch k {
	case kExp:
		expAVX2(dst, src, n)
	case kTanh:
		tanhAVX2(dst, src, n)
	case kLog:
		logAVX2(dst, src, n)
	default:
		sigmoidAVX2(dst, src, n)
	}
}

// geluVec runs the AVX2 GELU kernel (8 elements a step) over src into dst
// if the CPU has AVX2, and reports whether it did.
func geluVec(dst, src []float32) bool {
	if !useAVX2 {
		return false
	}
	n := len(src)
	body := n &^ 7
	if body > 0 {
		geluErfAVX2(&dst[0], &src[0], body)
	}
	if body < n {
		var buf [8]float32
		m := copy(buf[:], src[body:n])
		geluErfAVX2(&buf[0], &buf[0], 8)
		copy(dst[body:n], buf[:m])
	}
	return true
}
