package gemm_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/gemm"
)

// A layer's y = relu(x·W + b) with W packed once: the bias and the relu
// run in the epilogue, on each finished block of y.
func ExampleGemmPackedEpilogue() {
	x := []float32{
		1, 2,
		-3, 1,
	}
	w := []float32{ // 2×3, k×n
		1, 0, -1,
		0, 1, 1,
	}
	bias := []float32{0.5, -4, 0}
	pw := gemm.PackB(gemm.NoTrans, 2, 3, w, 3)
	y := make([]float32, 2*3)
	gemm.GemmPackedEpilogue(gemm.NoTrans, 2, 3, 2, 1, x, 2, pw, 0, y, 3, func(i0, i1, j0, j1 int) {
		for i := i0; i < i1; i++ {
			for j := j0; j < j1; j++ {
				y[i*3+j] = max(y[i*3+j]+bias[j], 0)
			}
		}
	})
	fmt.Println(y[:3])
	fmt.Println(y[3:])
	// Output:
	// [1.5 0 1]
	// [0 0 4]
}
