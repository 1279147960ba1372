package autograd

import (
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/tensor"
)

// mat is a matrix operand as GEMM sees it: row-major storage S with leading
// dimension ld, and t set when the logical matrix is Sᵀ (a transposed view
// such as x.T() of a contiguous x, which is read in place, not copied).
type mat[T tensor.Float] struct {
	data []T
	ld   int
	t    bool
}

// storage resolves a 2-D value to GEMM storage. A contiguous value is
// used as is, a transposed view of contiguous storage through the
// transpose flag; anything else is copied into a step buffer, returned so
// that backward can reuse it.
func (tp *Tape[T]) storage(d *tensor.Dense[T]) (mat[T], *tensor.Dense[T]) {
	s := d.Shape()
	if d.IsContiguous() {
		return mat[T]{data: d.Data(), ld: max(s[1], 1)}, nil
	}
	if d.Strides()[0] == 1 {
		if dt := d.T(); dt.IsContiguous() {
			return mat[T]{data: dt.Data(), ld: max(s[0], 1), t: true}, nil
		}
	}
	c := tp.allocLike(d)
	c.Copy(d)
	return mat[T]{data: c.Data(), ld: max(s[1], 1)}, c
}

// matmulNode is the saved state of MatMul and MatMulT.
type matmulNode[T tensor.Float] struct {
	a, b   *Var[T]
	tA, tB bool
	ac, bc *tensor.Dense[T] // copies storage made of a strided operand, or nil
}

var matmulKey = newPoolKey()

// savedMat is storage for backward: the copy made in forward, or the value
// resolved again.
func (tp *Tape[T]) savedMat(in *Var[T], copied *tensor.Dense[T]) mat[T] {
	if copied != nil {
		return mat[T]{data: copied.Data(), ld: max(copied.Shape()[1], 1)}
	}
	m, _ := tp.storage(in.value)
	return m
}

