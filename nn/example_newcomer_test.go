package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// A regression MLP trained with Adam: fit y = sin(x₀) + x₁² on 64 points.
func ExampleNewMLP_regression() {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := tensor.New[float32](64, 2), tensor.New[float32](64, 1)
	for i := range 64 {
		a, b := rng.Float32()*2-1, rng.Float32()*2-1
		x.Data()[2*i], x.Data()[2*i+1], y.Data()[i] = a, b, float32(math.Sin(float64(a)))+b*b
	}
	m := nn.NewMLP[float32](rng, []int{2, 32, 1}, nn.Tanh)
	opt := optim.NewAdam(nn.Parameters(m), optim.AdamConfig{LR: 0.01})
	tp := autograd.NewTape[float32]()
	var loss float32
	for range 500 {
		tp.Reset()
		l := tp.MSE(m.Forward(tp, tp.Const(x)), tp.Const(y))
		if err := tp.Backward(l); err != nil {
			panic(err)
		}
		opt.Step()
		opt.ZeroGrad()
		loss = l.Value().Item()
	}
	fmt.Println("mean squared error below 0.001:", loss < 0.001)
	// Output:
	// mean squared error below 0.001: true
}

// TwoInput is a user's model with two inputs: it names its children once,
// and parameters, train/eval mode, checkpoints and optimiser state follow.
type TwoInput struct {
	A, B *nn.Linear[float32]
	Drop *nn.Dropout[float32]
	Head *nn.Linear[float32]
}

func NewTwoInput(rng *rand.Rand) *TwoInput {
	return &TwoInput{
		A:    nn.NewLinear[float32](rng, 3, 8, nn.KaimingUniform),
		B:    nn.NewLinear[float32](rng, 2, 8, nn.KaimingUniform),
		Drop: nn.NewDropout[float32](rng, 0.1),
		Head: nn.NewLinear[float32](rng, 8, 1, nn.XavierUniform),
	}
}

func (m *TwoInput) Members(ms *nn.Members[float32]) {
	ms.Module("a", m.A)
	ms.Module("b", m.B)
	ms.Module("drop", m.Drop)
	ms.Module("head", m.Head)
}

func (m *TwoInput) Forward(tp *autograd.Tape[float32], x, z *autograd.Var[float32]) *autograd.Var[float32] {
	h := tp.Relu(tp.Add(m.A.Forward(tp, x), m.B.Forward(tp, z)))
	return m.Head.Forward(tp, m.Drop.Forward(tp, h))
}

// A user-defined module with two inputs, trained, saved with its Adam
// state, reloaded into a fresh model and optimiser, and resumed: the
// resumed run ends exactly where an uninterrupted one does.
func ExampleModule() {
	data := rand.New(rand.NewPCG(2, 2))
	x := tensor.RandNormal[float32](data, 0, 1, 16, 3)
	z := tensor.RandNormal[float32](data, 0, 1, 16, 2)
	y := tensor.RandNormal[float32](data, 0, 1, 16, 1)
	train := func(m *TwoInput, opt *optim.Adam[float32], steps int) {
		tp := autograd.NewTape[float32]()
		for range steps {
			tp.Reset()
			loss := tp.MSE(m.Forward(tp, tp.Const(x), tp.Const(z)), tp.Const(y))
			if err := tp.Backward(loss); err != nil {
				panic(err)
			}
			opt.Step()
			opt.ZeroGrad()
		}
	}
	m := NewTwoInput(rand.New(rand.NewPCG(1, 1)))
	m.Drop.P = 0 // deterministic for the comparison below
	opt := optim.NewAdam(nn.Parameters(m), optim.AdamConfig{LR: 0.01})
	train(m, opt, 20)
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ckpt.safetensors")
	if err := nn.Save(path, m, opt); err != nil {
		panic(err)
	}
	train(m, opt, 10) // the uninterrupted run

	m2 := NewTwoInput(rand.New(rand.NewPCG(9, 9))) // other weights
	m2.Drop.P = 0
	opt2 := optim.NewAdam(nn.Parameters(m2), optim.AdamConfig{LR: 0.01})
	if _, err := nn.Load(path, m2, true, opt2); err != nil {
		panic(err)
	}
	train(m2, opt2, 10)
	nn.Train(m2, false) // evaluation mode from here on: m2.Drop passes its input through

	for _, p := range nn.NamedParameters(m) {
		fmt.Println(p.Name, p.Var.Shape())
	}
	same := true
	for i, p := range nn.Parameters(m) {
		same = same && slices.Equal(p.Value().Data(), nn.Parameters(m2)[i].Value().Data())
	}
	fmt.Println("resumed run equals the uninterrupted one:", same)
	// Output:
	// a.weight [8 3]
	// a.bias [8]
	// b.weight [8 2]
	// b.bias [8]
	// head.weight [1 8]
	// head.bias [1]
	// resumed run equals the uninterrupted one: true
}

// Inference from a PyTorch checkpoint, written by
// safetensors.torch.save_file(model.state_dict(), path) for
// nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(),
// nn.Linear(4, 3)), with no gradient recorded.
func ExampleLoad_pytorch() {
	m := nn.NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{5, 4, 4, 3}, nn.Tanh)
	if _, err := nn.Load("testdata/torch/mlp.safetensors", m, true); err != nil {
		panic(err)
	}
	io, err := tensor.LoadNPZ[float32]("testdata/torch/mlp_io.npz") // x, and PyTorch's output y
	if err != nil {
		panic(err)
	}
	tp := autograd.NewTape[float32]()
	tp.NoGrad(true)
	y := m.Forward(tp, tp.Const(io["x"])).Value()

	fmt.Println("input", io["x"].Shape(), "output", y.Shape())
	diff := 0.0
	for i, v := range y.Data() {
		diff = max(diff, math.Abs(float64(v-io["y"].Data()[i])))
	}
	fmt.Println("matches PyTorch within 1e-5:", diff <= 1e-5)
	// Output:
	// input [3 2 5] output [3 2 3]
	// matches PyTorch within 1e-5: true
}
