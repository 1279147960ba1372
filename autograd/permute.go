package autograd

import (
	"slices"

	"github.com/adjoint-go/adjoint/tensor"
)

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
	v := tp.node(opPermute, out, a, nil, nil)
	v.labels = append(v.labels[:0], axes...)
	return v
}

func (tp *Tape[T]) backPermute(u *Var[T]) {
	if !u.a.requiresGrad {
		return
	}
	ga, acc := tp.grad(u.a)
	permuteCopy(ga, u.grad.Data(), u.a.value.Shape(), u.labels, acc, true)
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
