package hf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// tinyConfigs are hand-made configurations of each architecture, small
// enough for float64 finite differences over every parameter tensor.
func tinyConfigs() map[string]*Config {
	return map[string]*Config{
		"bert": {Family: FamilyBert, VocabSize: 11, HiddenSize: 8, NumHiddenLayers: 2, NumAttentionHeads: 2,
			NumKeyValueHeads: 2, HeadDim: 4, IntermediateSize: 12, MaxPositions: 8, TypeVocabSize: 2, NormEps: 1e-12},
		"gpt2": {Family: FamilyGPT2, VocabSize: 11, HiddenSize: 8, NumHiddenLayers: 2, NumAttentionHeads: 2,
			NumKeyValueHeads: 2, HeadDim: 4, IntermediateSize: 32, MaxPositions: 8, NormEps: 1e-5, TieWordEmbeddings: true},
		"llama": {Family: FamilyLlama, VocabSize: 11, HiddenSize: 8, NumHiddenLayers: 2, NumAttentionHeads: 4,
			NumKeyValueHeads: 2, HeadDim: 4, IntermediateSize: 12, MaxPositions: 8, NormEps: 1e-6, RopeTheta: 10000,
			RopeScaling: &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 4}},
		"qwen2": {Family: FamilyLlama, VocabSize: 11, HiddenSize: 8, NumHiddenLayers: 1, NumAttentionHeads: 2,
			NumKeyValueHeads: 1, HeadDim: 4, IntermediateSize: 12, MaxPositions: 8, NormEps: 1e-6, RopeTheta: 1e6,
			QKVBias: true, TieWordEmbeddings: true},
	}
}

// lossFunc records a scalar loss of a model on fixed data.
type lossFunc func(tp *autograd.Tape[float64]) *autograd.Var[float64]

// TestGradCheck compares Backward's adjoint of every parameter tensor
// (three elements of each) with central differences in float64.
func TestGradCheck(t *testing.T) {
	for name, c := range tinyConfigs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			b, tt := 2, 5
			ids := make([]int, b*tt)
			for i := range ids {
				ids[i] = rng.IntN(c.VocabSize)
			}
			var loss lossFunc
			var ps []*autograd.Var[float64]
			var names []string
			if c.Family == FamilyBert {
				m := NewBertModel[float64](c, rng, 0.5)
				for _, p := range nn.NamedParameters[float64](m) {
					ps, names = append(ps, p.Var), append(names, p.Name)
				}
				target := make([]float64, b*tt*c.HiddenSize)
				for i := range target {
					target[i] = rng.NormFloat64()
				}
				in := BertInput{B: b, T: tt, InputIDs: ids, AttentionMask: []int{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, TokenTypeIDs: []int{0, 0, 1, 1, 1, 0, 1, 0, 1, 0}}
				loss = func(tp *autograd.Tape[float64]) *autograd.Var[float64] {
					h := m.Forward(tp, in)
					return tp.Sum(tp.Mul(h, tp.Const(tensor.FromSlice(target, b*tt, c.HiddenSize))))
				}
				// The pooler is not in this loss.
				ps, names = ps[:len(ps)-2], names[:len(names)-2]
			} else {
				m := NewCausalLM[float64](c, rng, 0.5)
				// Non-trivial norm weights and biases.
				for _, p := range nn.NamedParameters[float64](m) {
					for i := range p.Var.Value().Data() {
						p.Var.Value().Data()[i] += 0.1 * rng.NormFloat64()
					}
					ps, names = append(ps, p.Var), append(names, p.Name)
				}
				targets := make([]int, len(ids))
				for i := range targets {
					targets[i] = rng.IntN(c.VocabSize)
				}
				loss = func(tp *autograd.Tape[float64]) *autograd.Var[float64] {
					return tp.CrossEntropy(m.Logits(tp, ids, b, tt), targets)
				}
			}
			tp := autograd.NewTape[float64]()
			require.NoError(t, tp.Backward(loss(tp)))
			eval := func() float64 {
				tp.Reset()
				prev := tp.NoGrad(true)
				defer tp.NoGrad(prev)
				return loss(tp).Value().Data()[0]
			}
			grads := make([][]float64, len(ps))
			for i, p := range ps {
				grads[i] = append([]float64(nil), p.Grad().Data()...)
			}
			const h = 1e-6
			for i, p := range ps {
				d := p.Value().Data()
				for _, j := range []int{0, len(d) / 2, len(d) - 1} {
					x := d[j]
					d[j] = x + h
					up := eval()
					d[j] = x - h
					down := eval()
					d[j] = x
					num := (up - down) / (2 * h)
					got := grads[i][j]
					require.LessOrEqual(t, math.Abs(got-num), 1e-6+1e-5*max(math.Abs(got), math.Abs(num)),
						"%s[%d]: adjoint %v, central difference %v", names[i], j, got, num)
				}
			}
			t.Logf("%d parameter tensors checked", len(ps))
		})
	}
}

