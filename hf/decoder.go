package hf

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/tensor"
)

// CausalLM is a decoder-only language model: GPT2LMHeadModel or
// LlamaForCausalLM (Llama, Mistral, Qwen2).
type CausalLM[T tensor.Float] interface {
	// Logits records the model on b sequences of t tokens (ids, sequence
	// after sequence) and returns the next-token logits [b·t, VocabSize].
	Logits(tp *autograd.Tape[T], ids []int, b, t int) *autograd.Var[T]
	// Cfg returns the model's configuration.
	Cfg() *Config
	nn.Module[T] // parameters under Hugging Face's names
}

func checkIDs(op string, c *Config, ids []int, b, t int) {
	if b < 1 || t < 1 || t > c.MaxPositions || len(ids) != b*t {
		panic(fmt.Sprintf("hf: %s: %d ids for b %d, t %d (want b·t, 1 <= t <= %d)", op, len(ids), b, t, c.MaxPositions))
	}
	for i, id := range ids {
		if id < 0 || id >= c.VocabSize {
			panic(fmt.Sprintf("hf: %s: token %d at %d outside [0, %d)", op, id, i, c.VocabSize))
		}
	}
}

// GPT2LMHeadModel is Hugging Face's GPT2LMHeadModel: token and position
// embeddings, pre-norm blocks (fused c_attn, causal attention, c_proj; a
// gelu_new MLP), ln_f, and the head tied to wte. Its Conv1D weights are
// [in, out]. Names: transformer.wte.weight, transformer.h.N.attn.c_attn.…
type GPT2LMHeadModel[T tensor.Float] struct {
	Config   *Config
	WTE, WPE *nn.Embedding[T]
	H        []*GPT2Block[T]
	LNF      *nn.LayerNorm[T]
}

// GPT2Block is one transformer.h.N.
type GPT2Block[T tensor.Float] struct {
	LN1, LN2        *nn.LayerNorm[T]
	CAttn, CProj    *Conv1D[T] // attn.c_attn, attn.c_proj
	MLPFC, MLPCProj *Conv1D[T] // mlp.c_fc, mlp.c_proj
}

// Cfg returns the configuration.
func (m *GPT2LMHeadModel[T]) Cfg() *Config { return m.Config }

// Members names the children as GPT2LMHeadModel's state_dict does.
func (m *GPT2LMHeadModel[T]) Members(r *nn.Members[T]) {
	r.Module("transformer.wte", m.WTE)
	r.Module("transformer.wpe", m.WPE)
	nn.List(r, "transformer.h", m.H)
	r.Module("transformer.ln_f", m.LNF)
}

// Members names the block's children.
func (b *GPT2Block[T]) Members(r *nn.Members[T]) {
	r.Module("ln_1", b.LN1)
	r.Module("attn.c_attn", b.CAttn)
	r.Module("attn.c_proj", b.CProj)
	r.Module("ln_2", b.LN2)
	r.Module("mlp.c_fc", b.MLPFC)
	r.Module("mlp.c_proj", b.MLPCProj)
}

func newConv1D[T tensor.Float](in, out int) *Conv1D[T] {
	return &Conv1D[T]{Weight: param[T](in, out), Bias: param[T](out)}
}

func newGPT2[T tensor.Float](c *Config) *GPT2LMHeadModel[T] {
	e := c.HiddenSize
	m := &GPT2LMHeadModel[T]{Config: c,
		WTE: newEmbedding[T](c.VocabSize, e),
		WPE: newEmbedding[T](c.MaxPositions, e),
		LNF: newLayerNorm[T](e, c.NormEps),
	}
	for range c.NumHiddenLayers {
		m.H = append(m.H, &GPT2Block[T]{
			LN1: newLayerNorm[T](e, c.NormEps), LN2: newLayerNorm[T](e, c.NormEps),
			CAttn: newConv1D[T](e, 3*e), CProj: newConv1D[T](e, e),
			MLPFC: newConv1D[T](e, c.IntermediateSize), MLPCProj: newConv1D[T](c.IntermediateSize, e),
		})
	}
	return m
}

// Logits records the model; see CausalLM.
func (m *GPT2LMHeadModel[T]) Logits(tp *autograd.Tape[T], ids []int, b, t int) *autograd.Var[T] {
	c := m.Config
	checkIDs("GPT2LMHeadModel.Logits", c, ids, b, t)
	pos := make([]int, b*t)
	for i := range pos {
		pos[i] = i % t
	}
	x := tp.Add(tp.Embedding(m.WTE.Weight, ids), tp.Embedding(m.WPE.Weight, pos))
	for _, bl := range m.H {
		a := tp.CausalAttention(bl.CAttn.Forward(tp, bl.LN1.Forward(tp, x)), b, t, c.NumAttentionHeads)
		x = tp.Add(x, bl.CProj.Forward(tp, a))
		h := bl.MLPFC.Forward(tp, bl.LN2.Forward(tp, x))
		x = tp.Add(x, bl.MLPCProj.Forward(tp, tp.Gelu(h))) // Gelu is gelu_new's tanh form
	}
	return tp.MatMulT(m.LNF.Forward(tp, x), m.WTE.Weight, gemm.NoTrans, gemm.Trans)
}

