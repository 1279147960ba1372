package optim_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// Weight decay on the matrix, none on the bias. With a zero gradient Adam's
// update is zero, so one step only decays: w·(1 − lr·λ) = 1·(1 − 0.1·0.5).
func ExampleNewAdamWGroups() {
	w := autograd.NewVar(tensor.FromSlice([]float64{1, 1, 1, 1}, 2, 2), true)
	b := autograd.NewVar(tensor.FromSlice([]float64{1, 1}, 2), true)
	opt := optim.NewAdamWGroups([]optim.Group[float64]{
		{Params: []*autograd.Var[float64]{w}, WeightDecay: 0.5},
		{Params: []*autograd.Var[float64]{b}}, // WeightDecay 0: none
	}, optim.AdamConfig{LR: 0.1})
	tp := autograd.NewTape[float64]()
	zero := tp.Const(tensor.New[float64](2))
	if err := tp.Backward(tp.Add(tp.Sum(tp.Mul(w, tp.Const(tensor.New[float64](2, 2)))), tp.Sum(tp.Mul(b, zero)))); err != nil {
		panic(err)
	}
	opt.Step()
	fmt.Println(w.Value().Data(), b.Value().Data())
	// Output:
	// [0.95 0.95 0.95 0.95] [1 1]
}

// A gradient of norm 5 clipped to norm 1 keeps its direction.
func ExampleClipGradNorm() {
	w := autograd.NewVar(tensor.FromSlice([]float64{0, 0}, 2), true)
	tp := autograd.NewTape[float64]()
	if err := tp.Backward(tp.Sum(tp.Mul(w, tp.Const(tensor.FromSlice([]float64{3, -4}, 2))))); err != nil {
		panic(err)
	}
	total := optim.ClipGradNorm([]*autograd.Var[float64]{w}, 1)
	g := w.Grad()
	fmt.Printf("norm %.1f, clipped gradient [%.4f %.4f]\n", total, g.At(0), g.At(1))
	// Output:
	// norm 5.0, clipped gradient [0.6000 -0.8000]
}
