package hf

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/tensor"
)

// BertModel is Hugging Face's BertModel: word, position and token-type
// embeddings summed and normalised, then post-norm encoder layers
// (self-attention with a padding mask, erf GELU feed-forward), each
// sub-block's output added to its input and normalised. Pooler (tanh of a
// dense layer on the first token) is nil when the checkpoint has none.
// Parameter names are BertModel's state_dict names: embeddings.…,
// encoder.layer.N.…, pooler.dense.…
type BertModel[T tensor.Float] struct {
	Config     *Config
	Embeddings *BertEmbeddings[T]
	Layers     []*BertLayer[T] // encoder.layer.N
	Pooler     *nn.Linear[T]   // pooler.dense, or nil

	packs map[*nn.Linear[T]]*packedLinear[T] // PackWeights (packed.go)
	fused map[*nn.Linear[T]]*fusedLinear[T]  // the same, with the epilogues of the no-grad path
	qkv   map[*BertLayer[T]]*qkvPack[T]      // the query, key and value packed together (packed.go)
	attn  *attnFree[T]                       // no-grad attention values (attention.go)
}

// BertEmbeddings is BertEmbeddings without the position_ids buffer (the
// positions are 0, 1, …).
type BertEmbeddings[T tensor.Float] struct {
	WordEmbeddings, PositionEmbeddings, TokenTypeEmbeddings *nn.Embedding[T]
	LayerNorm                                               *nn.LayerNorm[T]
}

// BertLayer is one encoder layer.
type BertLayer[T tensor.Float] struct {
	Query, Key, Value *nn.Linear[T]    // attention.self.query, .key, .value
	AttnOut           *nn.Linear[T]    // attention.output.dense
	AttnNorm          *nn.LayerNorm[T] // attention.output.LayerNorm
	Intermediate      *nn.Linear[T]    // intermediate.dense
	Output            *nn.Linear[T]    // output.dense
	OutNorm           *nn.LayerNorm[T] // output.LayerNorm
}

// Members names the children as BertModel's state_dict does.
func (m *BertModel[T]) Members(r *nn.Members[T]) {
	r.Module("embeddings", m.Embeddings)
	nn.List(r, "encoder.layer", m.Layers)
	r.Module("pooler.dense", m.Pooler)
}

// Members names the embeddings' children.
func (e *BertEmbeddings[T]) Members(r *nn.Members[T]) {
	r.Module("word_embeddings", e.WordEmbeddings)
	r.Module("position_embeddings", e.PositionEmbeddings)
	r.Module("token_type_embeddings", e.TokenTypeEmbeddings)
	r.Module("LayerNorm", e.LayerNorm)
}

// Members names the layer's children by their paths in BertLayer.
func (l *BertLayer[T]) Members(r *nn.Members[T]) {
	r.Module("attention.self.query", l.Query)
	r.Module("attention.self.key", l.Key)
	r.Module("attention.self.value", l.Value)
	r.Module("attention.output.dense", l.AttnOut)
	r.Module("attention.output.LayerNorm", l.AttnNorm)
	r.Module("intermediate.dense", l.Intermediate)
	r.Module("output.dense", l.Output)
	r.Module("output.LayerNorm", l.OutNorm)
}

// newBert returns a BertModel of c's shape with zero parameters (filled
// by loading or by an initialiser); pooler adds the pooler.
func newBert[T tensor.Float](c *Config, pooler bool) *BertModel[T] {
	h, i := c.HiddenSize, c.IntermediateSize
	m := &BertModel[T]{Config: c, attn: &attnFree[T]{}, Embeddings: &BertEmbeddings[T]{
		WordEmbeddings:      newEmbedding[T](c.VocabSize, h),
		PositionEmbeddings:  newEmbedding[T](c.MaxPositions, h),
		TokenTypeEmbeddings: newEmbedding[T](c.TypeVocabSize, h),
		LayerNorm:           newLayerNorm[T](h, c.NormEps),
	}}
	for range c.NumHiddenLayers {
		m.Layers = append(m.Layers, &BertLayer[T]{
			Query: newLinear[T](h, h, true), Key: newLinear[T](h, h, true), Value: newLinear[T](h, h, true),
			AttnOut: newLinear[T](h, h, true), AttnNorm: newLayerNorm[T](h, c.NormEps),
			Intermediate: newLinear[T](h, i, true), Output: newLinear[T](i, h, true),
			OutNorm: newLayerNorm[T](h, c.NormEps),
		})
	}
	if pooler {
		m.Pooler = newLinear[T](h, h, true)
	}
	return m
}