// mm computes C = op(A)·op(B) + beta·C with GEMM, op(X) = Xᵀ when the flag
// is set. m×n is C's shape, k the inner dimension.
func mm[T tensor.Float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := gemm.NoTrans, gemm.NoTrans
	if tA {
		ta = gemm.Trans
	}
	if tB {
		tb = gemm.Trans
	}
	gemm.Gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

func betaOf[T tensor.Float](acc bool) T {
	if acc {
		return 1
	}
	return 0
}

// MatMul returns the matrix product a·b of an m×k and a k×n matrix. A
// transposed view (x.Value().T() of a contiguous x given to NewVar) is read
// through GEMM's transpose flag, not copied. Backward is one GEMM per
// operand with beta = 1 into the adjoint: ā += z̄·bᵀ, b̄ += aᵀ·z̄. It panics
// (ErrShape) unless both are matrices with matching inner dimensions.
func (tp *Tape[T]) MatMul(a, b *Var[T]) *Var[T] { return tp.matmul("MatMul", a, b, false, false) }

// MatMulT returns op(a)·op(b) where op transposes its operand when its flag
// is gemm.Trans: MatMulT(x, w, gemm.NoTrans, gemm.Trans) is x·wᵀ. No
// transpose is materialised, forward or backward. It panics as MatMul does,
// and on a flag other than gemm.NoTrans and gemm.Trans.
func (tp *Tape[T]) MatMulT(a, b *Var[T], tA, tB gemm.Transpose) *Var[T] {
	return tp.matmul("MatMulT", a, b, isTrans("MatMulT", tA), isTrans("MatMulT", tB))
}

// isTrans reports whether t is gemm.Trans, and panics (ErrMisuse) unless it
// is gemm.Trans or gemm.NoTrans.
func isTrans(op string, t gemm.Transpose) bool {
	if t != gemm.Trans && t != gemm.NoTrans {
		fail(ErrMisuse, "%s: transpose flag %q is neither gemm.NoTrans nor gemm.Trans", op, byte(t))
	}
	return t == gemm.Trans
}

func (tp *Tape[T]) matmul(op string, a, b *Var[T], tA, tB bool) *Var[T] {
	tp.check(op, a)
	tp.check(op, b)
	sa, sb := a.value.Shape(), b.value.Shape()
	if len(sa) != 2 || len(sb) != 2 {
		fail(ErrShape, "%s: shapes %v and %v are not both matrices", op, sa, sb)
	}
	m, k := sa[0], sa[1]
	if tA {
		m, k = k, m
	}
	k2, n := sb[0], sb[1]
	if tB {
		k2, n = n, k2
	}
	if k != k2 {
		fail(ErrShape, "%s: shapes %v and %v (transA %v, transB %v): inner dimensions %d and %d differ", op, sa, sb, tA, tB, k, k2)
	}
	ma, ca := tp.storage(a.value)
	mb, cb := tp.storage(b.value)
	out := tp.alloc(m, n)
	mm(ma.t != tA, mb.t != tB, m, n, k, ma.data, ma.ld, mb.data, mb.ld, 0, out.Data(), max(n, 1))
	nd := newNode[matmulNode[T]](tp, matmulKey)
	nd.a, nd.b, nd.tA, nd.tB, nd.ac, nd.bc = a, b, tA, tB, ca, cb
	return tp.record("MatMul", nd, out, a, b, nil)
}

func (nd *matmulNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a, b := nd.a, nd.b
	tA, tB := nd.tA, nd.tB
	zs := u.value.Shape()
	m, n := zs[0], zs[1]
	k := a.value.Shape()[1]
	if tA {
		k = a.value.Shape()[0]
	}
	z := u.grad.Data()
	ldz := max(n, 1)
	if a.requiresGrad {
		sb := tp.savedMat(b, nd.bc)
		fB := sb.t != tB // op(b) = fB ? Sᵀ : S
		ga, acc := tp.grad(a)
		if !tA { // ā (m×k) += z̄·op(b)ᵀ
			mm(false, !fB, m, k, n, z, ldz, sb.data, sb.ld, betaOf[T](acc), ga, max(k, 1))
		} else { // ā (k×m) += op(b)·z̄ᵀ
			mm(fB, true, k, m, n, sb.data, sb.ld, z, ldz, betaOf[T](acc), ga, max(m, 1))
		}
		if m == 0 || k == 0 || n == 0 {
			zeroIfFresh(ga, acc)
		}
	}
	if b.requiresGrad {
		sa := tp.savedMat(a, nd.ac)
		fA := sa.t != tA
		gb, acc := tp.grad(b)
		if !tB { // b̄ (k×n) += op(a)ᵀ·z̄
			mm(!fA, false, k, n, m, sa.data, sa.ld, z, ldz, betaOf[T](acc), gb, max(n, 1))
		} else { // b̄ (n×k) += z̄ᵀ·op(a)
			mm(true, fA, n, k, m, z, ldz, sa.data, sa.ld, betaOf[T](acc), gb, max(k, 1))
		}
		if m == 0 || k == 0 || n == 0 {
			zeroIfFresh(gb, acc)
		}
	}
}

// zeroIfFresh clears an adjoint that a degenerate (empty) product left
// unwritten on its first contribution.
func zeroIfFresh[T tensor.Float](g []T, acc bool) {
	if !acc {
		clear(g)
	}
}

// Linear returns x·wᵀ + b, the fused affine layer in PyTorch's layout
// (torch.nn.functional.linear): x is [..., K] (rows of K features; every
// leading axis is a batch axis), w is M×K ([out, in]), b has M elements
// (shape [M] or [1 M]) or is nil; the result is [..., M]. The bias is
// written first and the product added by one GEMM with beta = 1, w read in
// place through GEMM's transpose flag. Backward: x̄ += z̄·w and w̄ += z̄ᵀ·x
// (one GEMM each, transpose flags, beta = 1) and b̄ += the column sums of
// z̄. It panics (ErrShape) if the shapes do not fit.
func (tp *Tape[T]) Linear(x, w, b *Var[T]) *Var[T] {
	tp.check("Linear", x)
	tp.check("Linear", w)
	sx, sw := x.value.Shape(), w.value.Shape()
	if len(sx) < 1 || len(sw) != 2 || sx[len(sx)-1] != sw[1] {
		fail(ErrShape, "Linear: x shape %v and w shape %v do not fit (want [..., K] and [M, K])", sx, sw)
	}
	m, k := sw[0], sw[1]
	n := 1
	for _, d := range sx[:len(sx)-1] {
		n *= d
	}
	var bias []T
	var cb *tensor.Dense[T]
	if b != nil {
		tp.check("Linear", b)
		sb := b.value.Shape()
		if !(len(sb) == 1 && sb[0] == m) && !(len(sb) == 2 && sb[0] == 1 && sb[1] == m) {
			fail(ErrShape, "Linear: bias shape %v does not fit w shape %v (want [%d])", sb, sw, m)
		}
		bias, cb = tp.contig(b.value)
	}
	var mx mat[T]
	var cx *tensor.Dense[T]
	if len(sx) == 2 {
		mx, cx = tp.storage(x.value)
	} else {
		var xd []T
		xd, cx = tp.contig(x.value)
		mx = mat[T]{data: xd, ld: max(k, 1)}
	}
	mw, cw := tp.storage(w.value)
	os := append(make([]int, 0, 4), sx[:len(sx)-1]...)
	out := tp.alloc(append(os, m)...)
	z := out.Data()
	beta := T(0)
	if bias != nil && m > 0 {
		j := &tp.job
		j.mode, j.g, j.x = jRowFill, z, bias
		tp.par(n, rowGrain(grainVec, m))
		beta = 1
	}
	mm(mx.t, !mw.t, n, m, k, mx.data, mx.ld, mw.data, mw.ld, beta, z, max(m, 1))
	if k == 0 && bias == nil {
		clear(z)
	}
	nd := newNode[linearNode[T]](tp, linearKey)
	nd.x, nd.w, nd.b, nd.xc, nd.wc, nd.bc = x, w, b, cx, cw, cb
	return tp.record("Linear", nd, out, x, w, b)
}

// linearNode is the saved state of Linear.
type linearNode[T tensor.Float] struct {
	x, w, b    *Var[T]
	xc, wc, bc *tensor.Dense[T] // copies of strided operands, or nil
}

var linearKey = newPoolKey()

func (nd *linearNode[T]) backward(tp *Tape[T], u *Var[T]) {
	x, w, b := nd.x, nd.w, nd.b
	sw := w.value.Shape()
	m, k := sw[0], sw[1]
	n := x.value.Size() / max(k, 1)
	if k == 0 {
		n = u.grad.Size() / max(m, 1)
	}
	xm := func() mat[T] {
		if len(x.value.Shape()) == 2 {
			return tp.savedMat(x, nd.xc)
		}
		return mat[T]{data: data(x.value, nd.xc), ld: max(k, 1)}
	}
	z := u.grad.Data()
	ldz := max(m, 1)
	if x.requiresGrad { // x̄ (n×k) += z̄·w
		sw := tp.savedMat(w, nd.wc)
		gx, acc := tp.grad(x)
		mm(false, sw.t, n, k, m, z, ldz, sw.data, sw.ld, betaOf[T](acc), gx, max(k, 1))
		if m == 0 {
			zeroIfFresh(gx, acc)
		}
	}
	if w.requiresGrad { // w̄ (m×k) += z̄ᵀ·x
		sx := xm()
		gw, acc := tp.grad(w)
		mm(true, sx.t, m, k, n, z, ldz, sx.data, sx.ld, betaOf[T](acc), gw, max(k, 1))
		if n == 0 {
			zeroIfFresh(gw, acc)
		}
	}
	if b != nil && b.requiresGrad { // b̄ += Σ_rows z̄
		gb, acc := tp.grad(b)
		if !acc {
			clear(gb)
		}
		// Split by columns, so each worker owns its bias elements and
		// sums rows in the same order whatever the thread count.
		j := &tp.job
		j.mode, j.d, j.g = jColSum, gb, z
		tp.par(m, rowGrain(grainVec, n))
	}
}

// contig returns d's elements in row-major order: d's own storage when it
// is contiguous, else a step buffer holding a copy (also returned).
func (tp *Tape[T]) contig(d *tensor.Dense[T]) ([]T, *tensor.Dense[T]) {
	if d.IsContiguous() {
		return d.Data(), nil
	}
	c := tp.allocLike(d)
	c.Copy(d)
	return c.Data(), c
}

// data is contig's result for backward: the saved copy or d's storage.
func data[T tensor.Float](d, copied *tensor.Dense[T]) []T {
	if copied != nil {
		return copied.Data()
	}
	return d.Data()
}

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
	gemm.GemmStrided(ta, tb, m, n, k, 1, a, lda, sA, b, ldb, sB, beta, c, ldc, sC, batch)
}

