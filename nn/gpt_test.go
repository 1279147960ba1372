package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// slots returns pointers to g's parameter fields in NamedParameters order, so a
// test can put CheckGrad's leaves in their place.
func slots[T tensor.Float](g *GPT[T]) []**autograd.Var[T] {
	s := []**autograd.Var[T]{&g.WTE.Weight, &g.WPE.Weight}
	for _, b := range g.H {
		s = append(s, &b.LN1.Weight, &b.LN1.Bias, &b.Attn.Attn.Weight, &b.Attn.Attn.Bias, &b.Attn.Proj.Weight, &b.Attn.Proj.Bias,
			&b.LN2.Weight, &b.LN2.Bias, &b.FC.Weight, &b.FC.Bias, &b.Proj.Weight, &b.Proj.Bias)
	}
	return append(s, &g.LNF.Weight, &g.LNF.Bias)
}

// TestGPTParamNames: nanoGPT's state_dict names (model.py, bias=True),
// less the tied lm_head.weight, with PyTorch's shapes.
func TestGPTParamNames(t *testing.T) {
	g := NewGPT[float32](rand.New(rand.NewPCG(1, 2)), GPTConfig{Layers: 2})
	want := []string{"transformer.wte.weight", "transformer.wpe.weight"}
	for i := range 2 {
		for _, n := range []string{"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
			"ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"} {
			want = append(want, fmt.Sprintf("transformer.h.%d.%s", i, n))
		}
	}
	want = append(want, "transformer.ln_f.weight", "transformer.ln_f.bias")
	var got []string
	shapes := map[string][]int{}
	for _, p := range NamedParameters(g) {
		got = append(got, p.Name)
		shapes[p.Name] = p.Var.Shape()
	}
	require.Equal(t, want, got)
	require.Equal(t, []int{256, 128}, shapes["transformer.wte.weight"])
	require.Equal(t, []int{64, 128}, shapes["transformer.wpe.weight"])
	require.Equal(t, []int{384, 128}, shapes["transformer.h.1.attn.c_attn.weight"])
	require.Equal(t, []int{128, 512}, shapes["transformer.h.0.mlp.c_proj.weight"])
	require.Len(t, slots(g), len(got))
	n := 0
	for _, p := range NamedParameters(g) {
		n += p.Var.Value().Size()
	}
	// nanoGPT prints "number of parameters" without wpe: 0.80M for this
	// configuration with 4 layers; here 2 layers: 2·198272 + 256·128 + 256 + 64·128.
	require.Equal(t, 2*198272+256*128+256+64*128, n)
	noBias := NewGPT[float32](rand.New(rand.NewPCG(1, 2)), GPTConfig{Layers: 1, NoBias: true})
	for _, p := range NamedParameters(noBias) {
		require.NotContains(t, p.Name, "bias")
	}
	decay, rest := DecaySplit(NamedParameters(g))
	require.Len(t, decay, 2+2*4)
	require.Len(t, rest, 2*8+2)
}

// naiveAttention computes causal self-attention with explicit loops from
// the layer's weights: the reference for Forward.
func naiveAttention(a *CausalSelfAttention[float64], x *tensor.Dense[float64]) *tensor.Dense[float64] {
	s := x.Shape()
	bn, tn, c := s[0], s[1], s[2]
	hd := c / a.Heads
	w, bias := a.Attn.Weight.Value(), a.Attn.Bias.Value()
	qkv := make([]float64, bn*tn*3*c)
	for b := range bn {
		for t := range tn {
			for o := range 3 * c {
				v := bias.At(o)
				for i := range c {
					v += x.At(b, t, i) * w.At(o, i)
				}
				qkv[(b*tn+t)*3*c+o] = v
			}
		}
	}
	at := func(b, t, part, h, d int) float64 { return qkv[(b*tn+t)*3*c+part*c+h*hd+d] }
	y := make([]float64, bn*tn*c)
	for b := range bn {
		for h := range a.Heads {
			for i := range tn {
				sc := make([]float64, i+1)
				mx := math.Inf(-1)
				for j := 0; j <= i; j++ {
					for d := range hd {
						sc[j] += at(b, i, 0, h, d) * at(b, j, 1, h, d)
					}
					sc[j] /= math.Sqrt(float64(hd))
					mx = math.Max(mx, sc[j])
				}
				var sum float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for d := range hd {
						y[(b*tn+i)*c+h*hd+d] += sc[j] / sum * at(b, j, 2, h, d)
					}
				}
			}
		}
	}
	out := tensor.New[float64](bn, tn, c)
	pw, pb := a.Proj.Weight.Value(), a.Proj.Bias.Value()
	for r := range bn * tn {
		for o := range c {
			v := pb.At(o)
			for i := range c {
				v += y[r*c+i] * pw.At(o, i)
			}
			out.Data()[r*c+o] = v
		}
	}
	return out
}

func TestAttentionMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ b, t, c, h int }{{1, 1, 4, 1}, {2, 5, 8, 2}, {3, 4, 6, 3}, {1, 7, 4, 4}} {
		t.Run(fmt.Sprintf("B=%d/T=%d/C=%d/H=%d", tc.b, tc.t, tc.c, tc.h), func(t *testing.T) {
			a := NewCausalSelfAttention[float64](rng, tc.c, tc.h, true, 0.5, 0.5)
			for _, b := range []*autograd.Var[float64]{a.Attn.Bias, a.Proj.Bias} {
				copy(b.Value().Data(), randTensor(rng, b.Value().Size()).Data())
			}
			x := randTensor(rng, tc.b, tc.t, tc.c)
			tp := autograd.NewTape[float64]()
			got := a.Forward(tp, autograd.NewVar(x, false)).Value()
			want := naiveAttention(a, x)
			require.Equal(t, want.Shape(), got.Shape())
			for i, w := range want.Data() {
				require.InDelta(t, w, got.Data()[i], 1e-12, "element %d", i)
			}
		})
	}
}

func TestAttentionGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ b, t, c, h int }{{1, 1, 4, 1}, {2, 3, 4, 2}, {1, 4, 6, 3}} {
		t.Run(fmt.Sprintf("B=%d/T=%d/H=%d", tc.b, tc.t, tc.h), func(t *testing.T) {
			a := NewCausalSelfAttention[float64](rng, tc.c, tc.h, true, 0.5, 0.5)
			ins := []*tensor.Dense[float64]{randTensor(rng, tc.b, tc.t, tc.c), a.Attn.Weight.Value(), randTensor(rng, 3*tc.c), a.Proj.Weight.Value(), randTensor(rng, tc.c)}
			w := randTensor(rng, tc.b, tc.t, tc.c)
			err := autograd.CheckGrad(func(tp *autograd.Tape[float64], in []*autograd.Var[float64]) *autograd.Var[float64] {
				a.Attn.Weight, a.Attn.Bias, a.Proj.Weight, a.Proj.Bias = in[1], in[2], in[3], in[4]
				return tp.Sum(tp.Mul(a.Forward(tp, in[0]), tp.Const(w)))
			}, ins, autograd.CheckOptions{})
			require.NoError(t, err)
		})
	}
}

func tinyConfig() GPTConfig {
	return GPTConfig{VocabSize: 7, BlockSize: 5, Layers: 2, Heads: 2, Embd: 4, Hidden: 6}
}

// TestGPTGradient checks the whole model's loss against finite differences
// for every parameter: tied wte (embedding and head), wpe with repeated
// positions, every block; at sequence length 1 and at the full context.
func TestGPTGradient(t *testing.T) {
	for _, tc := range []struct{ b, t int }{{1, 1}, {2, 5}, {3, 2}} {
		t.Run(fmt.Sprintf("B=%d/T=%d", tc.b, tc.t), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(tc.t)))
			g := NewGPT[float64](rng, tinyConfig())
			var ins []*tensor.Dense[float64]
			for _, p := range NamedParameters(g) {
				v := p.Var.Value().Clone()
				if len(v.Shape()) == 1 || p.Name == "transformer.wpe.weight" || p.Name == "transformer.wte.weight" {
					// Biases and LayerNorm parameters away from 0 and 1,
					// embeddings large enough to matter.
					for i := range v.Data() {
						v.Data()[i] += rng.Float64() - 0.5
					}
				}
				ins = append(ins, v)
			}
			idx, tg := make([]int, tc.b*tc.t), make([]int, tc.b*tc.t)
			for i := range idx {
				idx[i], tg[i] = rng.IntN(7), rng.IntN(7)
			}
			idx[0] = 3
			if len(idx) > 1 {
				idx[1] = 3 // a repeated token
			}
			sl := slots(g)
			err := autograd.CheckGrad(func(tp *autograd.Tape[float64], in []*autograd.Var[float64]) *autograd.Var[float64] {
				for i, s := range sl {
					*s = in[i]
				}
				return g.Loss(tp, idx, tg, tc.b, tc.t)
			}, ins, autograd.CheckOptions{})
			require.NoError(t, err)
		})
	}
}

