package gonumblas_test

import (
	"fmt"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/adjoint-go/adjoint/gonumblas"
	"github.com/adjoint-go/adjoint/tensor"
)

func Example() {
	prev := blas64.Implementation()
	blas64.Use(gonumblas.Implementation{}) // every mat.Dense.Mul now runs adjoint's Dgemm
	defer blas64.Use(prev)

	a := mat.NewDense(2, 3, []float64{
		1, 2, 3,
		4, 5, 6,
	})
	b := mat.NewDense(3, 2, []float64{
		7, 8,
		9, 10,
		11, 12,
	})
	var c mat.Dense
	c.Mul(a, b)
	fmt.Printf("%v\n", mat.Formatted(&c))
	// Output:
	// ⎡ 58   64⎤
	// ⎣139  154⎦
}

func ExampleToMat() {
	x := tensor.FromSlice([]float64{1, 2, 3, 4}, 2, 2)
	m := gonumblas.ToMat(x) // x is contiguous: m shares its storage
	m.Set(0, 0, 10)
	fmt.Println(x.At(0, 0))
	// Output: 10
}

func ExampleFromMat() {
	m := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
	x := gonumblas.FromMat(m) // stride == cols: x shares m's storage
	x.Set(20, 1, 1)
	fmt.Println(m.At(1, 1))
	// Output: 20
}
