package autograd

import (
	"math"

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
	v := tp.node(opCausalSoftmax, out, s, nil, nil)
	v.p = scale
	return v
}

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
		for j, v := range row[:i+1] {
			e := expT(scale*v - mx)
			pr[j] = e
			sum += e
		}
		inv := 1 / sum
		for j := range pr[:i+1] {
			pr[j] *= inv
		}
		clear(pr[i+1:])
	}
}

func (tp *Tape[T]) backCausalSoftmax(u *Var[T]) {
	if !u.a.requiresGrad {
		return
	}
	sh := u.value.Shape()
	t := sh[len(sh)-1]
	if t == 0 {
		return
	}
	p, g := u.value.Data(), u.grad.Data()
	gs, acc := tp.grad(u.a)
	scale := T(u.p)
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
	if b < 1 || t < 1 || heads < 1 || len(s) != 2 || s[0] != b*t || s[1]%(3*heads) != 0 {
		fail(ErrShape, "CausalAttention: qkv shape %v for b %d, t %d, heads %d (want [b·t, 3·C], heads dividing C)", s, b, t, heads)
	}
	c := s[1] / 3
	d := c / heads
	x, cx := tp.contig(qkv.value)
	p := tp.alloc(b*heads, t, t)
	out := tp.alloc(b*t, c)
	pd, y := p.Data(), out.Data()
	scale := 1 / math.Sqrt(float64(d))
	for i := range b {
		q := x[i*t*3*c:]
		bmm(false, true, t, t, d, q, 3*c, d, q[c:], 3*c, d, 0, pd[i*heads*t*t:], t, t*t, heads)
	}
	causalSoftmaxRows(pd, pd, t, T(scale))
	for i := range b {
		v := x[i*t*3*c+2*c:]
		bmm(false, false, t, d, t, pd[i*heads*t*t:], t, t*t, v, 3*c, d, 0, y[i*t*c:], c, d, heads)
	}
	r := tp.node(opCausalAttention, out, qkv, nil, nil)
	r.aux, r.aux2 = p, cx
	r.lo, r.hi, r.axis, r.p = b, t, heads, scale
	return r
}

func (tp *Tape[T]) backCausalAttention(u *Var[T]) {
	if !u.a.requiresGrad {
		return
	}
	b, t, heads, scale := u.lo, u.hi, u.axis, T(u.p)
	c := u.value.Shape()[1]
	d := c / heads
	x := data(u.a.value, u.aux2)
	pd := u.aux.Data()
	yg := u.grad.Data()
	gq, acc := tp.grad(u.a)
	beta := betaOf[T](acc)
	dp := tp.allocLike(u.aux).Data()
	for i := range b {
		q, k, v := x[i*t*3*c:], x[i*t*3*c+c:], x[i*t*3*c+2*c:]
		gQ, gK, gV := gq[i*t*3*c:], gq[i*t*3*c+c:], gq[i*t*3*c+2*c:]
		pb, dpb, yb := pd[i*heads*t*t:], dp[i*heads*t*t:], yg[i*t*c:]
		bmm(false, true, t, t, d, yb, c, d, v, 3*c, d, 0, dpb, t, t*t, heads)       // P̄ = Ȳ·Vᵀ
		bmm(true, false, t, d, t, pb, t, t*t, yb, c, d, beta, gV, 3*c, d, heads)    // V̄ = Pᵀ·Ȳ
		softmaxBackRows(dpb[:heads*t*t], pb[:heads*t*t], t, scale)                  // S̄, in place
		bmm(false, false, t, d, t, dpb, t, t*t, k, 3*c, d, beta, gQ, 3*c, d, heads) // Q̄ = S̄·K
		bmm(true, false, t, d, t, dpb, t, t*t, q, 3*c, d, beta, gK, 3*c, d, heads)  // K̄ = S̄ᵀ·Q
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
