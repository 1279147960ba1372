package autograd_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// f(x, y) = x²y: ∂f/∂x = 2xy and ∂f/∂y = x².
func ExampleTape_Backward() {
	x := autograd.NewVar(tensor.FromSlice([]float64{3}), true)
	y := autograd.NewVar(tensor.FromSlice([]float64{2}), true)
	tp := autograd.NewTape[float64]()
	f := tp.Mul(tp.Square(x), y)
	if err := tp.Backward(f); err != nil {
		panic(err)
	}
	fmt.Println("f =", f.Value().Data()[0])
	fmt.Println("df/dx =", x.Grad().Data()[0], " df/dy =", y.Grad().Data()[0])
	// Output:
	// f = 18
	// df/dx = 12  df/dy = 9
}

// A linear regression trained by plain gradient descent on a reused tape:
// after the first step the loop allocates nothing.
func ExampleTape_Reset() {
	// y = 2·x₀ − 3·x₁ + 1, four samples.
	x := tensor.FromSlice([]float64{1, 0, 0, 1, 1, 1, 2, -1}, 4, 2)
	y := tensor.FromSlice([]float64{3, -2, 0, 8}, 4, 1)
	w := autograd.NewVar(tensor.New[float64](1, 2), true)
	b := autograd.NewVar(tensor.New[float64](1), true)
	tp := autograd.NewTape[float64]()
	for step := range 2000 {
		pred := tp.Linear(tp.Const(x), w, b)
		loss := tp.MSE(pred, tp.Const(y))
		if err := tp.Backward(loss); err != nil {
			panic(err)
		}
		if step == 0 {
			fmt.Printf("first loss %.3f\n", loss.Value().Data()[0])
		}
		for _, p := range []*autograd.Var[float64]{w, b} {
			v, g := p.Value().Data(), p.Grad().Data()
			for i := range v {
				v[i] -= 0.1 * g[i]
			}
			p.ZeroGrad()
		}
		tp.Reset()
	}
	fmt.Printf("w = [%.3f %.3f], b = %.3f\n", w.Value().At(0, 0), w.Value().At(0, 1), b.Value().At(0))
	// Output:
	// first loss 19.250
	// w = [2.000 -3.000], b = 1.000
}

// CheckGrad compares Backward's adjoints with central differences.
func ExampleCheckGrad() {
	x := tensor.FromSlice([]float64{0.5, -1, 2, 0.1, 0.3, -0.7}, 2, 3)
	err := autograd.CheckGrad(func(tp *autograd.Tape[float64], in []*autograd.Var[float64]) *autograd.Var[float64] {
		return tp.Sum(tp.Mul(tp.Tanh(in[0]), tp.LogSoftmax(in[0], 1)))
	}, []*tensor.Dense[float64]{x}, autograd.CheckOptions{})
	fmt.Println("error:", err)
	// Output:
	// error: <nil>
}

// Anomaly mode names the op that first produced a NaN or Inf.
func ExampleTape_Anomaly() {
	x := autograd.NewVar(tensor.FromSlice([]float64{4, -1}, 2), true)
	tp := autograd.NewTape[float64]()
	tp.Anomaly(true)
	loss := tp.Sum(tp.Sqrt(x))
	fmt.Println(tp.Backward(loss))
	// Output:
	// autograd: anomaly: Sqrt forward produced NaN at flat index 1 of a tensor of shape [2]
}
