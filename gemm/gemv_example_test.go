package gemm_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/gemm"
)

// A 2×3 matrix times a vector, y = A·x, and its transpose times another,
// z = Aᵀ·y + z: a layer's weights in PyTorch's [out, in] layout and in
// GPT-2's [in, out] one.
func ExampleSgemv() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	x := []float32{1, 0, -1}
	y := make([]float32, 2)
	gemm.Sgemv(gemm.NoTrans, 2, 3, 1, a, 3, x, 0, y)
	fmt.Println(y)
	z := []float32{1, 1, 1}
	gemm.Sgemv(gemm.Trans, 2, 3, 1, a, 3, y, 1, z)
	fmt.Println(z)
	// Output:
	// [-2 -2]
	// [-9 -13 -17]
}
