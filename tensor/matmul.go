package tensor

import (
	"unsafe"

	"github.com/adjoint-go/adjoint/gemm"
)

// gemmLayout says how gemm can read a rows×cols matrix with strides s0, s1:
// as stored (NoTrans, leading dimension s0), as the transpose of a stored
// cols×rows matrix (Trans, leading dimension s1), or not at all (ok false:
// neither stride is 1).
func gemmLayout(rows, cols, s0, s1 int) (tr gemm.Transpose, ld int, ok bool) {
	if (cols <= 1 || s1 == 1) && (rows <= 1 || s0 >= max(cols, 1)) {
		ld = s0
		if rows <= 1 {
			ld = max(cols, 1)
		}
		return gemm.NoTrans, ld, true
	}
	if (rows <= 1 || s0 == 1) && (cols <= 1 || s1 >= max(rows, 1)) {
		ld = s1
		if cols <= 1 {
			ld = max(rows, 1)
		}
		return gemm.Trans, ld, true
	}
	return gemm.NoTrans, 0, false
}

// span returns the addresses of the first and last element t can touch
// (ok false for an empty tensor). Strides are never negative.
func span[T Float](t *Dense[T]) (lo, hi uintptr, ok bool) {
	last := t.offset
	for i, d := range t.shape {
		if d == 0 {
			return 0, 0, false
		}
		last += (d - 1) * t.strides[i]
	}
	return uintptr(unsafe.Pointer(&t.data[t.offset])), uintptr(unsafe.Pointer(&t.data[last])), true
}

// overlaps reports whether the memory ranges of x and y intersect.
func overlaps[T Float](x, y *Dense[T]) bool {
	xl, xh, ok1 := span(x)
	yl, yh, ok2 := span(y)
	return ok1 && ok2 && xl <= yh && yl <= xh
}

// matDims returns batch, rows, cols and the batch and matrix strides of a
// 2-D or 3-D operand (batch 1, stride 0 for 2-D).
func matDims[T Float](op, name string, t *Dense[T]) (batch, rows, cols, bs, s0, s1 int) {
	notNil(op, name, t)
	switch len(t.shape) {
	case 2:
		return 1, t.shape[0], t.shape[1], 0, t.strides[0], t.strides[1]
	case 3:
		bs = t.strides[0]
		if t.shape[0] == 1 {
			bs = 0
		}
		return t.shape[0], t.shape[1], t.shape[2], bs, t.strides[1], t.strides[2]
	}
	fail(ErrShape, "%s: %s has shape %v, want 2-D or 3-D", op, name, t.shape)
	return
}

// MatMul sets d = a·b and returns d; see Gemm.
func (d *Dense[T]) MatMul(a, b *Dense[T]) *Dense[T] { return d.matmul("MatMul", 1, a, b, 0) }

// Gemm sets d = alpha·a·b + beta·d and returns d (with beta = 0, d is not
// read, so NaNs in it do not propagate).
//
// a is m×k and b is k×n, or batches of them: [B, m, k] and [B, k, n], where
// either batch may be 1 (or the operand 2-D) and is then shared by every
// batch; d is m×n, or [B, m, n] when either input is 3-D. Any input view
// that has unit stride along one of its two matrix dimensions is passed to
// gemm directly, a transposed view (such as x.T()) as gemm's Trans flag with
// the matching leading dimension, never copied; only an input with no unit
// stride is packed once into a contiguous copy.
//
// It panics with ErrShape if the shapes do not fit, with ErrNotContiguous if
// d's rows are not unit-stride, and with ErrOverlap if d overlaps a or b.
func (d *Dense[T]) Gemm(alpha T, a, b *Dense[T], beta T) *Dense[T] {
	return d.matmul("Gemm", alpha, a, b, beta)
}

// MatMul returns a new tensor a·b; see Dense.Gemm for the shapes accepted.
func MatMul[T Float](a, b *Dense[T]) *Dense[T] {
	ba, m, ka, _, _, _ := matDims("MatMul", "a", a)
	bb, kb, n, _, _, _ := matDims("MatMul", "b", b)
	if ka != kb {
		fail(ErrShape, "MatMul: shapes %v and %v do not multiply", a.shape, b.shape)
	}
	if len(a.shape) == 2 && len(b.shape) == 2 {
		return New[T](m, n).MatMul(a, b)
	}
	return New[T](max(ba, bb), m, n).MatMul(a, b)
}

func (d *Dense[T]) matmul(op string, alpha T, a, b *Dense[T], beta T) *Dense[T] {
	notNil(op, "destination", d)
	ba, m, k, abs, as0, as1 := matDims(op, "a", a)
	bb, kb, n, bbs, bs0, bs1 := matDims(op, "b", b)
	if k != kb || (ba != bb && ba != 1 && bb != 1) {
		fail(ErrShape, "%s: shapes %v and %v do not multiply", op, a.shape, b.shape)
	}
	batch := max(ba, bb)
	want3 := len(a.shape) == 3 || len(b.shape) == 3
	var dbs, ds0, ds1 int
	switch {
	case !want3 && len(d.shape) == 2 && d.shape[0] == m && d.shape[1] == n:
		ds0, ds1 = d.strides[0], d.strides[1]
	case want3 && len(d.shape) == 3 && d.shape[0] == batch && d.shape[1] == m && d.shape[2] == n:
		dbs, ds0, ds1 = d.strides[0], d.strides[1], d.strides[2]
	default:
		fail(ErrShape, "%s: destination shape %v does not fit %v·%v", op, d.shape, a.shape, b.shape)
	}
	tc, ldc, ok := gemmLayout(m, n, ds0, ds1)
	if !ok || tc != gemm.NoTrans {
		fail(ErrNotContiguous, "%s: destination of shape %v with strides %v does not have unit-stride rows", op, d.shape, d.strides)
	}
	if overlaps(d, a) || overlaps(d, b) {
		fail(ErrOverlap, "%s: destination overlaps an input", op)
	}
	if batch == 0 || m == 0 || n == 0 {
		return d
	}
	if k == 0 {
		if beta == 0 {
			return d.Zero()
		}
		return d.MulScalar(d, beta)
	}
	ta, lda, ok := gemmLayout(m, k, as0, as1)
	if !ok {
		a = a.Clone()
		ba, m, k, abs, as0, as1 = matDims(op, "a", a)
		ta, lda, _ = gemmLayout(m, k, as0, as1)
	}
	tb, ldb, ok := gemmLayout(k, n, bs0, bs1)
	if !ok {
		b = b.Clone()
		bb, k, n, bbs, bs0, bs1 = matDims(op, "b", b)
		tb, ldb, _ = gemmLayout(k, n, bs0, bs1)
	}
	if ba == 1 {
		abs = 0
	}
	if bb == 1 {
		bbs = 0
	}
	// A shared b with a stack of row-major a matrices laid out back to back
	// (and d likewise) is one product of batch·m rows: one gemm call, which
	// blocks and parallelises better than batch small ones.
	if batch > 1 && bb == 1 && ba == batch && ta == gemm.NoTrans && (m == 1 || abs == m*lda) && dbs == m*ldc && (m > 1 || abs >= k) {
		if m == 1 {
			lda = abs
		}
		if m == 1 {
			ldc = dbs
		}
		m, batch = batch*m, 1
	}
	for i := range batch {
		ao, bo, do := a.offset+i*abs, b.offset+i*bbs, d.offset+i*dbs
		gemm.Gemm(ta, tb, m, n, k, T(alpha), a.data[ao:], lda, b.data[bo:], ldb, T(beta), d.data[do:], ldc)
	}
	return d
}