// TestGeneratorMatchesTape: the KV-cache path gives the logits of the
// tape's full forward pass at every position, fed one token at a time and
// in chunks; past the context it restarts from the last Keep tokens, which
// equals a forward pass over those tokens.
func TestGeneratorMatchesTape(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cfg := tinyConfig()
	g := NewGPT[float64](rng, cfg)
	for _, p := range NamedParameters(g) {
		if len(p.Var.Shape()) == 1 {
			for i := range p.Var.Value().Data() {
				p.Var.Value().Data()[i] += rng.Float64() - 0.5
			}
		}
	}
	seq := []int{1, 4, 4, 0, 6, 2, 5, 3}
	tp := autograd.NewTape[float64]()
	tapeLogits := func(toks []int) []float64 {
		tp.Reset()
		prev := tp.NoGrad(true)
		defer tp.NoGrad(prev)
		l := g.Logits(tp, toks, 1, len(toks)).Value()
		return append([]float64(nil), l.Data()[(len(toks)-1)*cfg.VocabSize:]...)
	}
	gen := NewGenerator(g)
	for i := range cfg.BlockSize {
		got := gen.Feed(seq[i])
		require.InDeltaSlice(t, tapeLogits(seq[:i+1]), got, 1e-12, "position %d", i)
	}
	gen.Reset()
	require.InDeltaSlice(t, tapeLogits(seq[:4]), gen.Feed(seq[:4]...), 1e-12)
	require.InDeltaSlice(t, tapeLogits(seq[:5]), gen.Feed(seq[4]), 1e-12)
	// Full (5 tokens): Keep = 2 keeps seq[3:5], then appends seq[5].
	require.Equal(t, 2, gen.Keep)
	require.InDeltaSlice(t, tapeLogits(seq[3:6]), gen.Feed(seq[5]), 1e-12)
	require.Equal(t, 3, gen.Len())
	// nanoGPT's cropping: Keep = BlockSize−1.
	gen.Reset()
	gen.Keep = cfg.BlockSize - 1
	gen.Feed(seq[:5]...)
	require.InDeltaSlice(t, tapeLogits(seq[1:6]), gen.Feed(seq[5]), 1e-12)
	require.InDeltaSlice(t, tapeLogits(seq[2:7]), gen.Feed(seq[6]), 1e-12)
}

func TestGeneratorDeterministicAndNoAllocs(t *testing.T) {
	g := NewGPT[float32](rand.New(rand.NewPCG(1, 1)), GPTConfig{Layers: 1, Embd: 32, Heads: 2, BlockSize: 16})
	run := func(seed uint64) []int {
		gen := NewGenerator(g)
		return gen.Generate(nil, []int{'f', 'u', 'n', 'c', ' '}, 40, 0.8, rand.New(rand.NewPCG(seed, 0)))
	}
	a, b, c := run(1), run(1), run(2)
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
	gen := NewGenerator(g)
	rng := rand.New(rand.NewPCG(3, 0))
	dst := make([]int, 0, 64)
	gen.Generate(dst, []int{'a'}, 40, 1, rng)
	require.Zero(t, testing.AllocsPerRun(5, func() {
		dst = gen.Generate(dst[:0], nil, 40, 1, rng)
	}))
	require.Empty(t, NewGenerator(g).Generate(nil, []int{'a'}, 0, 0, rng))
	require.Panics(t, func() { NewGenerator(g).Generate(nil, nil, 1, 0, rng) })
	require.Panics(t, func() { gen.Sample(rng, -1) })
}

