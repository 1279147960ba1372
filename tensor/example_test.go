package tensor_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/tensor"
)

func Example_constructors() {
	fmt.Println(tensor.Zeros[float32](2, 3))
	fmt.Println(tensor.Full(1.5, 2))
	fmt.Println(tensor.Arange(0.0, 1, 0.25))
	fmt.Println(tensor.Eye[float64](2))
	fmt.Println(tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2))
	r := tensor.RandUniform[float64](rand.New(rand.NewPCG(1, 2)), 0, 1, 1000)
	fmt.Println(tensor.MinAll(r) >= 0, tensor.MaxAll(r) < 1)
	// Output:
	// [[0 0 0]
	//  [0 0 0]]
	// [1.5 1.5]
	// [0 0.25 0.5 0.75]
	// [[1 0]
	//  [0 1]]
	// [[1 2]
	//  [3 4]]
	// true true
}

func ExampleAdd() {
	a := tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	row := tensor.FromSlice([]float64{10, 20, 30}, 3)
	col := tensor.FromSlice([]float64{100, 200}, 2, 1)
	fmt.Println(tensor.Add(a, row)) // [3] repeats over the rows
	fmt.Println(tensor.Add(a, col)) // [2 1] repeats over the columns
	// Destination style: write into an existing tensor, here in place.
	a.Add(a, row)
	fmt.Println(a)
	// Output:
	// [[11 22 33]
	//  [14 25 36]]
	// [[101 102 103]
	//  [204 205 206]]
	// [[11 22 33]
	//  [14 25 36]]
}

func ExampleMatMul() {
	a := tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(tensor.MatMul(a, a.T())) // a·aᵀ: the transpose is a view, not a copy
	c := tensor.Full(1.0, 3, 3)
	c.Gemm(2, a.T(), a, -1) // c = 2·aᵀ·a − c
	fmt.Println(c)
	// Output:
	// [[14 32]
	//  [32 77]]
	// [[33 43 53]
	//  [43 57 71]
	//  [53 71 89]]
}

func ExampleSumAxis() {
	a := tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(tensor.SumAxis(a, 0, false))
	fmt.Println(tensor.SumAxis(a, 1, true))
	fmt.Println(tensor.SumAll(a), tensor.MeanAll(a))
	// Into a destination: the axis may be kept as 1 or removed.
	d := tensor.New[float64](3)
	d.SumAxis(a, 0)
	fmt.Println(d)
	// Output:
	// [5 7 9]
	// [[6]
	//  [15]]
	// 21 3.5
	// [5 7 9]
}

func ExampleSoftmax() {
	x := tensor.FromSlice([]float64{1, 2, 3, 1000, 1000, 1e30}, 2, 3)
	p := tensor.Softmax(x, 1)
	fmt.Printf("%.4f\n", p.Slice(0, 0, 1).Data())
	fmt.Println(p.Slice(0, 1, 2)) // large inputs are safe
	fmt.Printf("%.10f\n", tensor.LogSumExpAxis(x, 1, false).At(0))
	// Output:
	// [0.0900 0.2447 0.6652]
	// [[0 0 1]]
	// 3.4076059644
}

func ExampleDense_Reshape() {
	a := tensor.Arange(0.0, 6, 1)
	m := a.Reshape(2, -1) // a view: shares a's storage
	fmt.Println(m)
	t := m.T() // transpose view
	fmt.Println(t, t.IsContiguous())
	t.Set(-1, 2, 0) // writes m[0][2], which is a[2]
	fmt.Println(a)
	// Output:
	// [[0 1 2]
	//  [3 4 5]]
	// [[0 3]
	//  [1 4]
	//  [2 5]] false
	// [0 1 -1 3 4 5]
}

// The adjoint of a softmax from its output: with y = softmax(x) and the
// output's adjoint g, x̄ = y ⊙ (g − Σ g⊙y). A g that is the same in every
// position has a zero adjoint (softmax ignores a shift of x); an adjoint
// on one output moves probability towards it and away from the rest.
func ExampleDense_SoftmaxBackward() {
	x := tensor.FromSlice([]float64{0, 0, 0, 0}, 2, 2)
	y := tensor.Softmax(x, 1) // 0.5 everywhere
	g := tensor.FromSlice([]float64{1, 1, 1, 0}, 2, 2)
	dx := tensor.New[float64](2, 2).SoftmaxBackward(y, g, 1)
	fmt.Println(dx)
	// Output:
	// [[0 0]
	//  [0.25 -0.25]]
}
