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
