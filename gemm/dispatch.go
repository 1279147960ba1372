package gemm

import (
	"fmt"
	"sync/atomic"

	"github.com/adjoint-go/adjoint/internal/dispatch"
)

// Kernel identifiers: the levels of internal/dispatch, so that one number
// means the same kernel family there and here. The kernel is read once per
// GEMM call and the inner loop switches on it, so there is no call through a
// func value.
const (
	kernGeneric = int(dispatch.Generic)
	kernAVX2    = int(dispatch.AVX2)
	kernAVX512  = int(dispatch.AVX512)
	kernNEON    = int(dispatch.NEON) // arm64 Advanced SIMD
	numKernels  = kernNEON + 1
)

// EnvKernel is the environment variable read at start-up to force a kernel:
// generic, avx2 or avx512 (amd64), neon (arm64). It sets the level of every
// package of the module with assembly, not only this one's (see
// internal/dispatch). A kernel this CPU cannot run is ignored with one
// warning line on standard error.
const EnvKernel = dispatch.Env

// current is the kernel in use; it is always one this CPU can run.
var current atomic.Int32

func init() {
	dispatch.Register("gemm",
		func() dispatch.Level { return dispatch.Level(current.Load()) },
		func(l dispatch.Level) { current.Store(int32(l)) },
		dispatch.AVX2, dispatch.AVX512, dispatch.NEON)
}

// available reports whether this CPU (and build) can run kernel id.
func available(id int) bool { return dispatch.Supported(dispatch.Level(id)) }

func bestKernel() int {
	for id := numKernels - 1; id > 0; id-- {
		if available(id) {
			return id
		}
	}
	return kernGeneric
}

// Kernel returns the name of the microkernel in use: "avx512", "avx2",
// "neon" or "generic".
func Kernel() string { return kernels[current.Load()].name }

// Kernels returns the names of the kernels this CPU and build can run, best
// last. "generic" is always among them.
func Kernels() []string {
	var ks []string
	for id := range numKernels {
		if available(id) {
			ks = append(ks, kernels[id].name)
		}
	}
	return ks
}

// SetKernel selects the microkernel used by later calls. It returns an error
// wrapping ErrKernel, and leaves the kernel unchanged, if name is unknown or
// this CPU cannot run it. Calls already running keep the kernel they started
// with. It is meant for tests and benchmarks; the default is the best kernel.
func SetKernel(name string) error {
	for id := range numKernels {
		if kernels[id].name != name {
			continue
		}
		if !available(id) {
			return fmt.Errorf("%w: %q is not supported by this CPU or build (have %v)", ErrKernel, name, Kernels())
		}
		current.Store(int32(id))
		return nil
	}
	var all []string
	for _, kd := range kernels {
		all = append(all, kd.name)
	}
	return fmt.Errorf("%w: unknown kernel %q (want one of %v)", ErrKernel, name, all)
}
