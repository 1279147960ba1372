package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/tensor"
)

// GPTConfig describes a GPT. The zero value of a field means its default:
// the configuration nanoGPT documents for its character-level example on a
// CPU, with a byte vocabulary.
type GPTConfig struct {
	VocabSize int  // tokens; default 256 (bytes)
	BlockSize int  // context length; default 64
	Layers    int  // transformer blocks; default 4
	Heads     int  // attention heads; default 4
	Embd      int  // width; default 128
	Hidden    int  // MLP width; default 4·Embd
	NoBias    bool // Linear layers and LayerNorms without bias (nanoGPT's bias=False)
}

// WithDefaults returns c with every zero field set to its default.
func (c GPTConfig) WithDefaults() GPTConfig {
	def := func(x *int, d int) {
		if *x == 0 {
			*x = d
		}
	}
	def(&c.VocabSize, 256)
	def(&c.BlockSize, 64)
	def(&c.Layers, 4)
	def(&c.Heads, 4)
	def(&c.Embd, 128)
	def(&c.Hidden, 4*c.Embd)
	return c
}

// Validate reports a setting that cannot make a model (after defaults).
func (c GPTConfig) Validate() error {
	c = c.WithDefaults()
	for _, f := range []struct {
		name string
		v    int
	}{{"VocabSize", c.VocabSize}, {"BlockSize", c.BlockSize}, {"Layers", c.Layers}, {"Heads", c.Heads}, {"Embd", c.Embd}, {"Hidden", c.Hidden}} {
		if f.v < 1 {
			return fmt.Errorf("%w: GPTConfig: %s %d < 1", ErrArg, f.name, f.v)
		}
	}
	if c.Embd%c.Heads != 0 {
		return fmt.Errorf("%w: GPTConfig: Heads %d does not divide Embd %d", ErrArg, c.Heads, c.Embd)
	}
	return nil
}

// Block is a pre-norm transformer block, as GPT-2's:
//
//	x = x + attn(ln_1(x))
//	x = x + c_proj(gelu(c_fc(ln_2(x))))
//
// with the tanh approximation of GELU (GPT-2's; nanoGPT's nn.GELU() is the
// exact erf form, which differs by under 1e-3).
type Block[T tensor.Float] struct {
	LN1, LN2 *LayerNorm[T]
	Attn     *CausalSelfAttention[T]
	FC, Proj *Linear[T] // mlp.c_fc, mlp.c_proj
}