// BatchedMatMul returns the products op(a_i)·op(b_i) over the leading
// dimensions of a and b, which must be equal: a is [..., m, k] (or
// [..., k, m] with tA gemm.Trans), b is [..., k, n] (or [..., n, k] with
// tB gemm.Trans) and the result [..., m, n]. Attention's S = Q·Kᵀ is
// BatchedMatMul(q, k, gemm.NoTrans, gemm.Trans), O = P·V
// BatchedMatMul(p, v, gemm.NoTrans, gemm.NoTrans). Each operand is read in place through the transpose flags (a
// non-contiguous value is copied once); forward is one strided batched GEMM
// and backward one more per operand (ā_i += z̄_i·op(b_i)ᵀ, b̄_i +=
// op(a_i)ᵀ·z̄_i, with the flags worked out so nothing is transposed in
// memory). It panics (ErrShape) unless both have rank ≥ 2, the same rank
// and leading dimensions, and matching inner dimensions.
func (tp *Tape[T]) BatchedMatMul(a, b *Var[T], tA, tB gemm.Transpose) *Var[T] {
	const op = "BatchedMatMul"
	transA, transB := isTrans(op, tA), isTrans(op, tB)
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
	r := newNode[bmmNode[T]](tp, bmmKey)
	r.a, r.b, r.tA, r.tB, r.ac, r.bc, r.batch = a, b, transA, transB, ca, cb, batch
	return tp.record(op, r, out, a, b, nil)
}