// BertInput is a batch of b sequences of t tokens, row after row; the
// attention mask (1 for a token, 0 for padding) and the token types may be
// nil (all 1, all 0).
type BertInput struct {
	B, T          int
	InputIDs      []int
	AttentionMask []int
	TokenTypeIDs  []int
}

func (in *BertInput) check(c *Config) {
	n := in.B * in.T
	if in.B < 1 || in.T < 1 || in.T > c.MaxPositions || len(in.InputIDs) != n {
		panic(fmt.Sprintf("hf: BertModel.Forward: %d ids for b %d, t %d (want b·t, 1 <= t <= %d)", len(in.InputIDs), in.B, in.T, c.MaxPositions))
	}
	if (in.AttentionMask != nil && len(in.AttentionMask) != n) || (in.TokenTypeIDs != nil && len(in.TokenTypeIDs) != n) {
		panic(fmt.Sprintf("hf: BertModel.Forward: %d mask values and %d token types for %d ids", len(in.AttentionMask), len(in.TokenTypeIDs), n))
	}
	for i, id := range in.InputIDs {
		if id < 0 || id >= c.VocabSize {
			panic(fmt.Sprintf("hf: BertModel.Forward: token %d at %d outside [0, %d)", id, i, c.VocabSize))
		}
	}
	for i, id := range in.TokenTypeIDs {
		if id < 0 || id >= c.TypeVocabSize {
			panic(fmt.Sprintf("hf: BertModel.Forward: token type %d at %d outside [0, %d)", id, i, c.TypeVocabSize))
		}
	}
	for i, v := range in.AttentionMask {
		if v != 0 && v != 1 {
			panic(fmt.Sprintf("hf: BertModel.Forward: attention mask %d at %d (want 0 or 1)", v, i))
		}
	}
}

// Forward records the model on in and returns last_hidden_state as
// [B·T, HiddenSize]. It panics if in's sizes disagree or an id is out of
// range.
func (m *BertModel[T]) Forward(tp *autograd.Tape[T], in BertInput) *autograd.Var[T] {
	c := m.Config
	in.check(c)
	b, t, h, nh := in.B, in.T, c.HiddenSize, c.NumAttentionHeads
	d := c.HeadDim
	var fused *headsAttention[T]
	var pos, types []int
	if noGrad(tp) {
		// Without gradients the heads are read in place (attention.go),
		// and the id buffers come with that value from the model's free
		// list (nothing keeps them past this call).
		fused = m.attn.take()
		defer m.attn.put(fused)
		pos, types = fused.ids(b * t)
		clear(types)
	} else {
		pos = make([]int, b*t)
		if in.TokenTypeIDs == nil {
			types = make([]int, b*t)
		}
	}
	if in.TokenTypeIDs != nil {
		types = in.TokenTypeIDs
	}
	for i := range pos {
		pos[i] = i % t
	}
	e := m.Embeddings
	x := tp.Add(tp.Add(tp.Embedding(e.WordEmbeddings.Weight, in.InputIDs), tp.Embedding(e.TokenTypeEmbeddings.Weight, types)),
		tp.Embedding(e.PositionEmbeddings.Weight, pos))
	x = e.LayerNorm.Forward(tp, x)
	// get_extended_attention_mask: (1 − mask)·finfo(float32).min added to
	// the scores of padding keys.
	// Without padding the mask is all zeros and adding it changes nothing
	// (softmax of s + 0 is softmax of s), so the pass is skipped.
	var mask *autograd.Var[T]
	for i, v := range in.AttentionMask {
		if v == 0 {
			if mask == nil {
				mask = tp.Const(tensor.New[T](b, 1, 1, t))
			}
			mask.Value().Data()[i] = T(-math.MaxFloat32)
		}
	}
	heads := func(v *autograd.Var[T]) *autograd.Var[T] {
		return tp.Permute(tp.Reshape(v, b, t, nh, d), 0, 2, 1, 3)
	}
	scale := T(1 / math.Sqrt(float64(d)))
	if fused != nil {
		fused.b, fused.t, fused.nh, fused.d, fused.scale = b, t, nh, d, scale
		if mask != nil {
			fused.mask = mask.Value().Data()
		}
	}
	for _, l := range m.Layers {
		if fused != nil {
			var a *autograd.Var[T]
			if qkv := m.qkvNoGrad(tp, l, x); qkv != nil {
				a = tp.Apply(fused, qkv)
			} else {
				a = tp.Apply(fused, m.linearNoGrad(tp, l.Query, x, nil, false), m.linearNoGrad(tp, l.Key, x, nil, false),
					m.linearNoGrad(tp, l.Value, x, nil, false))
			}
			x = l.AttnNorm.Forward(tp, m.linearNoGrad(tp, l.AttnOut, a, x, false))
			f := m.linearNoGrad(tp, l.Intermediate, x, nil, true)
			x = l.OutNorm.Forward(tp, m.linearNoGrad(tp, l.Output, f, x, false))
			continue
		}
		q, k, v := heads(m.linear(tp, l.Query, x)), heads(m.linear(tp, l.Key, x)), heads(m.linear(tp, l.Value, x))
		s := tp.Scale(tp.BatchedMatMul(q, k, gemm.NoTrans, gemm.Trans), scale)
		if mask != nil {
			s = tp.Add(s, mask)
		}
		a := tp.BatchedMatMul(tp.Softmax(s, 3), v, gemm.NoTrans, gemm.NoTrans) // [b, nh, t, d]
		a = tp.Reshape(tp.Permute(a, 0, 2, 1, 3), b*t, h)
		x = l.AttnNorm.Forward(tp, tp.Add(m.linear(tp, l.AttnOut, a), x))
		f := geluErf(tp, m.linear(tp, l.Intermediate, x))
		x = l.OutNorm.Forward(tp, tp.Add(m.linear(tp, l.Output, f), x))
	}
	return x
}

