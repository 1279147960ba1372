package autograd_test

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// softplus is a user-defined op, log(1 + eˣ), with its own backward:
// x̄ += ȳ·σ(x). Forward saves its input for Backward and writes its output
// into a tape buffer, so the op allocates nothing in a steady-state loop.
type softplus struct{}

func (softplus) Name() string { return "Softplus" }

func (softplus) Forward(ctx *autograd.Context[float64], in ...*tensor.Dense[float64]) *tensor.Dense[float64] {
	x := in[0].Contiguous()
	ctx.Save(x)
	y := ctx.Alloc(x.Shape()...)
	yd := y.Data()
	for i, v := range x.Data() {
		yd[i] = max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) // stable for any v
	}
	return y
}

func (softplus) Backward(ctx *autograd.Context[float64], gy *tensor.Dense[float64], gx ...*tensor.Dense[float64]) {
	if gx[0] == nil {
		return
	}
	x, g, d := ctx.Saved()[0].Data(), gy.Contiguous().Data(), gx[0].Data()
	for i, v := range x {
		d[i] += g[i] / (1 + math.Exp(-v)) // ȳ·σ(x)
	}
}

// A user-defined op, recorded with Apply, takes part in Backward like a
// built-in op (and CheckGrad checks its backward against finite
// differences).
func ExampleTape_Apply() {
	x := autograd.NewVar(tensor.FromSlice([]float64{-1, 0, 2}, 3), true)
	tp := autograd.NewTape[float64]()
	y := tp.Apply(softplus{}, x)
	loss := tp.Sum(tp.Square(y))
	if err := tp.Backward(loss); err != nil {
		panic(err)
	}
	fmt.Println(y.Op())
	fmt.Printf("y = %.4f\n", y.Value().Data())
	fmt.Printf("dloss/dx = %.4f\n", x.Grad().Data())

	err := autograd.CheckGrad(func(tp *autograd.Tape[float64], in []*autograd.Var[float64]) *autograd.Var[float64] {
		return tp.Sum(tp.Square(tp.Apply(softplus{}, in[0])))
	}, []*tensor.Dense[float64]{x.Value()}, autograd.CheckOptions{})
	fmt.Println("CheckGrad:", err)
	// Output:
	// Softplus
	// y = [0.3133 0.6931 2.1269]
	// dloss/dx = [0.1685 0.6931 3.7468]
	// CheckGrad: <nil>
}
