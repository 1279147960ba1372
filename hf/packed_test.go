package hf

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/stretchr/testify/require"
)

// TestPackWeightsSameResult: with PackWeights, BertModel.Forward gives the
// unpacked forward's bits (both on the PyTorch fixture and at a size where
// the packed GEMM path runs: 128 tokens, width 64), and the gradients of a
// recorded pass match Linear's; UnpackWeights returns to Linear.
func TestPackWeightsSameResult(t *testing.T) {
	c := &Config{Family: FamilyBert, VocabSize: 100, HiddenSize: 64, NumHiddenLayers: 2,
		NumAttentionHeads: 4, NumKeyValueHeads: 4, HeadDim: 16, IntermediateSize: 128,
		MaxPositions: 256, TypeVocabSize: 2, NormEps: 1e-12}
	m := NewBertModel[float32](c, rand.New(rand.NewPCG(1, 2)), 0.05)
	nn.Train(m, false)
	const n = 128
	rng := rand.New(rand.NewPCG(3, 4))
	in := BertInput{B: 1, T: n, InputIDs: make([]int, n), AttentionMask: make([]int, n)}
	for i := range in.InputIDs {
		in.InputIDs[i], in.AttentionMask[i] = rng.IntN(c.VocabSize), 1
	}
	in.AttentionMask[n-1] = 0
	run := func(grad bool) ([]float32, [][]float32) {
		tp := autograd.NewTape[float32]()
		tp.NoGrad(!grad)
		for _, p := range nn.Parameters[float32](m) {
			p.ZeroGrad()
		}
		h := m.Forward(tp, in)
		out := append([]float32(nil), h.Value().Data()...)
		if !grad {
			return out, nil
		}
		require.NoError(t, tp.Backward(tp.Sum(tp.Mul(h, h))))
		var gs [][]float32
		for _, p := range nn.Parameters[float32](m) {
			if g := p.Grad(); g != nil {
				gs = append(gs, append([]float32(nil), g.Data()...))
			}
		}
		return out, gs
	}
	want, wantG := run(true)
	m.PackWeights()
	require.Len(t, m.packs, 12)
	require.Len(t, m.qkv, 2) // query, key and value packed together (the no-grad path)
	got, gotG := run(true)
	require.Equal(t, want, got, "forward bits")
	require.Len(t, gotG, len(wantG))
	for i := range wantG {
		for j := range wantG[i] {
			require.InDelta(t, wantG[i][j], gotG[i][j], 1e-5*(1+float64(abs32(wantG[i][j]))), "grad %d[%d]", i, j)
		}
	}
	got, _ = run(false)
	require.Equal(t, want, got, "no-grad forward bits")
	m.UnpackWeights()
	got, _ = run(false)
	require.Equal(t, want, got)

	fm, err := Load[float32](testdata("bert"))
	require.NoError(t, err)
	tp := autograd.NewTape[float32]()
	tp.NoGrad(true)
	fin := BertInput{B: 1, T: 5, InputIDs: []int{1, 2, 3, 4, 5}, AttentionMask: []int{1, 1, 1, 1, 0}}
	want = append([]float32(nil), fm.Bert.Forward(tp, fin).Value().Data()...)
	fm.Bert.PackWeights()
	tp.Reset()
	require.Equal(t, want, fm.Bert.Forward(tp, fin).Value().Data(), "fixture model")
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// TestBertNoGradConcurrent: no-grad forwards of one packed model on
// several goroutines at once (each its own tape) give the serial result:
// the attention values and id buffers of the model's free list, and the
// epilogue blocks, are never shared between calls in flight.
func TestBertNoGradConcurrent(t *testing.T) {
	c := &Config{Family: FamilyBert, VocabSize: 50, HiddenSize: 32, NumHiddenLayers: 2,
		NumAttentionHeads: 4, NumKeyValueHeads: 4, HeadDim: 8, IntermediateSize: 64,
		MaxPositions: 64, TypeVocabSize: 2, NormEps: 1e-12}
	m := NewBertModel[float32](c, rand.New(rand.NewPCG(5, 6)), 0.1)
	nn.Train(m, false)
	m.PackWeights()
	inputs := make([]BertInput, 4)
	want := make([][]float32, len(inputs))
	for i := range inputs {
		n := 8 + 4*i
		in := BertInput{B: 1, T: n, InputIDs: make([]int, n), AttentionMask: make([]int, n), TokenTypeIDs: make([]int, n)}
		for j := range n {
			in.InputIDs[j], in.AttentionMask[j], in.TokenTypeIDs[j] = (7*j+i)%c.VocabSize, 1, j%2
		}
		in.AttentionMask[n-1] = 0
		inputs[i] = in
		tp := autograd.NewTape[float32]()
		tp.NoGrad(true)
		want[i] = append([]float32(nil), m.Forward(tp, in).Value().Data()...)
	}
	errs := make(chan string, len(inputs))
	for i := range inputs {
		go func() {
			tp := autograd.NewTape[float32]()
			tp.NoGrad(true)
			for range 20 {
				tp.Reset()
				got := m.Forward(tp, inputs[i]).Value().Data()
				for j := range got {
					if got[j] != want[i][j] {
						errs <- fmt.Sprintf("input %d: [%d] = %v, want %v", i, j, got[j], want[i][j])
						return
					}
				}
			}
			errs <- ""
		}()
	}
	for range inputs {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
