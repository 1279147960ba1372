package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// Build a small classifier, take one SGD step on a batch of four points,
// and list the parameters.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	m := nn.NewMLP[float32](rng, []int{2, 8, 3}, nn.ReLU)
	opt := optim.NewSGD(nn.Parameters(m), optim.SGDConfig{LR: 0.1})

	x := autograd.NewVar(tensor.FromSlice([]float32{
		0, 1,
		1, 0,
		-1, 0,
		0, -1,
	}, 4, 2), false)
	labels := []int{0, 1, 2, 1}

	tp := autograd.NewTape[float32]()
	loss := tp.CrossEntropy(m.Forward(tp, x), labels)
	before := loss.Value().Data()[0]
	if err := tp.Backward(loss); err != nil {
		panic(err)
	}
	opt.Step()
	opt.ZeroGrad()

	tp.Reset()
	after := tp.CrossEntropy(m.Forward(tp, x), labels).Value().Data()[0]

	fmt.Println("parameters:", nn.NumParameters(m))
	for _, p := range nn.NamedParameters(m) {
		fmt.Println(p.Name, p.Var.Value().Shape())
	}
	fmt.Println("loss went down:", after < before)
	// Output:
	// parameters: 51
	// 0.weight [8 2]
	// 0.bias [8]
	// 2.weight [3 8]
	// 2.bias [3]
	// loss went down: true
}
