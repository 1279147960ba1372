package hf

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// chunk is the most prompt tokens one pass of Feed pushes through the
// model (longer prompts go in several passes); it sizes the scratch.
const chunk = 64

// kvCache is one sequence's context: every layer's keys and values, and
// the tokens seen (for the repetition penalty). The key and value buffers
// grow (doubling, up to the capacity) as the context does, so a model
// with a long context window costs memory for the tokens used only.
type kvCache[T tensor.Float] struct {
	k, v     [][]T // per layer: [tokens, nkv·d]
	kw       int   // nkv·d
	max      int   // capacity in tokens
	n        int   // tokens held
	seen     []bool
	seenList []int
}

// kvInitial is the number of tokens a new cache has room for (a variable
// so that tests can make the caches grow).
var kvInitial = 256

func newKVCache[T tensor.Float](c *Config, max int) *kvCache[T] {
	kv := &kvCache[T]{seen: make([]bool, c.VocabSize), kw: c.NumKeyValueHeads * c.HeadDim, max: max}
	kv.k, kv.v = make([][]T, c.NumHiddenLayers), make([][]T, c.NumHiddenLayers)
	kv.reserve(min(max, kvInitial))
	return kv
}

// reserve makes room for n tokens (n <= max).
func (kv *kvCache[T]) reserve(n int) {
	if len(kv.k) == 0 || len(kv.k[0]) >= n*kv.kw {
		return
	}
	size := min(kv.max, max(n, 2*len(kv.k[0])/max(kv.kw, 1)))
	for l := range kv.k {
		k, v := make([]T, size*kv.kw), make([]T, size*kv.kw)
		copy(k, kv.k[l][:kv.n*kv.kw])
		copy(v, kv.v[l][:kv.n*kv.kw])
		kv.k[l], kv.v[l] = k, v
	}
}

func (kv *kvCache[T]) reset() {
	kv.n = 0
	for _, t := range kv.seenList {
		kv.seen[t] = false
	}
	kv.seenList = kv.seenList[:0]
}

func (kv *kvCache[T]) see(tokens []int) {
	for _, t := range tokens {
		if !kv.seen[t] {
			kv.seen[t] = true
			kv.seenList = append(kv.seenList, t)
		}
	}
}

// engine runs a CausalLM forward without a tape over rows, each a token of
// some sequence at some position, reading and extending that sequence's
// KV cache: consecutive positions of one sequence (a prompt), or one token
// of each of several sequences (batched decoding), go through each matrix
// as one product.
type engine[T tensor.Float] struct {
	c     *Config
	gpt   *GPT2LMHeadModel[T]
	llama *LlamaForCausalLM[T]
	max   int // context capacity of each sequence
	rows  int // most rows per pass

	rowKV  []*kvCache[T] // per row: its sequence's cache
	rowPos []int         // per row: its position
	x, h   []T           // residual stream and normalised rows, [rows, e]
	q      []T           // [rows, nh·d] (GPT-2: [rows, 3e], q, k, v side by side)
	k, v   []T           // [rows, nkv·d]
	y      []T           // attention output, [rows, nh·d]
	f1, f2 []T           // MLP, [rows, IntermediateSize]
	att    []T           // one query's scores, [keys]
	cos    []T           // rotary tables of each row's position, [rows, d]
	sin    []T
	rot    []T // rotate_half scratch, [d]

	probs []float64 // sampling scratch, [VocabSize]
	idx   []int

	mvj mvJob[T]
}

