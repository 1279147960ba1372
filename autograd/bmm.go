package autograd

import (
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/tensor"
)

// bmm computes batch products C_i = op(A_i)·op(B_i) + beta·C_i at fixed
// strides through gemm's strided batched entry point.
func bmm[T tensor.Float](tA, tB bool, m, n, k int, a []T, lda, sA int, b []T, ldb, sB int, beta T, c []T, ldc, sC, batch int) {
	if m == 0 || n == 0 || batch == 0 {
		return
	}
	ta, tb := gemm.NoTrans, gemm.NoTrans
	if tA {
		ta = gemm.Trans
	}
	if tB {
		tb = gemm.Trans
	}
	if is32[T]() {
		gemm.SgemmStrided(ta, tb, m, n, k, 1, f32(a), lda, sA, f32(b), ldb, sB, float32(beta), f32(c), ldc, sC, batch)
	} else {
		gemm.DgemmStrided(ta, tb, m, n, k, 1, f64(a), lda, sA, f64(b), ldb, sB, float64(beta), f64(c), ldc, sC, batch)
	}
}

// BatchedMatMul returns the products op(a_i)·op(b_i) over the leading
// dimensions of a and b, which must be equal: a is [..., m, k] (or
// [..., k, m] with transA), b is [..., k, n] (or [..., n, k] with
// transB) and the result [..., m, n]. Attention's S = Q·Kᵀ is
// BatchedMatMul(q, k, false, true), O = P·V BatchedMatMul(p, v, false,
// false). Each operand is read in place through the transpose flags (a
// non-contiguous value is copied once); forward is one strided batched GEMM
// and backward one more per operand (ā_i += z̄_i·op(b_i)ᵀ, b̄_i +=
// op(a_i)ᵀ·z̄_i, with the flags worked out so nothing is transposed in
// memory). It panics (ErrShape) unless both have rank ≥ 2, the same rank
// and leading dimensions, and matching inner dimensions.
func (tp *Tape[T]) BatchedMatMul(a, b *Var[T], transA, transB bool) *Var[T] {
	const op = "BatchedMatMul"
	tp.check(op, a)
	tp.check(op, b)
	sa, sb := a.value.Shape(), b.value.Shape()
	nd := len(sa)
	if nd < 2 || len(sb) != nd {
		fail(ErrShape, "%s: shapes %v and %v must have the same rank >= 2", op, sa, sb)
	}
	for i := range nd - 2 {
		if sa[i] != sb[i] {
			fail(ErrShape, "%s: leading dimensions of %v and %v differ", op, sa, sb)
		}
	}
	m, k := sa[nd-2], sa[nd-1]
	if transA {
		m, k = k, m
	}
	k2, n := sb[nd-2], sb[nd-1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		fail(ErrShape, "%s: shapes %v and %v (transA %v, transB %v): inner dimensions %d and %d differ", op, sa, sb, transA, transB, k, k2)
	}
	batch := 1
	for _, d := range sa[:nd-2] {
		batch *= d
	}
	xa, ca := tp.contig(a.value)
	xb, cb := tp.contig(b.value)
	tp.shp = append(tp.shp[:0], sa[:nd-2]...)
	tp.shp = append(tp.shp, m, n)
	out := tp.alloc(tp.shp...)
	z := out.Data()
	bmm(transA, transB, m, n, k, xa, max(sa[nd-1], 1), m*k, xb, max(sb[nd-1], 1), k*n, 0, z, max(n, 1), m*n, batch)
	if k == 0 {
		clear(z)
	}
	v := tp.node(opBatchedMatMul, out, a, b, nil)
	v.tA, v.tB, v.aux, v.aux2 = transA, transB, ca, cb
	v.lo = batch
	return v
}

func (tp *Tape[T]) backBatchedMatMul(u *Var[T]) {
	a, b := u.a, u.b
	tA, tB, batch := u.tA, u.tB, u.lo
	sa, sb := a.value.Shape(), b.value.Shape()
	nd := len(sa)
	zs := u.value.Shape()
	m, n := zs[nd-2], zs[nd-1]
	k := sa[nd-1]
	if tA {
		k = sa[nd-2]
	}
	lda, ldb := max(sa[nd-1], 1), max(sb[nd-1], 1)
	z := u.grad.Data()
	ldz := max(n, 1)
	if a.requiresGrad {
		xb := data(b.value, u.aux2)
		ga, acc := tp.grad(a)
		if !tA { // ā_i (m×k) += z̄_i·op(b_i)ᵀ
			bmm(false, !tB, m, k, n, z, ldz, m*n, xb, ldb, k*n, betaOf[T](acc), ga, max(k, 1), m*k, batch)
		} else { // ā_i (k×m) += op(b_i)·z̄_iᵀ
			bmm(tB, true, k, m, n, xb, ldb, k*n, z, ldz, m*n, betaOf[T](acc), ga, max(m, 1), m*k, batch)
		}
		if m == 0 || k == 0 || n == 0 {
			zeroIfFresh(ga, acc)
		}
	}
	if b.requiresGrad {
		xa := data(a.value, u.aux)
		gb, acc := tp.grad(b)
		if !tB { // b̄_i (k×n) += op(a_i)ᵀ·z̄_i
			bmm(!tA, false, k, n, m, xa, lda, m*k, z, ldz, m*n, betaOf[T](acc), gb, max(n, 1), k*n, batch)
		} else { // b̄_i (n×k) += z̄_iᵀ·op(a_i)
			bmm(true, tA, n, k, m, z, ldz, m*n, xa, lda, m*k, betaOf[T](acc), gb, max(k, 1), k*n, batch)
		}
		if m == 0 || k == 0 || n == 0 {
			zeroIfFresh(gb, acc)
		}
	}
}
