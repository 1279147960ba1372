package autograd_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// A 2×2 kernel of ones over the 3×3 image 1..9 sums each 2×2 window. The
// adjoint of the sum of the outputs is, for the image, how many windows
// cover each pixel and, for the kernel, the sum of the patches it saw.
func ExampleTape_Conv2d() {
	x := autograd.NewVar(tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3), true)
	w := autograd.NewVar(tensor.Full[float64](1, 1, 1, 2, 2), true)
	b := autograd.NewVar(tensor.FromSlice([]float64{0.5}, 1), true)
	tp := autograd.NewTape[float64]()
	y := tp.Conv2d(x, w, b, autograd.Conv2dOptions{})
	if err := tp.Backward(tp.Sum(y)); err != nil {
		panic(err)
	}
	fmt.Println("y  ", y.Shape(), y.Value().Data())
	fmt.Println("x̄  ", x.Grad().Data())
	fmt.Println("w̄  ", w.Grad().Data(), " b̄", b.Grad().Data())
	// Output:
	// y   [1 1 2 2] [12.5 16.5 24.5 28.5]
	// x̄   [1 2 1 2 4 2 1 2 1]
	// w̄   [12 16 24 28]  b̄ [4]
}

// Max pooling sends each window's adjoint to its maximum; on a tie, to the
// first in row order, as PyTorch does.
func ExampleTape_MaxPool2d() {
	x := autograd.NewVar(tensor.FromSlice([]float64{
		1, 3, 0, 0,
		3, 2, 0, 1,
	}, 1, 1, 2, 4), true)
	tp := autograd.NewTape[float64]()
	y := tp.MaxPool2d(x, autograd.Pool2dOptions{Kernel: [2]int{2, 2}})
	if err := tp.Backward(tp.Sum(y)); err != nil {
		panic(err)
	}
	fmt.Println(y.Value().Data(), x.Grad().Data())
	// Output:
	// [3 1] [0 1 0 0 0 0 0 1]
}
