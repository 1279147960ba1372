package autograd

import (
	"math"

	"github.com/adjoint-go/adjoint/internal/freelist"
	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// CausalSoftmax returns the scaled, causally masked softmax of attention
// scores s ([..., T, T], row i the query at position i, column j the key at
// j): p[i, j] = softmax_j(scale·s[i, j]) over j ≤ i, and exactly 0 for
// j > i (the future a query must not see). It is the fused form of
// softmax(mask(scale·s, −Inf)): the masked entries are never exponentiated,
// so no −Inf or NaN arises, and their adjoint is exactly 0. Backward, per
// row, from the saved p:
//
//	s̄[i, j] += scale·p[i, j]·(p̄[i, j] − Σ_k p[i, k]·p̄[i, k])   (j ≤ i)
//
// It panics (ErrShape) unless the last two dimensions are equal (rank ≥ 2).
func (tp *Tape[T]) CausalSoftmax(s *Var[T], scale float64) *Var[T] {
	tp.check("CausalSoftmax", s)
	sh := s.value.Shape()
	nd := len(sh)
	if nd < 2 || sh[nd-1] != sh[nd-2] {
		fail(ErrShape, "CausalSoftmax: shape %v is not [..., T, T]", sh)
	}
	t := sh[nd-1]
	x, _ := tp.contig(s.value)
	out := tp.allocLike(s.value)
	causalSoftmaxRows(out.Data(), x, t, T(scale))
	n := newNode[causalSoftmaxNode[T]](tp, causalSoftmaxKey)
	n.s, n.scale = s, T(scale)
	return tp.record("CausalSoftmax", n, out, s, nil, nil)
}

// causalSoftmaxNode is the saved state of CausalSoftmax (backward reads
// the output).
type causalSoftmaxNode[T tensor.Float] struct {
	s     *Var[T]
	scale T
}

var causalSoftmaxKey = newPoolKey()

// causalSoftmaxRows writes the masked softmax of every T×T block of x into
// p.
func causalSoftmaxRows[T tensor.Float](p, x []T, t int, scale T) {
	if t == 0 {
		return
	}
	for r := 0; r < len(x)/t; r++ {
		i := r % t // query position: keys 0..i are visible
		row, pr := x[r*t:r*t+t], p[r*t:r*t+t]
		mx := T(math.Inf(-1))
		for _, v := range row[:i+1] {
			mx = max(mx, scale*v)
		}
		var sum T
		if is32[T]() {
			// The row's exponentials through the vector kernel.
			for j, v := range row[:i+1] {
				pr[j] = scale*v - mx
			}
			p32 := f32(pr[:i+1])
			math32.ExpSlice(p32, p32)
			for _, e := range pr[:i+1] {
				sum += e
			}
		} else {
			for j, v := range row[:i+1] {
				e := expT(scale*v - mx)
				pr[j] = e
				sum += e
			}
		}
		inv := 1 / sum
		for j := range pr[:i+1] {
			pr[j] *= inv
		}
		clear(pr[i+1:])
	}
}

func (n *causalSoftmaxNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !n.s.requiresGrad {
		return
	}
	sh := u.value.Shape()
	t := sh[len(sh)-1]
	if t == 0 {
		return
	}
	p, g := u.value.Data(), u.grad.Data()
	gs, acc := tp.grad(n.s)
	scale := n.scale
	for r := 0; r < len(p)/t; r++ {
		i := r % t
		pr, gr, dr := p[r*t:r*t+i+1], g[r*t:r*t+i+1], gs[r*t:r*t+t]
		var dot T
		for j, pv := range pr {
			dot += pv * gr[j]
		}
		for j, pv := range pr {
			put(dr, j, acc, scale*pv*(gr[j]-dot))
		}
		if !acc {
			clear(dr[i+1:])
		}
	}
}

// CausalAttention is fused causal multi-head self-attention over the
// output of a fused QKV projection: qkv is [B·T, 3C], row b·T+t holding the
// query, key and value of position t of sequence b, each C = heads·d wide
// with head h at columns h·d … h·d+d−1 of its third (GPT-2's c_attn
// layout). For every sequence and head,
//
//	Y = P·V,  P = causal-softmax(Q·Kᵀ/√d)
//
// and the result is [B·T, C] with the heads side by side (the layout
// c_proj reads). Every product is a strided batched GEMM over the heads
// that reads Q, K and V in place in qkv and writes Y in place, so no head
// is ever permuted or copied; backward is four more (P̄ = Ȳ·Vᵀ,
// V̄ = Pᵀ·Ȳ, Q̄ = S̄·K, K̄ = S̄ᵀ·Q, each with transpose flags) around the
// fused softmax backward, writing straight into qkv's adjoint. It equals
// BatchedMatMul, CausalSoftmax and BatchedMatMul on permuted heads, which
// the tests check. It panics (ErrShape) unless qkv is [b·t, 3C] with heads
// dividing C, and b, t, heads >= 1.
func (tp *Tape[T]) CausalAttention(qkv *Var[T], b, t, heads int) *Var[T] {
	tp.check("CausalAttention", qkv)
	s := qkv.value.Shape()
	// Sizes multiply through MulSizes: b·t or 3·heads wrapped round could
	// match qkv's shape by accident.
	bt, okBT := tensor.MulSizes(b, t)
	h3, okH := tensor.MulSizes(3, heads)
	if b < 1 || t < 1 || heads < 1 || !okBT || !okH || len(s) != 2 || s[0] != bt || s[1]%h3 != 0 {
		fail(ErrShape, "CausalAttention: qkv shape %v for b %d, t %d, heads %d (want [b·t, 3·C], heads dividing C)", s, b, t, heads)
	}
	if _, ok := tensor.MulSizes(b, heads, t, t); !ok {
		fail(ErrShape, "CausalAttention: b %d · heads %d · t %d · t %d attention weights overflow an int", b, heads, t, t)
	}
	c := s[1] / 3
	d := c / heads
	x, cx := tp.contig(qkv.value)
	p := tp.alloc(b*heads, t, t)
	out := tp.alloc(b*t, c)
	scale := 1 / math.Sqrt(float64(d))
	a := getAttn[T]()
	a.x, a.p, a.y, a.t, a.c, a.d, a.heads, a.scale = x, p.Data(), out.Data(), t, c, d, heads, T(scale)
	a.run(b, false)
	n := newNode[attentionNode[T]](tp, attentionKey)
	n.qkv, n.qkvc, n.p = qkv, cx, p
	n.batch, n.seq, n.heads, n.scale = b, t, heads, T(scale)
	return tp.record("CausalAttention", n, out, qkv, nil, nil)
}

// attentionNode is the saved state of CausalAttention: the probabilities
// P of every sequence and head, and the shape of the problem.
type attentionNode[T tensor.Float] struct {
	qkv        *Var[T]
	qkvc       *tensor.Dense[T] // contiguous copy of a strided qkv, or nil
	p          *tensor.Dense[T] // [batch·heads, seq, seq]
	batch, seq int
	heads      int
	scale      T // 1/√d
}

var attentionKey = newPoolKey()

func (n *attentionNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !n.qkv.requiresGrad {
		return
	}
	b, t, heads, scale := n.batch, n.seq, n.heads, n.scale
	c := u.value.Shape()[1]
	d := c / heads
	x := data(n.qkv.value, n.qkvc)
	pd := n.p.Data()
	yg := u.grad.Data()
	gq, acc := tp.grad(n.qkv)
	a := getAttn[T]()
	a.x, a.p, a.y, a.t, a.c, a.d, a.heads, a.scale = x, pd, yg, t, c, d, heads, scale
	a.gq, a.dp, a.beta = gq, tp.allocLike(n.p).Data(), betaOf[T](acc)
	a.run(b, true)
}

// attnTask is one CausalAttention pass split across the sequences (each
// sequence's products and softmax rows are independent and written by one
// goroutine, so the result is the same for every thread count). It is
// pooled and its body bound once, so a pass allocates nothing.
type attnTask[T tensor.Float] struct {
	x, p, y          []T // qkv, probabilities, output (forward) or its adjoint (backward)
	gq, dp           []T // backward: qkv's adjoint, P̄ then S̄
	beta, scale      T
	t, c, d, heads   int
	backward         bool
	fwdBody, bwdBody func(lo, hi int)
}

var attnPools [2]freelist.List[any] // not sync.Pools: they empty at every GC (see package freelist)

func getAttn[T tensor.Float]() *attnTask[T] {
	i := 0
	if !is32[T]() {
		i = 1
	}
	if v := attnPools[i].Get(); v != nil {
		return v.(*attnTask[T])
	}
	a := new(attnTask[T])
	a.fwdBody, a.bwdBody = a.forward, a.backwardRange
	return a
}

// attnGrain is the fewest sequences one goroutine takes: a sequence of the
// default GPT (64 positions, 4 heads of 32) is about 2 MFLOP, worth a
// hand-off on its own.
const attnGrain = 1

func (a *attnTask[T]) run(b int, backward bool) {
	if backward {
		parallel.For(b, attnGrain, a.bwdBody)
	} else {
		parallel.For(b, attnGrain, a.fwdBody)
	}
	*a = attnTask[T]{fwdBody: a.fwdBody, bwdBody: a.bwdBody}
	i := 0
	if !is32[T]() {
		i = 1
	}
	attnPools[i].Put(a)
}

// forward computes sequences [lo, hi): S = Q·Kᵀ into P, the masked
// softmax in place, Y = P·V.
func (a *attnTask[T]) forward(lo, hi int) {
	t, c, d, h := a.t, a.c, a.d, a.heads
	for i := lo; i < hi; i++ {
		q := a.x[i*t*3*c:]
		pb := a.p[i*h*t*t : (i+1)*h*t*t]
		bmm(false, true, t, t, d, q, 3*c, d, q[c:], 3*c, d, 0, pb, t, t*t, h)
		causalSoftmaxRows(pb, pb, t, a.scale)
		bmm(false, false, t, d, t, pb, t, t*t, q[2*c:], 3*c, d, 0, a.y[i*t*c:], c, d, h)
	}
}

// backwardRange computes the adjoints of sequences [lo, hi).
func (a *attnTask[T]) backwardRange(lo, hi int) {
	t, c, d, h := a.t, a.c, a.d, a.heads
	for i := lo; i < hi; i++ {
		q, k, v := a.x[i*t*3*c:], a.x[i*t*3*c+c:], a.x[i*t*3*c+2*c:]
		gQ, gK, gV := a.gq[i*t*3*c:], a.gq[i*t*3*c+c:], a.gq[i*t*3*c+2*c:]
		pb, dpb, yb := a.p[i*h*t*t:(i+1)*h*t*t], a.dp[i*h*t*t:(i+1)*h*t*t], a.y[i*t*c:]
		bmm(false, true, t, t, d, yb, c, d, v, 3*c, d, 0, dpb, t, t*t, h)         // P̄ = Ȳ·Vᵀ
		bmm(true, false, t, d, t, pb, t, t*t, yb, c, d, a.beta, gV, 3*c, d, h)    // V̄ = Pᵀ·Ȳ
		softmaxBackRows(dpb, pb, t, a.scale)                                      // S̄, in place
		bmm(false, false, t, d, t, dpb, t, t*t, k, 3*c, d, a.beta, gQ, 3*c, d, h) // Q̄ = S̄·K
		bmm(true, false, t, d, t, dpb, t, t*t, q, 3*c, d, a.beta, gK, 3*c, d, h)  // K̄ = S̄ᵀ·Q
	}
}

// softmaxBackRows turns g = P̄ into S̄ = scale·P ⊙ (P̄ − rowsum(P ⊙ P̄)) in
// place, for causally masked T×T blocks (masked entries set to 0).
func softmaxBackRows[T tensor.Float](g, p []T, t int, scale T) {
	for r := 0; r < len(p)/t; r++ {
		i := r % t
		pr, gr := p[r*t:r*t+i+1], g[r*t:r*t+t]
		var dot T
		for j, pv := range pr {
			dot += pv * gr[j]
		}
		for j, pv := range pr {
			gr[j] = scale * pv * (gr[j] - dot)
		}
		clear(gr[i+1:])
	}
}
