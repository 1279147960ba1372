package hf

import (
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/stretchr/testify/require"
)

// TestHeadsAttentionMatchesRecorded: without gradients BertModel.Forward
// takes headsAttention (heads read in place); it must give the recorded
// path's result (the Permute, BatchedMatMul, Scale, mask Add, Softmax
// ops) for two sequences with padding, in float32 and float64.
func TestHeadsAttentionMatchesRecorded(t *testing.T) {
	c := &Config{Family: FamilyBert, VocabSize: 50, HiddenSize: 24, NumHiddenLayers: 2,
		NumAttentionHeads: 3, NumKeyValueHeads: 3, HeadDim: 8, IntermediateSize: 40,
		MaxPositions: 64, TypeVocabSize: 2, NormEps: 1e-12}
	const b, n = 2, 19
	rng := rand.New(rand.NewPCG(5, 6))
	in := BertInput{B: b, T: n, InputIDs: make([]int, b*n), AttentionMask: make([]int, b*n)}
	for i := range in.InputIDs {
		in.InputIDs[i], in.AttentionMask[i] = rng.IntN(c.VocabSize), 1
	}
	in.AttentionMask[n-1], in.AttentionMask[2*n-3], in.AttentionMask[2*n-1] = 0, 0, 0
	t.Run("float32", func(t *testing.T) {
		m := NewBertModel[float32](c, rand.New(rand.NewPCG(1, 2)), 0.1)
		nn.Train(m, false)
		var outs [2][]float32
		for i, grad := range []bool{true, false} {
			tp := autograd.NewTape[float32]()
			tp.NoGrad(!grad)
			outs[i] = append([]float32(nil), m.Forward(tp, in).Value().Data()...)
		}
		require.InDeltaSlice(t, outs[0], outs[1], 2e-6)
	})
	t.Run("float64", func(t *testing.T) {
		m := NewBertModel[float64](c, rand.New(rand.NewPCG(1, 2)), 0.1)
		nn.Train(m, false)
		var outs [2][]float64
		for i, grad := range []bool{true, false} {
			tp := autograd.NewTape[float64]()
			tp.NoGrad(!grad)
			outs[i] = append([]float64(nil), m.Forward(tp, in).Value().Data()...)
		}
		require.InDeltaSlice(t, outs[0], outs[1], 1e-12)
	})
}