func newEngine[T tensor.Float](op string, m CausalLM[T], maxLen, rows int) *engine[T] {
	c := m.Cfg()
	if maxLen < 0 || maxLen > c.MaxPositions {
		panic(fmt.Sprintf("hf: %s: maxLen %d outside [0, %d]", op, maxLen, c.MaxPositions))
	}
	if maxLen == 0 {
		maxLen = c.MaxPositions
	}
	g := &engine[T]{c: c, max: maxLen, rows: rows}
	switch m := m.(type) {
	case *GPT2LMHeadModel[T]:
		g.gpt = m
	case *LlamaForCausalLM[T]:
		g.llama = m
	default:
		panic(fmt.Sprintf("hf: %s: model type %T", op, m))
	}
	e, d, nh, nkv := c.HiddenSize, c.HeadDim, c.NumAttentionHeads, c.NumKeyValueHeads
	g.rowKV, g.rowPos = make([]*kvCache[T], rows), make([]int, rows)
	g.x, g.h = make([]T, rows*e), make([]T, rows*e)
	if g.gpt != nil {
		g.q = make([]T, rows*3*e)
	} else {
		g.q, g.k, g.v = make([]T, rows*nh*d), make([]T, rows*nkv*d), make([]T, rows*nkv*d)
	}
	g.y = make([]T, rows*nh*d)
	g.f1, g.f2 = make([]T, rows*c.IntermediateSize), make([]T, rows*c.IntermediateSize)
	g.att = make([]T, min(maxLen, kvInitial))
	g.cos, g.sin, g.rot = make([]T, rows*d), make([]T, rows*d), make([]T, d)
	g.probs = make([]float64, c.VocabSize)
	g.idx = make([]int, c.VocabSize)
	g.mvj.body = g.mvj.run
	return g
}

// checkTokens panics for a token outside the vocabulary.
func (g *engine[T]) checkTokens(op string, tokens []int) {
	for i, t := range tokens {
		if t < 0 || t >= g.c.VocabSize {
			panic(fmt.Sprintf("hf: %s: token %d at %d outside [0, %d)", op, t, i, g.c.VocabSize))
		}
	}
}

// prefill feeds tokens to one sequence in passes of at most rows tokens
// and writes the logits of the last into logits.
func (g *engine[T]) prefill(kv *kvCache[T], tokens []int, logits []T) {
	for len(tokens) > 0 {
		m := min(len(tokens), g.rows)
		kv.reserve(kv.n + m)
		g.reserveAtt(kv.n + m)
		for r := range m {
			g.rowKV[r], g.rowPos[r] = kv, kv.n+r
		}
		g.run(tokens[:m], 1, logits)
		kv.see(tokens[:m])
		kv.n += m
		tokens = tokens[m:]
	}
}

// reserveAtt makes room for the scores of n keys.
func (g *engine[T]) reserveAtt(n int) {
	if len(g.att) < n {
		g.att = make([]T, min(g.max, max(n, 2*len(g.att))))
	}
}

// run pushes the rows (g.rowKV, g.rowPos set for each token) through the
// model and writes the logits of the last nLogits rows into logits.
func (g *engine[T]) run(tokens []int, nLogits int, logits []T) {
	if g.gpt != nil {
		g.runGPT2(tokens, nLogits, logits)
	} else {
		g.runLlama(tokens, nLogits, logits)
	}
}

// runGPT2 is run for GPT-2.
func (g *engine[T]) runGPT2(tokens []int, nLogits int, logits []T) {
	c, md := g.c, g.gpt
	e, nh, d := c.HiddenSize, c.NumAttentionHeads, c.HeadDim
	m := len(tokens)
	wte, wpe := md.WTE.Weight.Value().Data(), md.WPE.Weight.Value().Data()
	x, h := g.x[:m*e], g.h[:m*e]
	for r, t := range tokens {
		p := g.rowPos[r]
		xr, te, pe := x[r*e:r*e+e], wte[t*e:t*e+e], wpe[p*e:p*e+e]
		for j := range xr {
			xr[j] = te[j] + pe[j]
		}
	}
	qkv, y, f := g.q[:m*3*e], g.y[:m*e], g.f1[:m*c.IntermediateSize]
	for l, bl := range md.H {
		layerNormRows(h, x, e, bl.LN1)
		g.conv1D(qkv, h, m, bl.CAttn, 0)
		for r := range m {
			kv, p := g.rowKV[r], g.rowPos[r]
			copy(kv.k[l][p*e:(p+1)*e], qkv[r*3*e+e:r*3*e+2*e])
			copy(kv.v[l][p*e:(p+1)*e], qkv[r*3*e+2*e:r*3*e+3*e])
		}
		for r := range m {
			kv := g.rowKV[r]
			g.attend(y[r*e:(r+1)*e], qkv[r*3*e:r*3*e+e], kv.k[l], kv.v[l], g.rowPos[r]+1, nh, nh, d)
		}
		g.conv1D(x, y, m, bl.CProj, 1)
		layerNormRows(h, x, e, bl.LN2)
		g.conv1D(f, h, m, bl.MLPFC, 0)
		geluTanh(f)
		g.conv1D(x, f, m, bl.MLPCProj, 1)
	}
	last := h[(m-nLogits)*e : m*e]
	layerNormRows(last, x[(m-nLogits)*e:m*e], e, md.LNF)
	g.linear(logits[:nLogits*c.VocabSize], last, nLogits, wte, e, c.VocabSize, nil, 0)
}

