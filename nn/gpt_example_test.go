package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
)

// A one-layer GPT: its parameters carry nanoGPT's names, a training loss
// on a batch of bytes starts near ln 256 ≈ 5.55, and the Generator
// continues a prompt.
func ExampleGPT() {
	g := nn.NewGPT[float32](rand.New(rand.NewPCG(1, 2)), nn.GPTConfig{Layers: 1, Embd: 32, Heads: 2, BlockSize: 8})
	for _, p := range nn.NamedParameters(g)[:4] {
		fmt.Println(p.Name, p.Var.Shape())
	}
	idx := []int{'f', 'u', 'n', 'c', ' ', 'm', 'a', 'i'}
	tgt := []int{'u', 'n', 'c', ' ', 'm', 'a', 'i', 'n'}
	tp := autograd.NewTape[float32]()
	loss := g.Loss(tp, idx, tgt, 1, 8)
	// Weights of std 0.02 make every byte about equally likely at first.
	l := float64(loss.Value().Data()[0])
	fmt.Println("loss within 0.1 of ln 256:", math.Abs(l-math.Log(256)) < 0.1)
	out := nn.NewGenerator(g).Generate(nil, idx, 4, 1, rand.New(rand.NewPCG(3, 4)))
	fmt.Println(len(out), "bytes sampled")
	// Output:
	// transformer.wte.weight [256 32]
	// transformer.wpe.weight [8 32]
	// transformer.h.0.ln_1.weight [32]
	// transformer.h.0.ln_1.bias [32]
	// loss within 0.1 of ln 256: true
	// 4 bytes sampled
}
