//go:build amd64 && gc && !purego

package dispatch

import "golang.org/x/sys/cpu"

// x/sys/cpu folds in the operating system's support for the wider register
// state (XCR0), so these are safe to act on directly. The AVX2 level includes
// FMA, which the GEMM and math kernels need; no CPU has one without the other.
var supported = [numLevels]bool{
	AVX2:   cpu.X86.HasAVX2 && cpu.X86.HasFMA,
	AVX512: cpu.X86.HasAVX512F,
}