// runLlama is run for the Llama family.
func (g *engine[T]) runLlama(tokens []int, nLogits int, logits []T) {
	c, md := g.c, g.llama
	e, nh, nkv, d, fi := c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize
	m := len(tokens)
	emb := md.EmbedTokens.Weight.Value().Data()
	x, h := g.x[:m*e], g.h[:m*e]
	for r, t := range tokens {
		copy(x[r*e:r*e+e], emb[t*e:t*e+e])
	}
	q, k, v, y := g.q[:m*nh*d], g.k[:m*nkv*d], g.v[:m*nkv*d], g.y[:m*nh*d]
	f1, f2 := g.f1[:m*fi], g.f2[:m*fi]
	kw := nkv * d
	// Every layer rotates by the same angles: the tables once per row.
	for r := range m {
		ropeFill(md.rope, g.cos[r*d:(r+1)*d], g.sin[r*d:(r+1)*d], g.rowPos[r])
	}
	for l, ly := range md.Layers {
		rmsNormRows(h, x, e, ly.InputLayernorm)
		g.linearsL(h, m, q, ly.QProj, k, ly.KProj, v, ly.VProj)
		for r := range m {
			kv, p := g.rowKV[r], g.rowPos[r]
			cos, sin := g.cos[r*d:(r+1)*d], g.sin[r*d:(r+1)*d]
			for hh := range nh {
				g.rotate(q[r*nh*d+hh*d:r*nh*d+hh*d+d], cos, sin)
			}
			for hh := range nkv {
				g.rotate(k[r*kw+hh*d:r*kw+hh*d+d], cos, sin)
			}
			copy(kv.k[l][p*kw:(p+1)*kw], k[r*kw:(r+1)*kw])
			copy(kv.v[l][p*kw:(p+1)*kw], v[r*kw:(r+1)*kw])
		}
		for r := range m {
			kv := g.rowKV[r]
			g.attend(y[r*nh*d:(r+1)*nh*d], q[r*nh*d:(r+1)*nh*d], kv.k[l], kv.v[l], g.rowPos[r]+1, nh, nkv, d)
		}
		g.linearL(x, y, m, ly.OProj, 1)
		rmsNormRows(h, x, e, ly.PostAttentionLayernorm)
		g.linearsL(h, m, f1, ly.GateProj, f2, ly.UpProj, nil, nil)
		siluMul(f1, f2)
		g.linearL(x, f1, m, ly.DownProj, 1)
	}
	last := h[(m-nLogits)*e : m*e]
	rmsNormRows(last, x[(m-nLogits)*e:m*e], e, md.Norm)
	g.linear(logits[:nLogits*c.VocabSize], last, nLogits, md.head().Value().Data(), e, c.VocabSize, nil, 0)
}

// Generator runs a CausalLM forward without a tape, one token after
// another, keeping every layer's keys and values (a KV cache) so that a
// new token costs one row through each matrix. Nothing is allocated per
// token. A Generator reads the model's current weights at every call; it
// must not be used while they are being updated, nor by two goroutines at
// once (several Generators may share a model).
type Generator[T tensor.Float] struct {
	*engine[T]
	kv     *kvCache[T]
	logits []T // [VocabSize]
}

