package onnx_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/onnx"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// Fine-tuning a model exported by torch.onnx.export: its initializers
// become the parameters of an nn module, under PyTorch's names, and the
// training loop is the one a Go-written network uses.
func ExampleGraphModule() {
	m, err := onnx.Load("testdata/train/cnn.onnx") // conv, batch norm, pools, linear
	if err != nil {
		log.Fatal(err)
	}
	model, err := onnx.NewGraphModule[float32](m)
	if err != nil {
		log.Fatal(err) // e.g. an op with no backward, named
	}
	for _, p := range nn.NamedParameters(model)[:2] {
		fmt.Println(p.Name, p.Var.Shape())
	}

	// A toy task: 2 images (the batch size the model was exported with), 2 labels.
	r := rand.New(rand.NewPCG(1, 2))
	x := tensor.New[float32](2, 3, 8, 8)
	for i := range x.Data() {
		x.Data()[i] = float32(r.NormFloat64())
	}
	labels := []int{0, 3}

	opt := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 0.01})
	tp := autograd.NewTape[float32]()
	var first, last float32
	for step := range 30 {
		tp.Reset()
		opt.ZeroGrad()
		out, err := model.Forward(tp, map[string]*autograd.Var[float32]{"x": tp.Const(x)})
		if err != nil {
			log.Fatal(err)
		}
		loss := tp.CrossEntropy(out["y"], labels)
		if err := tp.Backward(loss); err != nil {
			log.Fatal(err)
		}
		opt.Step()
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
	}
	fmt.Println("loss fell by more than half:", last < first/2)

	// Evaluation mode: BatchNormalization uses its running statistics.
	nn.Train(model, false)
	tp.Reset()
	tp.NoGrad(true)
	out, _ := model.Forward(tp, map[string]*autograd.Var[float32]{"x": tp.Const(x)})
	fmt.Println("logits", out["y"].Shape())

	// The fine-tuned weights in a Model for a Session (all load-time
	// rewrites applied); nn.Save("finetuned.safetensors", model, opt)
	// keeps them as a checkpoint.
	tuned, err := model.Export()
	if err != nil {
		log.Fatal(err)
	}
	res, err := onnx.NewSession(tuned).Run(map[string]*onnx.Tensor{"x": onnx.TensorOf(tp.Const(x))})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("session", res["y"].Shape)

	// Output:
	// conv1.weight [4 3 3 3]
	// conv1.bias [4]
	// loss fell by more than half: true
	// logits [2 5]
	// session [2 5]
}