// TestFineTune: a few AdamW steps on a toy task (continue a fixed token
// cycle) lower the loss of every architecture.
func TestFineTune(t *testing.T) {
	for name, c := range tinyConfigs() {
		if c.Family == FamilyBert {
			continue
		}
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			m := NewCausalLM[float32](c, rng, 0.02)
			opt := optim.NewAdamW(nn.Parameters[float32](m), optim.AdamConfig{LR: 1e-2, WeightDecay: 0})
			const b, tt = 4, 8
			ids, targets := make([]int, b*tt), make([]int, b*tt)
			tp := autograd.NewTape[float32]()
			var first, last float64
			for step := range 30 {
				for s := range b {
					off := rng.IntN(c.VocabSize)
					for j := range tt {
						ids[s*tt+j] = (off + j) % c.VocabSize
						targets[s*tt+j] = (off + j + 1) % c.VocabSize
					}
				}
				tp.Reset()
				for _, p := range nn.Parameters[float32](m) {
					p.ZeroGrad()
				}
				l := tp.CrossEntropy(m.Logits(tp, ids, b, tt), targets)
				require.NoError(t, tp.Backward(l))
				opt.Step()
				v := float64(l.Value().Data()[0])
				if step == 0 {
					first = v
				}
				last = v
			}
			t.Logf("loss %.3f -> %.3f after 30 steps", first, last)
			require.Less(t, last, 0.5*first, fmt.Sprint(name))
		})
	}
}

// TestFineTuneBert: AdamW steps pull BERT's [CLS] state of two padded
// sequences towards fixed targets.
func TestFineTuneBert(t *testing.T) {
	c := tinyConfigs()["bert"]
	rng := rand.New(rand.NewPCG(5, 6))
	m := NewBertModel[float32](c, rng, 0.02)
	opt := optim.NewAdamW(nn.Parameters[float32](m), optim.AdamConfig{LR: 1e-2, WeightDecay: 0})
	in := BertInput{B: 2, T: 5, InputIDs: []int{2, 5, 6, 7, 3, 2, 8, 3, 0, 0}, AttentionMask: []int{1, 1, 1, 1, 1, 1, 1, 1, 0, 0}}
	target := make([]float32, 2*c.HiddenSize)
	for i := range target {
		target[i] = float32(rng.NormFloat64())
	}
	tgt := tensor.FromSlice(target, 2, c.HiddenSize)
	tp := autograd.NewTape[float32]()
	var first, last float32
	for step := range 40 {
		tp.Reset()
		opt.ZeroGrad()
		h := tp.Reshape(m.Forward(tp, in), 2, in.T*c.HiddenSize)
		cls := tp.Slice(h, 1, 0, c.HiddenSize)
		loss := tp.MSE(cls, tp.Const(tgt))
		require.NoError(t, tp.Backward(loss))
		opt.Step()
		if step == 0 {
			first = loss.Value().Data()[0]
		}
		last = loss.Value().Data()[0]
	}
	t.Logf("loss %.3f -> %.3f after 40 steps", first, last)
	require.Less(t, last, 0.5*first)
}