// bmmNode is the saved state of BatchedMatMul.
type bmmNode[T tensor.Float] struct {
	a, b   *Var[T]
	tA, tB bool
	batch  int              // product of the leading dimensions
	ac, bc *tensor.Dense[T] // contiguous copies of strided operands, or nil
}

var bmmKey = newPoolKey()

func (r *bmmNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a, b := r.a, r.b
	tA, tB, batch := r.tA, r.tB, r.batch
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
		xb := data(b.value, r.bc)
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
		xa := data(a.value, r.ac)
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

// BroadcastMatMul returns op(a)·op(b) over the leading (batch) dimensions
// of a and b broadcast against each other, as torch.matmul does for
// operands of rank ≥ 2: the batch dimensions are aligned from the right,
// a missing dimension or one of size 1 stretches, and the result is
// [batch..., m, n]. op transposes the last two dimensions of its operand
// where the flag is set, through GEMM's flags (nothing is transposed in
// memory). With equal batch dimensions it is BatchedMatMul; otherwise each
// output matrix is one GEMM, and backward sums the adjoint of a broadcast
// operand over the products that read it, in batch order. It panics
// (ErrShape) unless both have rank ≥ 2, the inner dimensions match and the
// batch dimensions broadcast.
func (tp *Tape[T]) BroadcastMatMul(a, b *Var[T], tA, tB gemm.Transpose) *Var[T] {
	const op = "BroadcastMatMul"
	transA, transB := isTrans(op, tA), isTrans(op, tB)
	tp.check(op, a)
	tp.check(op, b)
	sa, sb := a.value.Shape(), b.value.Shape()
	na, nb := len(sa), len(sb)
	if na < 2 || nb < 2 {
		fail(ErrShape, "%s: shapes %v and %v must both have rank >= 2", op, sa, sb)
	}
	m, k := sa[na-2], sa[na-1]
	if transA {
		m, k = k, m
	}
	k2, n := sb[nb-2], sb[nb-1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		fail(ErrShape, "%s: shapes %v and %v (transA %v, transB %v): inner dimensions %d and %d differ", op, sa, sb, transA, transB, k, k2)
	}
	if sameShape(sa[:na-2], sb[:nb-2]) {
		return tp.BatchedMatMul(a, b, tA, tB)
	}
	// The broadcast batch shape, and each output batch's a and b batches.
	nd := max(na, nb) - 2
	if nd > maxPoolDims {
		fail(ErrShape, "%s: shapes %v and %v have more than %d batch dimensions", op, sa, sb, maxPoolDims)
	}
	var bs, stA, stB [maxPoolDims]int
	strideA, strideB := 1, 1
	for i := nd - 1; i >= 0; i-- {
		da, db := 1, 1
		if j := i - (nd - (na - 2)); j >= 0 {
			da = sa[j]
		}
		if j := i - (nd - (nb - 2)); j >= 0 {
			db = sb[j]
		}
		if da != db && da != 1 && db != 1 {
			fail(ErrShape, "%s: batch dimensions of %v and %v do not broadcast", op, sa, sb)
		}
		bs[i] = max(da, db)
		if da == 0 || db == 0 {
			bs[i] = 0
		}
		if da != 1 {
			stA[i] = strideA
		}
		if db != 1 {
			stB[i] = strideB
		}
		strideA *= da
		strideB *= db
	}
	tp.shp = append(append(tp.shp[:0], bs[:nd]...), m, n)
	out := tp.alloc(tp.shp...)
	r := newNode[bcastMMNode[T]](tp, bcastMMKey)
	batch := 1
	for _, d := range bs[:nd] {
		batch *= d
	}
	r.ia, r.ib = growInts(r.ia, batch), growInts(r.ib, batch)
	var idx [maxPoolDims]int
	for i := range batch {
		oa, ob := 0, 0
		for d := range nd {
			oa += idx[d] * stA[d]
			ob += idx[d] * stB[d]
		}
		r.ia[i], r.ib[i] = oa, ob
		for d := nd - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < bs[d] {
				break
			}
			idx[d] = 0
		}
	}
	xa, ca := tp.contig(a.value)
	xb, cb := tp.contig(b.value)
	z := out.Data()
	lda, ldb := max(sa[na-1], 1), max(sb[nb-1], 1)
	for i := range batch {
		mm(transA, transB, m, n, k, xa[r.ia[i]*m*k:], lda, xb[r.ib[i]*k*n:], ldb, 0, z[i*m*n:], max(n, 1))
	}
	if k == 0 {
		clear(z)
	}
	r.a, r.b, r.tA, r.tB, r.ac, r.bc, r.m, r.n, r.k = a, b, transA, transB, ca, cb, m, n, k
	return tp.record(op, r, out, a, b, nil)
}

