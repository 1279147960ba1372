package autograd

import (
	"slices"

	"github.com/adjoint-go/adjoint/tensor"
)

// Reshape returns a with a new shape of the same size; one dimension may
// be −1, inferred. A contiguous value is shared (a view), otherwise copied.
// It panics (ErrShape) if the sizes differ.
func (tp *Tape[T]) Reshape(a *Var[T], shape ...int) *Var[T] {
	tp.check("Reshape", a)
	size := a.value.Size()
	tp.shp = append(tp.shp[:0], shape...)
	s := tp.shp
	infer, n := -1, 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			fail(ErrShape, "Reshape: bad dimension in %v", slices.Clone(shape))
		default:
			n *= d
		}
	}
	if infer >= 0 && n != 0 && size%n == 0 {
		s[infer] = size / n
		n = size
	}
	if n != size || (infer >= 0 && s[infer] < 0) {
		fail(ErrShape, "Reshape: cannot reshape %v (%d elements) to %v", a.value.Shape(), size, slices.Clone(shape))
	}
	var out *tensor.Dense[T]
	rn := newNode[reshapeNode[T]](tp, reshapeKey)
	if a.value.IsContiguous() {
		if rn.view != nil && rn.viewSrc == a.value && sameShape(rn.view.Shape(), s) {
			out = rn.view // the header made for the same step last time
		} else {
			out = tensor.FromSlice(a.value.Data(), s...)
			rn.view, rn.viewSrc = out, a.value
		}
	} else {
		x, _ := tp.contig(a.value)
		out = tp.alloc(s...)
		copy(out.Data(), x)
	}
	rn.x = a
	return tp.record("Reshape", rn, out, a, nil, nil)
}

// reshapeNode is the saved state of Reshape, and its view cache: the
// k-th Reshape of a step gets the k-th node of the pool, so an identical
// next step finds the header it made last time.
type reshapeNode[T tensor.Float] struct {
	x             *Var[T]
	view, viewSrc *tensor.Dense[T]
}

var reshapeKey = newPoolKey()

// clearRefs keeps the view cache across Reset.
func (n *reshapeNode[T]) clearRefs() { n.x = nil }

func (n *reshapeNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !n.x.requiresGrad {
		return
	}
	ga, acc := tp.grad(n.x)
	if acc {
		addAcc(ga, u.grad.Data())
	} else {
		copy(ga, u.grad.Data())
	}
}

// Transpose returns a with its last two axes swapped, copied into a
// contiguous buffer (for a product with a transposed operand, MatMulT
// avoids the copy). It panics (ErrShape) if a has fewer than 2 dimensions.
func (tp *Tape[T]) Transpose(a *Var[T]) *Var[T] {
	tp.check("Transpose", a)
	shape := a.value.Shape()
	nd := len(shape)
	if nd < 2 {
		fail(ErrShape, "Transpose: shape %v has fewer than 2 dimensions", shape)
	}
	r, c := shape[nd-2], shape[nd-1]
	tp.shp = append(tp.shp[:0], shape...)
	tp.shp[nd-2], tp.shp[nd-1] = c, r
	x, _ := tp.contig(a.value)
	out := tp.alloc(tp.shp...)
	transposeAdd(out.Data(), x, r, c, false)
	n := newNode[transposeNode[T]](tp, transposeKey)
	n.x = a
	return tp.record("Transpose", n, out, a, nil, nil)
}

// transposeNode is the saved state of Transpose (backward needs only the
// output's shape).
type transposeNode[T tensor.Float] struct{ x *Var[T] }

var transposeKey = newPoolKey()

// transposeAdd sets (or adds into, with acc) d = batches of sᵀ, s being
// batches of r×c matrices. Blocked so both sides stay in cache.
func transposeAdd[T tensor.Float](d, s []T, r, c int, acc bool) {
	const blk = 32
	m := r * c
	if m == 0 {
		return
	}
	for b := 0; b < len(s); b += m {
		sb, db := s[b:b+m], d[b:b+m]
		for i0 := 0; i0 < r; i0 += blk {
			for j0 := 0; j0 < c; j0 += blk {
				for i := i0; i < min(i0+blk, r); i++ {
					for j := j0; j < min(j0+blk, c); j++ {
						put(db, j*r+i, acc, sb[i*c+j])
					}
				}
			}
		}
	}
}

