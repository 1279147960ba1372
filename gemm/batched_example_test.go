package gemm_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/gemm"
)

// Two 2×2 products in one call: C_i = A_i·B_iᵀ, the operands stored one
// after the other (batch strides of 4 elements).
func ExampleSgemmStrided() {
	a := []float32{
		1, 2, 3, 4, // A_0
		1, 0, 0, 1, // A_1 = I
	}
	b := []float32{
		1, 0, 0, 1, // B_0 = I
		5, 6, 7, 8, // B_1
	}
	c := make([]float32, 8)
	gemm.SgemmStrided(gemm.NoTrans, gemm.Trans, 2, 2, 2, 1, a, 2, 4, b, 2, 4, 0, c, 2, 4, 2)
	fmt.Println(c[:4], c[4:])
	// Output: [1 2 3 4] [5 7 6 8]
}