// TestGPTMemorises: a tiny GPT learns a short string by heart.
func TestGPTMemorises(t *testing.T) {
	text := []byte("func main() { println(\"hello, gopher\") }\n")
	rng := rand.New(rand.NewPCG(13, 14))
	cfg := GPTConfig{BlockSize: 16, Layers: 2, Heads: 2, Embd: 32}
	g := NewGPT[float32](rng, cfg)
	decay, rest := DecaySplit(NamedParameters(g))
	opt := optim.NewAdamW(append(decay, rest...), optim.AdamConfig{LR: 3e-3, WeightDecay: 1e-9})
	const bsz = 8
	idx, tg := make([]int, bsz*cfg.BlockSize), make([]int, bsz*cfg.BlockSize)
	tp := autograd.NewTape[float32]()
	var loss float32
	for range 150 {
		for b := range bsz {
			o := rng.IntN(len(text) - cfg.BlockSize)
			for j := range cfg.BlockSize {
				idx[b*cfg.BlockSize+j], tg[b*cfg.BlockSize+j] = int(text[o+j]), int(text[o+j+1])
			}
		}
		tp.Reset()
		opt.ZeroGrad()
		l := g.Loss(tp, idx, tg, bsz, cfg.BlockSize)
		require.NoError(t, tp.Backward(l))
		opt.Step()
		loss = l.Value().Data()[0]
	}
	require.Less(t, loss, float32(0.15), "loss after 150 steps")
	// Greedy decoding from the first 16 bytes reproduces the rest.
	gen := NewGenerator(g)
	gen.Keep = cfg.BlockSize - 1
	prompt := make([]int, cfg.BlockSize)
	for i := range prompt {
		prompt[i] = int(text[i])
	}
	out := gen.Generate(nil, prompt, len(text)-cfg.BlockSize, 0, rng)
	got := make([]byte, len(out))
	for i, v := range out {
		got[i] = byte(v)
	}
	require.Equal(t, string(text[cfg.BlockSize:]), string(got))
}

// TestGPTStepNoAllocs: a training step (forward, backward, AdamW) stops
// allocating once warm.
func TestGPTStepNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cfg := GPTConfig{BlockSize: 8, Layers: 1, Heads: 2, Embd: 16}
	g := NewGPT[float32](rng, cfg)
	opt := optim.NewAdamW(Parameters[float32](g), optim.AdamConfig{})
	idx, tg := make([]int, 3*8), make([]int, 3*8)
	for i := range idx {
		idx[i], tg[i] = rng.IntN(256), rng.IntN(256)
	}
	tp := autograd.NewTape[float32]()
	step := func() {
		tp.Reset()
		opt.ZeroGrad()
		if err := tp.Backward(g.Loss(tp, idx, tg, 3, 8)); err != nil {
			panic(err)
		}
		opt.Step()
	}
	step()
	step()
	require.Zero(t, testing.AllocsPerRun(5, step))
	require.Zero(t, testing.AllocsPerRun(2, func() { runtime.GC(); step() }), "after a GC")
}

func TestGPTPanics(t *testing.T) {
	g := NewGPT[float32](rand.New(rand.NewPCG(1, 2)), tinyConfig())
	tp := autograd.NewTape[float32]()
	require.Panics(t, func() { g.Logits(tp, []int{1, 2}, 1, 3) })
	require.Panics(t, func() { g.Logits(tp, make([]int, 6), 1, 6) }) // beyond the context
	require.Panics(t, func() { g.Logits(tp, []int{7}, 1, 1) })
	require.Panics(t, func() { NewGPT[float32](rand.New(rand.NewPCG(1, 2)), GPTConfig{Embd: 10, Heads: 4}) })
	require.Error(t, GPTConfig{Layers: -1}.Validate())
	require.NoError(t, GPTConfig{}.Validate())
}

// TestGeneratorMatchesTapeFloat32: the float32 path (vector tanh in the
// GELU) agrees with the tape's float32 forward pass.
func TestGeneratorMatchesTapeFloat32(t *testing.T) {
	g := NewGPT[float32](rand.New(rand.NewPCG(5, 5)), GPTConfig{BlockSize: 16, Layers: 2, Heads: 2, Embd: 32})
	seq := []int{'p', 'a', 'c', 'k', 'a', 'g', 'e', ' ', 'm', 'a', 'i', 'n'}
	tp := autograd.NewTape[float32]()
	tp.NoGrad(true)
	want := g.Logits(tp, seq, 1, len(seq)).Value().Data()[(len(seq)-1)*256:]
	got := NewGenerator(g).Feed(seq...)
	require.InDeltaSlice(t, want, got, 1e-4)
}