// NewGenerator returns a Generator for m with room for maxLen tokens (0:
// the model's MaxPositions). It panics if m is not a *GPT2LMHeadModel or
// *LlamaForCausalLM, or maxLen is outside [0, MaxPositions].
func NewGenerator[T tensor.Float](m CausalLM[T], maxLen int) *Generator[T] {
	rows := min(chunk, m.Cfg().MaxPositions)
	if maxLen > 0 {
		rows = min(rows, maxLen)
	}
	e := newEngine("NewGenerator", m, maxLen, rows)
	return &Generator[T]{engine: e, kv: newKVCache[T](e.c, e.max), logits: make([]T, e.c.VocabSize)}
}

// Reset empties the context.
func (g *Generator[T]) Reset() { g.kv.reset() }

// Len returns the number of tokens in the context.
func (g *Generator[T]) Len() int { return g.kv.n }

// Cap returns the context capacity.
func (g *Generator[T]) Cap() int { return g.max }

// Logits returns the logits for the token after the context (valid until
// the next Feed; zero before the first).
func (g *Generator[T]) Logits() []T { return g.logits }

// Feed appends tokens to the context and returns the logits for the token
// that follows (valid until the next call). It panics if a token is out of
// range or the context would exceed Cap.
func (g *Generator[T]) Feed(tokens ...int) []T {
	if g.kv.n+len(tokens) > g.max {
		panic(fmt.Sprintf("hf: Generator.Feed: %d tokens after %d exceed the capacity %d", len(tokens), g.kv.n, g.max))
	}
	g.checkTokens("Generator.Feed", tokens)
	g.prefill(g.kv, tokens, g.logits)
	return g.logits
}

// rotate applies the rotary embedding of the tables cos, sin to one head
// (x·cos + rotate_half(x)·sin).
func (g *engine[T]) rotate(x, cos, sin []T) {
	h := len(x) / 2
	r := g.rot
	for i := range h {
		r[i], r[i+h] = -x[i+h], x[i]
	}
	cos, sin = cos[:len(x)], sin[:len(x)]
	for i := range x {
		x[i] = x[i]*cos[i] + r[i]*sin[i]
	}
}

// attend writes one query's attention output y (nh heads of d) over the
// first n cached keys and values (nkv heads each; query head i reads
// key/value head i/(nh/nkv)). A head's keys are the n rows of a d-wide
// column block of the cache (row stride nkv·d), so its scores are one
// matrix-vector product, and its output another with that block
// transposed: gemm's vector kernels, as for the weights.
func (g *engine[T]) attend(y, q, kc, vc []T, n, nh, nkv, d int) {
	grp := nh / nkv
	kw := nkv * d
	scale := T(1 / math.Sqrt(float64(d)))
	att := g.att[:n]
	for hh := range nh {
		qh := q[hh*d : hh*d+d]
		ko := (hh / grp) * d
		gemm.Gemv(gemm.NoTrans, n, d, scale, kc[ko:], kw, qh, 0, att)
		mx := T(math.Inf(-1))
		for _, s := range att {
			mx = max(mx, s)
		}
		for j := range att {
			att[j] -= mx
		}
		expInPlace(att)
		var sum T
		for _, p := range att {
			sum += p
		}
		gemm.Gemv(gemm.Trans, n, d, 1/sum, vc[ko:], kw, att, 0, y[hh*d:hh*d+d])
	}
}

// linearL is dst = x·Wᵀ + b (beta 0) or dst += x·Wᵀ + b (beta 1) for a
// Linear, m rows.
func (g *engine[T]) linearL(dst, x []T, m int, l *nn.Linear[T], beta T) {
	var b []T
	if l.Bias != nil {
		b = l.Bias.Value().Data()
	}
	s := l.Weight.Shape()
	g.linear(dst, x, m, l.Weight.Value().Data(), s[1], s[0], b, beta)
}