// LlamaForCausalLM is Hugging Face's LlamaForCausalLM, also Mistral's
// and Qwen2's (which differ in config only): token embeddings, pre-norm
// decoder layers (RMSNorm; q, k, v projections with rotary positions and
// grouped-query attention; o_proj; a SwiGLU MLP), a final RMSNorm and the
// head, lm_head or tied to embed_tokens. Names: model.embed_tokens.weight,
// model.layers.N.self_attn.q_proj.weight, …, model.norm.weight,
// lm_head.weight.
type LlamaForCausalLM[T tensor.Float] struct {
	Config      *Config
	EmbedTokens *nn.Embedding[T]
	Layers      []*LlamaDecoderLayer[T]
	Norm        *RMSNorm[T]
	LMHead      *nn.Linear[T] // nil when tied to EmbedTokens

	rope *rope
}

// LlamaDecoderLayer is one model.layers.N.
type LlamaDecoderLayer[T tensor.Float] struct {
	InputLayernorm, PostAttentionLayernorm *RMSNorm[T]
	QProj, KProj, VProj, OProj             *nn.Linear[T] // self_attn.*
	GateProj, UpProj, DownProj             *nn.Linear[T] // mlp.*
}

// Cfg returns the configuration.
func (m *LlamaForCausalLM[T]) Cfg() *Config { return m.Config }

// Members names the children as LlamaForCausalLM's state_dict does.
func (m *LlamaForCausalLM[T]) Members(r *nn.Members[T]) {
	r.Module("model.embed_tokens", m.EmbedTokens)
	nn.List(r, "model.layers", m.Layers)
	r.Module("model.norm", m.Norm)
	r.Module("lm_head", m.LMHead)
}

// Members names the layer's children.
func (l *LlamaDecoderLayer[T]) Members(r *nn.Members[T]) {
	r.Module("input_layernorm", l.InputLayernorm)
	r.Module("self_attn.q_proj", l.QProj)
	r.Module("self_attn.k_proj", l.KProj)
	r.Module("self_attn.v_proj", l.VProj)
	r.Module("self_attn.o_proj", l.OProj)
	r.Module("post_attention_layernorm", l.PostAttentionLayernorm)
	r.Module("mlp.gate_proj", l.GateProj)
	r.Module("mlp.up_proj", l.UpProj)
	r.Module("mlp.down_proj", l.DownProj)
}

func newLlama[T tensor.Float](c *Config) *LlamaForCausalLM[T] {
	e, d, i := c.HiddenSize, c.HeadDim, c.IntermediateSize
	nh, nkv := c.NumAttentionHeads, c.NumKeyValueHeads
	rms := func() *RMSNorm[T] {
		return &RMSNorm[T]{Weight: autograd.NewVar(tensor.Ones[T](e), true), Eps: c.NormEps}
	}
	m := &LlamaForCausalLM[T]{Config: c, EmbedTokens: newEmbedding[T](c.VocabSize, e), Norm: rms(), rope: newRope(c)}
	qkvBias := c.AttentionBias || c.QKVBias
	for range c.NumHiddenLayers {
		m.Layers = append(m.Layers, &LlamaDecoderLayer[T]{
			InputLayernorm: rms(), PostAttentionLayernorm: rms(),
			QProj: newLinear[T](e, nh*d, qkvBias), KProj: newLinear[T](e, nkv*d, qkvBias),
			VProj: newLinear[T](e, nkv*d, qkvBias), OProj: newLinear[T](nh*d, e, c.AttentionBias),
			GateProj: newLinear[T](e, i, c.MLPBias), UpProj: newLinear[T](e, i, c.MLPBias), DownProj: newLinear[T](i, e, c.MLPBias),
		})
	}
	if !c.TieWordEmbeddings {
		m.LMHead = newLinear[T](e, c.VocabSize, false)
	}
	return m
}

// head returns the output projection's weight [VocabSize, HiddenSize].
func (m *LlamaForCausalLM[T]) head() *autograd.Var[T] {
	if m.LMHead != nil {
		return m.LMHead.Weight
	}
	return m.EmbedTokens.Weight
}

