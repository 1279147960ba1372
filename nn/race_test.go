package nn

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// TestConcurrentForward: two goroutines run forward passes on one model
// (evaluation mode) at once, each on its own tape, and get what one
// goroutine alone gets. Run under -race (CI does) it proves the
// layers keep no per-call scratch in shared fields (issue 20 item 3: the
// Embedding's and GPT's index buffers did).
func TestConcurrentForward(t *testing.T) {
	g := NewGPT[float32](rand.New(rand.NewPCG(1, 1)), GPTConfig{VocabSize: 16, BlockSize: 8, Layers: 1, Heads: 2, Embd: 8})
	e := &embLN[float32]{NewEmbedding[float32](rand.New(rand.NewPCG(2, 2)), 10, 6, 1), NewLayerNorm[float32](6, true)}
	cnn := torchModel[float32]("cnn", 3)
	Train(cnn, false)
	inputs := func(seed uint64) (tok, ids, img *tensor.Dense[float32]) {
		rng := rand.New(rand.NewPCG(seed, 9))
		tok, ids = tensor.New[float32](2, 8), tensor.New[float32](5)
		for i := range tok.Data() {
			tok.Data()[i] = float32(rng.IntN(16))
		}
		for i := range ids.Data() {
			ids.Data()[i] = float32(rng.IntN(10))
		}
		return tok, ids, tensor.RandNormal[float32](rng, 0, 1, 2, 2, 6, 6)
	}
	run := func(seed uint64) [][]float32 {
		tok, ids, img := inputs(seed)
		tp := autograd.NewTape[float32]()
		var out [][]float32
		for range 20 {
			tp.Reset()
			out = [][]float32{
				g.Forward(tp, tp.Const(tok)).Value().Clone().Data(),
				e.Forward(tp, tp.Const(ids)).Value().Clone().Data(),
				cnn.Forward(tp, tp.Const(img)).Value().Clone().Data(),
			}
		}
		return out
	}
	want := [2][][]float32{run(1), run(2)}
	var got [2][][]float32
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { got[i] = run(uint64(i + 1)) })
	}
	wg.Wait()
	require.Equal(t, want, got)
}