func (n *transposeNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !n.x.requiresGrad {
		return
	}
	shape := u.value.Shape()
	nd := len(shape)
	ga, acc := tp.grad(n.x)
	transposeAdd(ga, u.grad.Data(), shape[nd-2], shape[nd-1], acc)
}

// Slice returns the elements lo ≤ i < hi along axis (negative counts from
// the end), copied. It panics (ErrIndex) if the axis or range is out of
// bounds.
func (tp *Tape[T]) Slice(a *Var[T], axis, lo, hi int) *Var[T] {
	tp.check("Slice", a)
	shape := a.value.Shape()
	ax := axisOf("Slice", axis, shape)
	if lo < 0 || hi < lo || hi > shape[ax] {
		fail(ErrIndex, "Slice: range [%d, %d) out of bounds for axis %d of shape %v", lo, hi, axis, shape)
	}
	outer, n, inner := split(shape, ax)
	tp.shp = append(tp.shp[:0], shape...)
	tp.shp[ax] = hi - lo
	x, _ := tp.contig(a.value)
	out := tp.alloc(tp.shp...)
	o := out.Data()
	w := (hi - lo) * inner
	for i := range outer {
		copy(o[i*w:i*w+w], x[(i*n+lo)*inner:])
	}
	nd := newNode[sliceNode[T]](tp, sliceKey)
	nd.x, nd.axis, nd.lo, nd.hi = a, ax, lo, hi
	return tp.record("Slice", nd, out, a, nil, nil)
}

// sliceNode is the saved state of Slice: the range [lo, hi) of axis.
type sliceNode[T tensor.Float] struct {
	x            *Var[T]
	axis, lo, hi int
}

var sliceKey = newPoolKey()

func (nd *sliceNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a := nd.x
	if !a.requiresGrad {
		return
	}
	outer, n, inner := split(a.value.Shape(), nd.axis)
	ga, acc := tp.grad(a)
	if !acc {
		clear(ga)
	}
	g := u.grad.Data()
	w := (nd.hi - nd.lo) * inner
	for i := range outer {
		addAcc(ga[(i*n+nd.lo)*inner:(i*n+nd.lo)*inner+w], g[i*w:i*w+w])
	}
}

// Concat joins vs along axis (negative counts from the end); all shapes
// must agree except along axis. It panics (ErrShape) if they do not, or if
// vs is empty.
func (tp *Tape[T]) Concat(axis int, vs ...*Var[T]) *Var[T] {
	if len(vs) == 0 {
		fail(ErrShape, "Concat: no inputs")
	}
	for _, v := range vs {
		tp.check("Concat", v)
	}
	s0 := vs[0].value.Shape()
	ax := axisOf("Concat", axis, s0)
	total := 0
	for _, v := range vs {
		s := v.value.Shape()
		ok := len(s) == len(s0)
		for d := 0; ok && d < len(s); d++ {
			ok = d == ax || s[d] == s0[d]
		}
		if !ok {
			fail(ErrShape, "Concat: shape %v does not match %v except along axis %d", s, s0, ax)
		}
		total += s[ax]
	}
	outer, _, inner := split(s0, ax)
	tp.shp = append(tp.shp[:0], s0...)
	tp.shp[ax] = total
	out := tp.alloc(tp.shp...)
	o := out.Data()
	off := 0
	for _, v := range vs {
		x, _ := tp.contig(v.value)
		w := v.value.Shape()[ax] * inner
		for i := range outer {
			copy(o[i*total*inner+off:i*total*inner+off+w], x[i*w:i*w+w])
		}
		off += w
	}
	nd := newNode[concatNode[T]](tp, concatKey)
	nd.axis = ax
	nd.xs = append(nd.xs[:0], vs...)
	r := tp.record("Concat", nd, out, nil, nil, nil)
	if !tp.noGrad {
		for _, v := range vs {
			r.requiresGrad = r.requiresGrad || v.requiresGrad
		}
	}
	return r
}

// concatNode is the saved state of Concat.
type concatNode[T tensor.Float] struct {
	xs   []*Var[T]
	axis int
}

var concatKey = newPoolKey()

// clearRefs drops the inputs and keeps the slice's capacity.
func (n *concatNode[T]) clearRefs() {
	clear(n.xs)
	n.xs = n.xs[:0]
}

