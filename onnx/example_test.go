package onnx_test

import (
	"fmt"
	"os"

	"github.com/adjoint-go/adjoint/onnx"
)

// Load a small exported MLP, look at its inputs and run it on a saved input.
func Example() {
	m, err := onnx.Load("testdata/models/tiny_mlp_op17.onnx")
	if err != nil {
		panic(err)
	}
	for _, in := range m.Graph.Inputs {
		fmt.Println("input", in.Name, in.DType, in.ShapeString())
	}
	b, err := os.ReadFile("testdata/models/tiny_mlp_op17.in.x.npy")
	if err != nil {
		panic(err)
	}
	x, err := onnx.ReadNPY(b)
	if err != nil {
		panic(err)
	}
	out, err := onnx.NewSession(m).Run(map[string]*onnx.Tensor{"x": x})
	if err != nil {
		panic(err)
	}
	for _, o := range m.Graph.Outputs {
		fmt.Println("output", o.Name, out[o.Name].DType, out[o.Name].Shape)
	}
	// Output:
	// input x float32 [4 32]
	// output y float32 [4 10]
}
