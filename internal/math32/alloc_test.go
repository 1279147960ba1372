package math32

import (
	"fmt"
	"testing"
)

// The slice kernels must not allocate, including for a partial last vector
// (the padded tail buffer has to stay on the stack).
func TestSliceNoAlloc(t *testing.T) {
	fns := map[string]func(dst, src []float32){
		"Exp": ExpSlice, "Log": LogSlice, "Tanh": TanhSlice, "Sigmoid": SigmoidSlice, "GeluErf": GeluErfSlice,
	}
	for name, f := range fns {
		for _, n := range []int{1, 15, 16, 17, 100} {
			t.Run(fmt.Sprintf("%s/n=%d", name, n), func(t *testing.T) {
				src := make([]float32, n)
				for i := range src {
					src[i] = float32(i)/7 + 0.5
				}
				dst := make([]float32, n)
				if a := testing.AllocsPerRun(20, func() { f(dst, src) }); a != 0 {
					t.Errorf("%s over %d elements: %v allocations per call, want 0", name, n, a)
				}
			})
		}
	}
}