func (n *concatNode[T]) backward(tp *Tape[T], u *Var[T]) {
	g := u.grad.Data()
	outer, total, inner := split(u.value.Shape(), n.axis)
	off := 0
	for _, v := range n.xs {
		w := v.value.Shape()[n.axis] * inner
		if v.requiresGrad {
			ga, acc := tp.grad(v)
			for i := range outer {
				src := g[i*total*inner+off : i*total*inner+off+w]
				dst := ga[i*w : i*w+w]
				if acc {
					addAcc(dst, src)
				} else {
					copy(dst, src)
				}
			}
		}
		off += w
	}
}

// Permute returns a with its axes reordered: axis i of the result is axis
// axes[i] of a (PyTorch's permute, NumPy's transpose), copied into a
// contiguous buffer so that the products that follow read it in place.
// Backward scatters the adjoint back through the inverse permutation in
// one pass. It panics (ErrShape) unless axes is a permutation of
// 0..rank−1.
func (tp *Tape[T]) Permute(a *Var[T], axes ...int) *Var[T] {
	tp.check("Permute", a)
	shape := a.value.Shape()
	nd := len(shape)
	if len(axes) != nd || nd > maxPoolDims {
		fail(ErrShape, "Permute: axes %v for shape %v (want a permutation of 0..%d, rank <= %d)", slices.Clone(axes), shape, nd-1, maxPoolDims)
	}
	var seen [maxPoolDims]bool
	for _, ax := range axes {
		if ax < 0 || ax >= nd || seen[ax] {
			fail(ErrShape, "Permute: axes %v for shape %v is not a permutation of 0..%d", slices.Clone(axes), shape, nd-1)
		}
		seen[ax] = true
	}
	tp.shp = tp.shp[:0]
	for _, ax := range axes {
		tp.shp = append(tp.shp, shape[ax])
	}
	x, _ := tp.contig(a.value)
	out := tp.alloc(tp.shp...)
	var perm [maxPoolDims]int
	copy(perm[:], axes)
	permuteCopy(out.Data(), x, shape, perm[:nd], false, false)
	n := newNode[permuteNode[T]](tp, permuteKey)
	n.x, n.perm = a, perm
	return tp.record("Permute", n, out, a, nil, nil)
}

// permuteNode is the saved state of Permute: axis i of the output is
// axis perm[i] of x.
type permuteNode[T tensor.Float] struct {
	x    *Var[T]
	perm [maxPoolDims]int
}

var permuteKey = newPoolKey()

func (n *permuteNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !n.x.requiresGrad {
		return
	}
	ga, acc := tp.grad(n.x)
	sh := n.x.value.Shape()
	permuteCopy(ga, u.grad.Data(), sh, n.perm[:len(sh)], acc, true)
}

// permuteCopy moves elements between x (contiguous, shape inShape) and its
// permutation y (contiguous, axis i of y is axis perm[i] of x). Forward
// (reverse false) writes y = dst from x = src; reverse writes x = dst from
// y = src, adding when acc. It walks y in order with an odometer over x's
// strides, the innermost axis a plain strided loop.
func permuteCopy[T tensor.Float](dst, src []T, inShape []int, perm []int, acc, reverse bool) {
	nd := len(inShape)
	if nd == 0 {
		put(dst, 0, acc, src[0])
		return
	}
	var inStride, ys, xs [maxPoolDims]int
	s := 1
	for i := nd - 1; i >= 0; i-- {
		inStride[i] = s
		s *= inShape[i]
	}
	if s == 0 {
		return
	}
	for i, ax := range perm {
		ys[i] = inShape[ax]
		xs[i] = inStride[ax]
	}
	var idx [maxPoolDims]int
	last := ys[nd-1]
	ls := xs[nd-1]
	yo, xo := 0, 0
	for yo < s {
		switch {
		case !reverse:
			row, off := dst[yo:yo+last], xo
			for j := range row {
				row[j] = src[off]
				off += ls
			}
		case acc:
			row, off := src[yo:yo+last], xo
			for _, g := range row {
				dst[off] += g
				off += ls
			}
		default:
			row, off := src[yo:yo+last], xo
			for _, g := range row {
				dst[off] = g
				off += ls
			}
		}
		yo += last
		// Advance the odometer over the outer axes.
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			xo += xs[d]
			if idx[d] < ys[d] {
				break
			}
			xo -= idx[d] * xs[d]
			idx[d] = 0
		}
	}
}
