//go:build amd64 && gc && !purego

package math32

import "golang.org/x/sys/cpu"

//go:generate sh -c "cd _asm && go run . -out ../kernels_amd64.s -stubs ../kernels_amd64_stubs.go -pkg math32"

// Kernel choice, read once; tests switch them to run every kernel this CPU
// supports. x/sys/cpu already accounts for OS support of the wide registers.
var (
	useAVX512 = cpu.X86.HasAVX512F
	useAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// vecKernel runs kernel k over src into dst if this CPU has a vector kernel,
// and reports whether it did. len(dst) >= len(src) is already checked.
func vecKernel(k kernel, dst, src []float32) bool {
	n := len(src)
	if n == 0 {
		return useAVX512 || useAVX2
	}
	var run func(dst, src *float32, n int)
	var w int
	switch {
	case useAVX512:
		w = 16
		switch k {
		case kExp:
			run = expAVX512
		case kTanh:
			run = tanhAVX512
		case kLog:
			run = logAVX512
		default:
			run = sigmoidAVX512
		}
	case useAVX2:
		w = 8
		switch k {
		case kExp:
			run = expAVX2
		case kTanh:
			run = tanhAVX2
		case kLog:
			run = logAVX2
		default:
			run = sigmoidAVX2
		}
	default:
		return false
	}
	body := n - n%w
	if body > 0 {
		run(&dst[0], &src[0], body)
	}
	if body < n {
		// The tail through the same kernel on a padded copy.
		var buf [16]float32
		m := copy(buf[:], src[body:n])
		run(&buf[0], &buf[0], w)
		copy(dst[body:n], buf[:m])
	}
	return true
}
