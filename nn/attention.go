package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// CausalSelfAttention is multi-head self-attention in which position t sees
// only positions ≤ t, as in GPT-2 and nanoGPT's CausalSelfAttention: one
// fused Linear (c_attn, weight [3·Embd, Embd]) makes the queries, keys and
// values of every head, and c_proj ([Embd, Embd]) mixes the heads' outputs. For a
// head with queries Q, keys K and values V (each [T, Embd/Heads]):
//
//	O = causal-softmax(Q·Kᵀ / √(Embd/Heads))·V
//
// computed by one fused op, autograd.CausalAttention: both products are
// strided batched GEMMs over the heads with transpose flags, reading the
// heads in place, around a fused scaled, masked softmax.
//
// The Linear weights are [out, in], as PyTorch's (and nanoGPT's) are.
type CausalSelfAttention[T tensor.Float] struct {
	Embd, Heads int
	Attn, Proj  *Linear[T] // c_attn, c_proj
}

// NewCausalSelfAttention returns attention over embd-wide inputs split into
// heads heads, the weights drawn from N(0, std²) and N(0, projStd²) (nanoGPT:
// 0.02 and 0.02/√(2·layers)), the biases 0 (nil with bias false). It panics
// (wrapping ErrArg) unless embd and heads are >= 1 and heads divides embd,
// or if rng is nil.
func NewCausalSelfAttention[T tensor.Float](rng *rand.Rand, embd, heads int, bias bool, std, projStd float64) *CausalSelfAttention[T] {
	if embd < 1 || heads < 1 || embd%heads != 0 {
		panic(fmt.Errorf("%w: NewCausalSelfAttention: embd %d, heads %d (heads must divide embd)", ErrArg, embd, heads))
	}
	return &CausalSelfAttention[T]{
		Embd: embd, Heads: heads,
		Attn: newNormalLinear[T](rng, embd, 3*embd, std, bias),
		Proj: newNormalLinear[T](rng, embd, embd, projStd, bias),
	}
}

// newNormalLinear is a Linear with weights from N(0, std²) and a zero bias
// (none without bias), as GPT-2 initialises its layers.
func newNormalLinear[T tensor.Float](rng *rand.Rand, in, out int, std float64, bias bool) *Linear[T] {
	if rng == nil {
		panic(fmt.Errorf("%w: nil rng", ErrArg))
	}
	w := drawTransposed(in, out, func(w *tensor.Dense[T]) { fillNormal(rng, w.Data(), std) })
	l := &Linear[T]{In: in, Out: out, Weight: autograd.NewVar(w, true)}
	if bias {
		l.Bias = autograd.NewVar(tensor.New[T](out), true)
	}
	return l
}

// Forward records attention over x of shape [B, T, Embd] and returns
// [B, T, Embd]. It panics (wrapping ErrArg) if x has another shape.
func (a *CausalSelfAttention[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	s := x.Shape()
	if len(s) != 3 || s[2] != a.Embd {
		panic(fmt.Errorf("%w: CausalSelfAttention.Forward: x shape %v (want [B, T, %d])", ErrArg, s, a.Embd))
	}
	return tp.Reshape(a.forward(tp, tp.Reshape(x, s[0]*s[1], s[2]), s[0], s[1]), s...)
}

// forward is attention over the rows of x ([b·t, Embd], sequence after
// sequence): c_attn, the fused heads (autograd.CausalAttention reads them
// in place, no permuted copies), c_proj.
func (a *CausalSelfAttention[T]) forward(tp *autograd.Tape[T], x *autograd.Var[T], b, t int) *autograd.Var[T] {
	qkv := a.Attn.Forward(tp, x) // [B·T, 3C]
	y := tp.CausalAttention(qkv, b, t, a.Heads)
	return a.Proj.Forward(tp, y)
}

// forwardCached is forward for the Generator (no gradient recorded): the
// keys and values of x's rows join kv's cache and each query attends to
// every cached position up to its own.
func (a *CausalSelfAttention[T]) forwardCached(tp *autograd.Tape[T], x *autograd.Var[T], kv *kvCache[T]) *autograd.Var[T] {
	qkv := a.Attn.Forward(tp, x)
	return a.Proj.Forward(tp, tp.Const(kv.attend(qkv.Value(), a.Heads)))
}

// Members names c_attn and c_proj, as nanoGPT does.
func (a *CausalSelfAttention[T]) Members(m *Members[T]) {
	m.Module("c_attn", a.Attn)
	m.Module("c_proj", a.Proj)
}
