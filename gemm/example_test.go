package gemm_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/gemm"
)

// A 2×3 matrix times a 3×2 matrix, both row-major.
func ExampleSgemm() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		7, 8,
		9, 10,
		11, 12,
	}
	c := make([]float32, 2*2)
	gemm.Sgemm(gemm.NoTrans, gemm.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c[:2])
	fmt.Println(c[2:])
	// Output:
	// [58 64]
	// [139 154]
}

// The same product with A stored transposed (3×2) and accumulated onto C:
// C = 1·Aᵀ·B + 1·C.
func ExampleDgemm() {
	at := []float64{
		1, 4,
		2, 5,
		3, 6,
	}
	b := []float64{
		7, 8,
		9, 10,
		11, 12,
	}
	c := []float64{1, 1, 1, 1}
	gemm.Dgemm(gemm.Trans, gemm.NoTrans, 2, 2, 3, 1, at, 2, b, 2, 1, c, 2)
	fmt.Println(c)
	// Output:
	// [59 65 140 155]
}