// linearsL is linearL (beta 0) for two or three Linears of the same
// input x (d2, l2 nil for two): q, k and v, or gate and up. For one row
// their products run as one parallel loop.
func (g *engine[T]) linearsL(x []T, m int, d0 []T, l0 *nn.Linear[T], d1 []T, l1 *nn.Linear[T], d2 []T, l2 *nn.Linear[T]) {
	if m != 1 {
		g.linearL(d0, x, m, l0, 0)
		g.linearL(d1, x, m, l1, 0)
		if l2 != nil {
			g.linearL(d2, x, m, l2, 0)
		}
		return
	}
	part := func(d []T, l *nn.Linear[T]) mvPart[T] {
		return mvPart[T]{w: l.Weight.Value().Data(), y: d, rows: l.Weight.Shape()[0]}
	}
	in := l0.Weight.Shape()[1]
	if l2 == nil {
		g.mvj.do(x, in, 0, part(d0, l0), part(d1, l1))
	} else {
		g.mvj.do(x, in, 0, part(d0, l0), part(d1, l1), part(d2, l2))
	}
	for _, p := range [...]struct {
		d []T
		l *nn.Linear[T]
	}{{d0, l0}, {d1, l1}, {d2, l2}} {
		if p.l != nil && p.l.Bias != nil {
			addBias(p.d, p.l.Bias.Value().Data(), 1, len(p.l.Bias.Value().Data()))
		}
	}
}

// mvPart is one matrix of a fused matrix-vector product: y[:rows] = W·x
// (+ beta·y), W [rows, in].
type mvPart[T tensor.Float] struct {
	w, y []T
	rows int
}

// mvJob runs the products of one row x with up to three matrices (the
// rows of all of them one index space) as one parallel loop of tasks of
// about mvTask weights each, which the threads claim as they come free:
// one synchronisation instead of one per matrix, and a thread that the
// machine delays (other processes) holds up only the tasks it took, where
// gemm's equal split would make the other wait. Every row is one gemv row
// whatever the split, so the result does not depend on the thread count.
type mvJob[T tensor.Float] struct {
	parts   [3]mvPart[T]
	np      int
	x       []T
	in      int
	beta    T
	perTask int // rows per task
	total   int // rows of all parts
	body    func(i int)
}

// mvTask is the weights one task of mvJob reads: 128 KB in float32, a
// product too small for gemm to split further (a variable so that tests
// can split tiny models).
var mvTask = 1 << 15

func (j *mvJob[T]) do(x []T, in int, beta T, ps ...mvPart[T]) {
	j.np = copy(j.parts[:], ps)
	j.x, j.in, j.beta, j.total = x, in, beta, 0
	for _, p := range j.parts[:j.np] {
		j.total += p.rows
	}
	j.perTask = max(4, (mvTask/max(in, 1)+3)&^3)
	tasks := (j.total + j.perTask - 1) / j.perTask
	if parallel.Threads() == 1 || tasks < 2 {
		for _, p := range j.parts[:j.np] {
			mv(gemm.NoTrans, p.rows, in, p.w, x, beta, p.y[:p.rows])
		}
	} else {
		parallel.Do(tasks, j.body)
	}
	j.x = nil
	clear(j.parts[:])
}

// run computes task i: rows [i·perTask, (i+1)·perTask) of the parts
// stacked.
func (j *mvJob[T]) run(i int) {
	lo, hi := i*j.perTask, min((i+1)*j.perTask, j.total)
	off := 0
	for _, p := range j.parts[:j.np] {
		r0, r1 := max(lo-off, 0), min(hi-off, p.rows)
		if r0 < r1 {
			mv(gemm.NoTrans, r1-r0, j.in, p.w[r0*j.in:], j.x, j.beta, p.y[r0:r1])
		}
		off += p.rows
	}
}

// linear is linearL on raw slices: W is [out, in].
func (g *engine[T]) linear(dst, x []T, m int, w []T, in, out int, b []T, beta T) {
	if m == 1 {
		g.mvj.do(x, in, beta, mvPart[T]{w: w, y: dst, rows: out})
	} else {
		mm(false, true, m, out, in, x, in, w, in, beta, dst, out)
	}
	addBias(dst, b, m, out)
}

// conv1D is linearL for GPT-2's Conv1D (W [in, out]).
func (g *engine[T]) conv1D(dst, x []T, m int, l *Conv1D[T], beta T) {
	s := l.Weight.Shape()
	in, out := s[0], s[1]
	w, b := l.Weight.Value().Data(), l.Bias.Value().Data()
	if m == 1 {
		mv(gemm.Trans, in, out, w, x, beta, dst)
	} else {
		mm(false, false, m, out, in, x, in, w, out, beta, dst, out)
	}
	addBias(dst, b, m, out)
}