// bcastMMNode is the saved state of BroadcastMatMul with unequal batch
// dimensions: output batch i is op(a batch ia[i])·op(b batch ib[i]).
type bcastMMNode[T tensor.Float] struct {
	a, b    *Var[T]
	tA, tB  bool
	m, n, k int
	ia, ib  []int
	ac, bc  *tensor.Dense[T] // contiguous copies of strided operands, or nil
}

var bcastMMKey = newPoolKey()

// clearRefs keeps the batch maps' capacity.
func (r *bcastMMNode[T]) clearRefs() { *r = bcastMMNode[T]{ia: r.ia[:0], ib: r.ib[:0]} }

func (r *bcastMMNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a, b := r.a, r.b
	tA, tB, m, n, k := r.tA, r.tB, r.m, r.n, r.k
	sa, sb := a.value.Shape(), b.value.Shape()
	lda, ldb := max(sa[len(sa)-1], 1), max(sb[len(sb)-1], 1)
	z := u.grad.Data()
	ldz := max(n, 1)
	if a.requiresGrad {
		xb := data(b.value, r.bc)
		ga, acc := tp.grad(a)
		if !acc {
			clear(ga)
		}
		for i, ia := range r.ia {
			zi, bi, gi := z[i*m*n:], xb[r.ib[i]*k*n:], ga[ia*m*k:]
			if !tA { // ā (m×k) += z̄·op(b)ᵀ
				mm(false, !tB, m, k, n, zi, ldz, bi, ldb, 1, gi, max(k, 1))
			} else { // ā (k×m) += op(b)·z̄ᵀ
				mm(tB, true, k, m, n, bi, ldb, zi, ldz, 1, gi, max(m, 1))
			}
		}
	}
	if b.requiresGrad {
		xa := data(a.value, r.ac)
		gb, acc := tp.grad(b)
		if !acc {
			clear(gb)
		}
		for i, ib := range r.ib {
			zi, ai, gi := z[i*m*n:], xa[r.ia[i]*m*k:], gb[ib*k*n:]
			if !tB { // b̄ (k×n) += op(a)ᵀ·z̄
				mm(!tA, false, k, n, m, ai, lda, zi, ldz, 1, gi, max(n, 1))
			} else { // b̄ (n×k) += z̄ᵀ·op(a)
				mm(true, tA, n, k, m, zi, ldz, ai, lda, 1, gi, max(k, 1))
			}
		}
	}
}
