package optim_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// Minimise (w − 3)² with plain SGD: the gradient is 2(w − 3), so each step
// with lr 0.1 maps w to 0.8·w + 0.6.
func ExampleSGD() {
	w := autograd.NewVar(tensor.FromSlice([]float64{0}, 1), true)
	target := tensor.FromSlice([]float64{3}, 1)
	opt := optim.NewSGD([]*autograd.Var[float64]{w}, optim.SGDConfig{LR: 0.1})
	tp := autograd.NewTape[float64]()
	for range 3 {
		tp.Reset()
		if err := tp.Backward(tp.MSE(w, tp.Const(target))); err != nil {
			panic(err)
		}
		opt.Step()
		opt.ZeroGrad()
		fmt.Printf("w = %.4f\n", w.Value().At(0))
	}
	// Output:
	// w = 0.6000
	// w = 1.0800
	// w = 1.4640
}

// Adam's first step moves each parameter by about lr against the sign of
// its gradient, whatever the gradient's size (bias correction makes
// m̂/√v̂ = g/|g|).
func ExampleAdam() {
	w := autograd.NewVar(tensor.FromSlice([]float64{0, 0}, 2), true)
	target := tensor.FromSlice([]float64{1000, -0.001}, 2)
	opt := optim.NewAdam([]*autograd.Var[float64]{w}, optim.AdamConfig{LR: 0.01})
	tp := autograd.NewTape[float64]()
	if err := tp.Backward(tp.MSE(w, tp.Const(target))); err != nil {
		panic(err)
	}
	opt.Step()
	fmt.Printf("w = [%.4f %.4f]\n", w.Value().At(0), w.Value().At(1))
	// Output:
	// w = [0.0100 -0.0100]
}