func addBias[T tensor.Float](dst, b []T, m, out int) {
	if b == nil {
		return
	}
	for r := range m {
		row := dst[r*out : r*out+out]
		for j, v := range b {
			row[j] += v
		}
	}
}

// mv is y = W·x + beta·y (tW NoTrans, W [rows, cols]) or Wᵀ·x + beta·y
// (Trans) through gemm's matrix-vector kernels: one token's row times a
// weight matrix, where decoding spends its time streaming the weights.
func mv[T tensor.Float](tW gemm.Transpose, rows, cols int, w, x []T, beta T, y []T) {
	gemm.Gemv(tW, rows, cols, 1, w, cols, x, beta, y)
}

// mm is C = op(A)·op(B) + beta·C through gemm.
func mm[T tensor.Float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := gemm.NoTrans, gemm.NoTrans
	if tA {
		ta = gemm.Trans
	}
	if tB {
		tb = gemm.Trans
	}
	gemm.Gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// layerNormRows writes LayerNorm l of each e-wide row of x into dst
// (float64 statistics, as autograd's LayerNorm).
func layerNormRows[T tensor.Float](dst, x []T, e int, l *nn.LayerNorm[T]) {
	w, b := l.Weight.Value().Data(), l.Bias.Value().Data()
	for r := 0; r < len(x)/e; r++ {
		row, out := x[r*e:r*e+e], dst[r*e:r*e+e]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(e)
		var ss float64
		for _, v := range row {
			d := float64(v) - mean
			ss += d * d
		}
		mu, rs := T(mean), T(1/math.Sqrt(ss/float64(e)+l.Eps))
		for j, v := range row {
			out[j] = (v-mu)*rs*w[j] + b[j]
		}
	}
}

// rmsNormRows writes RMSNorm l of each e-wide row of x into dst.
func rmsNormRows[T tensor.Float](dst, x []T, e int, l *RMSNorm[T]) {
	w := l.Weight.Value().Data()
	for r := 0; r < len(x)/e; r++ {
		row, out := x[r*e:r*e+e], dst[r*e:r*e+e]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		rs := T(1 / math.Sqrt(ss/float64(e)+l.Eps))
		for j, v := range row {
			out[j] = w[j] * (v * rs)
		}
	}
}

// geluTanh applies gelu_new in place.
func geluTanh[T tensor.Float](x []T) {
	const c, k = 0.7978845608028654, 0.044715 // √(2/π)
	if x32, ok := any(x).([]float32); ok {
		for i, v := range x32 {
			t := math32.Tanh(c * (v + k*v*v*v))
			x32[i] = 0.5 * v * (1 + t)
		}
		return
	}
	for i, v := range x {
		f := float64(v)
		x[i] = T(0.5 * f * (1 + math.Tanh(c*(f+k*f*f*f))))
	}
}

// siluMul sets a = silu(a) ⊙ b.
func siluMul[T tensor.Float](a, b []T) {
	if a32, ok := any(a).([]float32); ok {
		b32 := any(b).([]float32)[:len(a32)]
		var sg [512]float32 // sigmoids of a block, through the vector kernel
		for i := 0; i < len(a32); i += len(sg) {
			blk, bb := a32[i:min(i+len(sg), len(a32))], b32[i:]
			s := sg[:len(blk)]
			math32.SigmoidSlice(s, blk)
			for j, v := range blk {
				blk[j] = v * s[j] * bb[j]
			}
		}
		return
	}
	for i, v := range a {
		f := float64(v)
		a[i] = T(f / (1 + math.Exp(-f)) * float64(b[i]))
	}
}

// expInPlace sets x[i] = e^x[i].
func expInPlace[T tensor.Float](x []T) {
	if x32, ok := any(x).([]float32); ok {
		math32.ExpSlice(x32, x32)
		return
	}
	for i, v := range x {
		x[i] = T(math.Exp(float64(v)))
	}
}