// Forward records the block on x ([B, T, Embd]) and returns the same
// shape. It panics (wrapping ErrArg) if x has another shape.
func (bl *Block[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	s := x.Shape()
	if len(s) != 3 || s[2] != bl.Attn.Embd {
		panic(fmt.Errorf("%w: Block.Forward: x shape %v (want [B, T, %d])", ErrArg, s, bl.Attn.Embd))
	}
	return tp.Reshape(bl.forward(tp, tp.Reshape(x, s[0]*s[1], s[2]), s[0], s[1], nil), s...)
}

// forward is the block on the rows of x ([b·t, Embd], sequence after
// sequence). Training, tape inference and the Generator all run it: with
// kv nil attention is autograd's CausalAttention over the b sequences;
// the Generator passes its KV cache (b = 1, t new tokens after those
// cached).
func (bl *Block[T]) forward(tp *autograd.Tape[T], x *autograd.Var[T], b, t int, kv *kvCache[T]) *autograd.Var[T] {
	h := bl.LN1.Forward(tp, x)
	if kv == nil {
		h = bl.Attn.forward(tp, h, b, t)
	} else {
		h = bl.Attn.forwardCached(tp, h, kv)
	}
	x = tp.Add(x, h)
	h = bl.Proj.Forward(tp, tp.Gelu(bl.FC.Forward(tp, bl.LN2.Forward(tp, x))))
	return tp.Add(x, h)
}

// Members names ln_1, attn, ln_2 and mlp (c_fc, c_proj), as nanoGPT does.
func (bl *Block[T]) Members(m *Members[T]) {
	m.Module("ln_1", bl.LN1)
	m.Module("attn", bl.Attn)
	m.Module("ln_2", bl.LN2)
	m.Module("mlp", blockMLP[T]{bl})
}

// blockMLP names the block's feed-forward layers as nanoGPT's MLP module.
type blockMLP[T tensor.Float] struct{ bl *Block[T] }

func (b blockMLP[T]) Members(m *Members[T]) {
	m.Module("c_fc", b.bl.FC)
	m.Module("c_proj", b.bl.Proj)
}

// GPT is a decoder-only transformer (GPT-2's architecture, as nanoGPT
// builds it): token embedding wte and position embedding wpe, the blocks
// h.0 … h.(Layers−1), a final LayerNorm ln_f, and logits from the head
// lm_head, whose weight is wte's (weight tying: the head computes h·wteᵀ,
// so wte receives the adjoints of both its uses). No dropout.
//
// Names and shapes are nanoGPT's state_dict's (transformer.wte.weight,
// transformer.h.0.attn.c_attn.weight [3·Embd, Embd], …, lm_head.weight).
// The tied lm_head.weight is wte's Var: StateDict lists it under both
// names, as PyTorch's state_dict does, NamedParameters once.
type GPT[T tensor.Float] struct {
	Config GPTConfig // with defaults applied
	WTE    *Embedding[T]
	WPE    *Embedding[T]
	H      []*Block[T]
	LNF    *LayerNorm[T]
}

// NewGPT returns a GPT initialised as nanoGPT does: every Linear and
// embedding weight from N(0, 0.02²), the residual projections (attn.c_proj,
// mlp.c_proj) from N(0, (0.02/√(2·Layers))²), biases 0, LayerNorm weights 1.
// It panics (wrapping ErrArg) if cfg does not validate or rng is nil.
func NewGPT[T tensor.Float](rng *rand.Rand, cfg GPTConfig) *GPT[T] {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Errorf("NewGPT: %w", err))
	}
	if rng == nil {
		panic(fmt.Errorf("%w: NewGPT: nil rng", ErrArg))
	}
	c := cfg.WithDefaults()
	const std = 0.02
	projStd := std / math.Sqrt(2*float64(c.Layers))
	bias := !c.NoBias
	g := &GPT[T]{Config: c}
	g.WTE = NewEmbedding[T](rng, c.VocabSize, c.Embd, std)
	g.WPE = NewEmbedding[T](rng, c.BlockSize, c.Embd, std)
	for range c.Layers {
		g.H = append(g.H, &Block[T]{
			LN1:  NewLayerNorm[T](c.Embd, bias),
			Attn: NewCausalSelfAttention[T](rng, c.Embd, c.Heads, bias, std, projStd),
			LN2:  NewLayerNorm[T](c.Embd, bias),
			FC:   newNormalLinear[T](rng, c.Embd, c.Hidden, std, bias),
			Proj: newNormalLinear[T](rng, c.Hidden, c.Embd, projStd, bias),
		})
	}
	g.LNF = NewLayerNorm[T](c.Embd, bias)
	return g
}

// Logits records the model on b sequences of t tokens (idx, b·t of them,
// sequence after sequence) and returns the logits [b·t, VocabSize]. It
// panics (wrapping ErrArg) if len(idx) != b·t, t is not in [1, BlockSize]
// or a token is out of range.
func (g *GPT[T]) Logits(tp *autograd.Tape[T], idx []int, b, t int) *autograd.Var[T] {
	c := g.Config
	// b·t through MulSizes: a wrapped product (1<<62 · 4 is 0) could
	// equal len(idx) and build 2^64 positions.
	if bt, ok := tensor.MulSizes(b, t); b < 1 || t < 1 || t > c.BlockSize || !ok || len(idx) != bt {
		panic(fmt.Errorf("%w: GPT.Logits: %d tokens for b %d, t %d (want b·t tokens, 1 <= t <= %d)", ErrArg, len(idx), b, t, c.BlockSize))
	}
	for i, v := range idx {
		if v < 0 || v >= c.VocabSize {
			panic(fmt.Errorf("%w: GPT.Logits: token %d at %d out of range [0, %d)", ErrArg, v, i, c.VocabSize))
		}
	}
	buf := ints.Get()
	defer ints.Put(buf)
	pos := (*buf)[:0]
	for range b {
		for j := range t {
			pos = append(pos, j)
		}
	}
	*buf = pos
	x := tp.Add(g.WTE.Lookup(tp, idx), g.WPE.Lookup(tp, pos)) // [b·t, Embd]
	for _, bl := range g.H {
		x = bl.forward(tp, x, b, t, nil)
	}
	h := g.LNF.Forward(tp, x)
	return tp.MatMulT(h, g.WTE.Weight, gemm.NoTrans, gemm.Trans) // lm_head, tied to wte
}

