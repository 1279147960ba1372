package gemm

import (
	"fmt"
	"os"
	"sync/atomic"
)

// Kernel identifiers. The kernel is read once per GEMM call and the inner
// loop switches on it, so there is no call through a func value.
const (
	kernGeneric = iota
	kernAVX2
	kernAVX512
	kernNEON // arm64 Advanced SIMD
	numKernels
)

var kernelNames = [numKernels]string{"generic", "avx2", "avx512", "neon"}

// EnvKernel is the environment variable read at start-up to force a kernel:
// generic, avx2 or avx512 (amd64), neon (arm64). A kernel this CPU cannot run is ignored with one
// warning line on standard error.
const EnvKernel = "ADJOINT_KERNEL"

// current is the kernel in use; it is always one this CPU can run.
var current atomic.Int32

func init() {
	current.Store(int32(bestKernel()))
	if name := os.Getenv(EnvKernel); name != "" {
		if err := SetKernel(name); err != nil {
			fmt.Fprintf(os.Stderr, "adjoint/gemm: %s=%q ignored (%v); using %s\n",
				EnvKernel, name, err, Kernel())
		}
	}
}

// available reports whether this CPU (and build) can run kernel id.
func available(id int) bool {
	switch id {
	case kernGeneric:
		return true
	case kernAVX2:
		return hasAVX2FMA
	case kernAVX512:
		return hasAVX512
	case kernNEON:
		return hasNEON
	}
	return false
}

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
func Kernel() string { return kernelNames[current.Load()] }

// Kernels returns the names of the kernels this CPU and build can run, best
// last. "generic" is always among them.
func Kernels() []string {
	var ks []string
	for id := range numKernels {
		if available(id) {
			ks = append(ks, kernelNames[id])
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
		if kernelNames[id] != name {
			continue
		}
		if !available(id) {
			return fmt.Errorf("%w: %q is not supported by this CPU or build (have %v)", ErrKernel, name, Kernels())
		}
		current.Store(int32(id))
		return nil
	}
	return fmt.Errorf("%w: unknown kernel %q (want one of %v)", ErrKernel, name, kernelNames)
}