// Pool is sentence-transformers' pooling of hidden states ([B·T, H], as
// Forward returns) into one vector per sequence: "mean" averages the
// tokens the mask keeps (all when mask is nil), "cls" takes the first.
// With normalize each vector is divided by its Euclidean norm (Normalize's
// F.normalize, norm clamped at 1e-12). dst is [B, H], returned; a nil dst
// is allocated. It panics if the sizes disagree or mode is unknown.
func Pool[T tensor.Float](dst *tensor.Dense[T], hidden *tensor.Dense[T], mask []int, b, t int, mode string, normalize bool) *tensor.Dense[T] {
	hs := hidden.Contiguous()
	sh := hs.Shape()
	if len(sh) != 2 || sh[0] != b*t || (mask != nil && len(mask) != b*t) {
		panic(fmt.Sprintf("hf: Pool: hidden shape %v, %d mask values for b %d, t %d", sh, len(mask), b, t))
	}
	h := sh[1]
	if dst == nil {
		dst = tensor.New[T](b, h)
	}
	if ds := dst.Shape(); len(ds) != 2 || ds[0] != b || ds[1] != h || !dst.IsContiguous() {
		panic(fmt.Sprintf("hf: Pool: dst shape %v (want contiguous [%d %d])", ds, b, h))
	}
	x, out := hs.Data(), dst.Data()
	var buf [1024]float64 // widths up to 1024 (MiniLM's 384, BERT-large's 1024) allocate nothing
	acc := buf[:0]
	if h <= len(buf) {
		acc = buf[:h]
	} else {
		acc = make([]float64, h)
	}
	for i := range b {
		clear(acc)
		switch mode {
		case "mean":
			var n float64
			for j := range t {
				if mask != nil && mask[i*t+j] == 0 {
					continue
				}
				n++
				for k, v := range x[(i*t+j)*h : (i*t+j+1)*h] {
					acc[k] += float64(v)
				}
			}
			n = max(n, 1e-9) // as sentence-transformers' clamp
			for k := range acc {
				acc[k] /= n
			}
		case "cls":
			for k, v := range x[i*t*h : i*t*h+h] {
				acc[k] = float64(v)
			}
		default:
			panic(fmt.Sprintf("hf: Pool: mode %q (want mean or cls)", mode))
		}
		scale := 1.0
		if normalize {
			var ss float64
			for _, v := range acc {
				ss += v * v
			}
			scale = 1 / max(math.Sqrt(ss), 1e-12)
		}
		for k, v := range acc {
			out[i*h+k] = T(v * scale)
		}
	}
	return dst
}