// Loss records the mean cross-entropy (nats per token) of predicting
// targets[i] from the tokens up to idx[i], over b sequences of t tokens.
// It panics as Logits does, or if len(targets) != len(idx).
func (g *GPT[T]) Loss(tp *autograd.Tape[T], idx, targets []int, b, t int) *autograd.Var[T] {
	if len(targets) != len(idx) {
		panic(fmt.Errorf("%w: GPT.Loss: %d targets for %d tokens", ErrArg, len(targets), len(idx)))
	}
	return tp.CrossEntropy(g.Logits(tp, idx, b, t), targets)
}

// Forward is Logits for token indices held as the values of x, of shape
// [B, T] (as PyTorch passes a LongTensor). It panics (wrapping ErrArg) if x
// is not [B, T] or an element is not a token index.
func (g *GPT[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	s := x.Shape()
	if len(s) != 2 {
		panic(fmt.Errorf("%w: GPT.Forward: x shape %v (want [B, T])", ErrArg, s))
	}
	buf := ints.Get()
	defer ints.Put(buf)
	idx := (*buf)[:0]
	for i, v := range x.Value().Contiguous().Data() {
		r := int(v)
		if T(r) != v {
			panic(fmt.Errorf("%w: GPT.Forward: element %d of x is %v, not a token index", ErrArg, i, v))
		}
		idx = append(idx, r)
	}
	*buf = idx
	return g.Logits(tp, idx, s[0], s[1])
}

// Members names "transformer" (wte, wpe, h.0 … h.(Layers−1), ln_f) and
// "lm_head" as nanoGPT does: the state_dict names transformer.wte.weight,
// transformer.h.0.attn.c_attn.weight, …, transformer.ln_f.weight,
// lm_head.weight.
func (g *GPT[T]) Members(m *Members[T]) {
	m.Module("transformer", gptBody[T]{g})
	m.Module("lm_head", gptHead[T]{g})
}

// gptHead names the tied head's weight, wte's.
type gptHead[T tensor.Float] struct{ g *GPT[T] }

func (h gptHead[T]) Members(m *Members[T]) { m.Param("weight", h.g.WTE.Weight) }

type gptBody[T tensor.Float] struct{ g *GPT[T] }

func (b gptBody[T]) Members(m *Members[T]) {
	m.Module("wte", b.g.WTE)
	m.Module("wpe", b.g.WPE)
	List(m, "h", b.g.H)
	m.Module("ln_f", b.g.LNF)
}

// DecaySplit splits parameters as nanoGPT's configure_optimizers does for
// AdamW: those of two or more dimensions (matrices and embeddings) take
// weight decay, the rest (biases, LayerNorm weights) do not.
func DecaySplit[T tensor.Float](ps []Param[T]) (decay, noDecay []*autograd.Var[T]) {
	for _, p := range ps {
		if len(p.Var.Shape()) >= 2 {
			decay = append(decay, p.Var)
		} else {
			noDecay = append(noDecay, p.Var)
		}
	}
	return decay, noDecay
}

var (
	_ Layer[float32] = (*GPT[float32])(nil)
	_ Layer[float32] = (*Block[float32])(nil)
	_ Layer[float32] = (*CausalSelfAttention[float32])(nil)
	_ Layer[float32] = (*Embedding[float32])(nil)
	_ Layer[float32] = (*LayerNorm[float32])(nil)
)
