package hf_test

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/hf"
)

// Greedy decoding with a KV cache from a model folder. The tokens are the
// ones PyTorch's reference implementation chose (testdata/llama, made by
// bench/hf_reference.py).
func ExampleNewGenerator() {
	m, err := hf.Load[float32]("testdata/llama")
	if err != nil {
		fmt.Println(err)
		return
	}
	g := hf.NewGenerator(m.LM, 0)
	prompt := []int{82, 48, 74, 16, 102, 98, 116, 25, 108}
	fmt.Println(g.Generate(nil, prompt, hf.GenerateOptions{MaxNewTokens: 8, Stop: m.Config.EosTokenID}, nil))
	// Output: [38 126 69 38 108 75 118 73]
}

// Sentence embeddings: the encoder on a tape that records no gradients,
// then the folder's pooling (mean, normalised).
func ExampleBertModel_Forward() {
	m, err := hf.Load[float32]("testdata/bert")
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := autograd.NewTape[float32]()
	tp.NoGrad(true)
	in := hf.BertInput{B: 2, T: 4,
		InputIDs:      []int{2, 40, 41, 3, 2, 42, 3, 0},
		AttentionMask: []int{1, 1, 1, 1, 1, 1, 1, 0}}
	h := m.Bert.Forward(tp, in)
	emb := hf.Pool(nil, h.Value(), in.AttentionMask, in.B, in.T, m.Pooling, m.Normalize)
	var n float64
	for _, v := range emb.Data()[:32] {
		n += float64(v) * float64(v)
	}
	fmt.Println(m.Pooling, m.Normalize, emb.Shape(), math.Round(n*1e4)/1e4)
	// Output: mean true [2 32] 1
}