// Logits records the model; see CausalLM.
func (m *LlamaForCausalLM[T]) Logits(tp *autograd.Tape[T], ids []int, b, t int) *autograd.Var[T] {
	c := m.Config
	checkIDs("LlamaForCausalLM.Logits", c, ids, b, t)
	nh, nkv, d := c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim
	g := nh / nkv
	cos, sin := tensor.New[T](b*t, 1, d), tensor.New[T](b*t, 1, d)
	for r := range b * t {
		ropeFill(m.rope, cos.Data()[r*d:(r+1)*d], sin.Data()[r*d:(r+1)*d], r%t)
	}
	cv, sv := tp.Const(cos), tp.Const(sin)
	rotary := func(x *autograd.Var[T], heads int) *autograd.Var[T] {
		x = tp.Reshape(x, b*t, heads, d)
		rot := tp.Concat(2, tp.Neg(tp.Slice(x, 2, d/2, d)), tp.Slice(x, 2, 0, d/2))
		x = tp.Add(tp.Mul(x, cv), tp.Mul(rot, sv))
		return tp.Permute(tp.Reshape(x, b, t, heads, d), 0, 2, 1, 3) // [b, heads, t, d]
	}
	x := tp.Embedding(m.EmbedTokens.Weight, ids)
	scale := 1 / math.Sqrt(float64(d))
	for _, l := range m.Layers {
		h := l.InputLayernorm.Forward(tp, x)
		q := tp.Reshape(rotary(l.QProj.Forward(tp, h), nh), b, nkv, g*t, d)
		k := rotary(l.KProj.Forward(tp, h), nkv)
		v := tp.Permute(tp.Reshape(l.VProj.Forward(tp, h), b, t, nkv, d), 0, 2, 1, 3)
		// Query head j·g+i reads key/value head j (repeat_kv), so the
		// queries of a group stack against one key head.
		s := tp.Reshape(tp.BatchedMatMul(q, k, gemm.NoTrans, gemm.Trans), b, nh, t, t)
		p := tp.Reshape(tp.CausalSoftmax(s, scale), b, nkv, g*t, t)
		a := tp.Reshape(tp.BatchedMatMul(p, v, gemm.NoTrans, gemm.NoTrans), b, nh, t, d)
		a = tp.Reshape(tp.Permute(a, 0, 2, 1, 3), b*t, nh*d)
		x = tp.Add(x, l.OProj.Forward(tp, a))
		h = l.PostAttentionLayernorm.Forward(tp, x)
		x = tp.Add(x, l.DownProj.Forward(tp, tp.Mul(silu(tp, l.GateProj.Forward(tp, h)), l.UpProj.Forward(tp, h))))
	}
	return tp.MatMulT(m.Norm.Forward(tp, x), m.head(), gemm.NoTrans, gemm.Trans)
}

// rope holds rotary embedding frequencies: cos and sin of pos·invFreq[i],
// the two halves of a head using the same frequency (rotate_half).
type rope struct {
	invFreq []float64 // d/2, float32 values as transformers computes them
	d       int
}

// newRope computes LlamaRotaryEmbedding's inv_freq in float32 arithmetic,
// as transformers does: 1/θ^(2i/d), then rope_scaling.
func newRope(c *Config) *rope {
	d := c.HeadDim
	r := &rope{invFreq: make([]float64, d/2), d: d}
	for i := range d / 2 {
		p := float32(math.Pow(c.RopeTheta, float64(float32(2*i)/float32(d))))
		inv := float64(float32(1 / float64(p)))
		if s := c.RopeScaling; s != nil {
			switch s.Type {
			case "linear":
				inv = float64(float32(inv / s.Factor))
			case "llama3":
				old := float64(s.OriginalMaxPositions)
				lowWL, highWL := old/s.LowFreqFactor, old/s.HighFreqFactor
				wl := float64(float32(2 * math.Pi / inv))
				switch {
				case wl > lowWL:
					inv = float64(float32(inv / s.Factor))
				case wl < highWL:
				default:
					smooth := float64(float32((old/wl - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)))
					inv = float64(float32((1-smooth)*float64(float32(inv/s.Factor)) + smooth*inv))
				}
			}
		}
		r.invFreq[i] = inv
	}
	return r
}

// ropeFill writes the cos and sin of position pos (d each). In float32
// the angle is rounded to float32 first, as transformers computes it.
func ropeFill[T tensor.Float](r *rope, cos, sin []T, pos int) {
	h := r.d / 2
	f32 := isF32[T]()
	for i, inv := range r.invFreq {
		a := float64(pos) * inv
		if f32 {
			a = float64(float32(a))
		}
		s, c := math.Sincos(a)
		cos[i], cos[i+h] = T(c), T(c)
		sin[i], sin[i+h] = T(s), T(s)
	}
}

func isF32[T tensor.Float]() bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}
