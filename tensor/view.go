package tensor

import "slices"

// view returns a tensor sharing t's storage with the given layout.
func (t *Dense[T]) view(shape, strides []int, offset int) *Dense[T] {
	return &Dense[T]{data: t.data, shape: shape, strides: strides, offset: offset}
}

// axisIndex resolves a possibly negative axis (−1 is the last) against rank
// r, panicking with ErrIndex if it is out of range.
func axisIndex(op string, axis, r int) int {
	a := axis
	if a < 0 {
		a += r
	}
	if a < 0 || a >= r {
		fail(ErrIndex, "%s: axis %d out of range for rank %d", op, axis, r)
	}
	return a
}

// Reshape returns a view of t with the given shape, sharing storage. One
// dimension may be −1, inferred from the others. It panics with ErrShape if
// the element count differs, and with ErrNotContiguous if t is not
// contiguous (call Contiguous first; Reshape never copies).
func (t *Dense[T]) Reshape(shape ...int) *Dense[T] {
	if len(shape) > MaxRank {
		fail(ErrShape, "Reshape: shape %s has %d dimensions, more than MaxRank %d", FormatShape(shape), len(shape), MaxRank)
	}
	s := slices.Clone(shape)
	infer, n, nz := -1, 1, 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			fail(ErrShape, "Reshape: bad dimension in %v", shape)
		default:
			if d != 0 {
				if nz > MaxElements[T]()/d {
					// The product would wrap round (and might match the size).
					fail(ErrShape, "Reshape: shape %v has more than %d elements", shape, MaxElements[T]())
				}
				nz *= d
			}
			n *= d
		}
	}
	size := t.Size()
	if infer >= 0 {
		if n == 0 || size%n != 0 {
			fail(ErrShape, "Reshape: cannot reshape %v (%d elements) to %v", t.shape, size, shape)
		}
		s[infer] = size / n
		n = size
	}
	if n != size {
		fail(ErrShape, "Reshape: cannot reshape %v (%d elements) to %v", t.shape, size, shape)
	}
	if !t.IsContiguous() {
		fail(ErrNotContiguous, "Reshape: tensor of shape %v with strides %v is not contiguous", t.shape, t.strides)
	}
	return t.view(s, rowMajor(s), t.offset)
}

// T returns the transpose of a 2-D tensor as a view (strides swapped). It
// panics with ErrShape if t is not 2-D.
func (t *Dense[T]) T() *Dense[T] {
	if len(t.shape) != 2 {
		fail(ErrShape, "T: tensor of shape %v is not 2-D", t.shape)
	}
	return t.view([]int{t.shape[1], t.shape[0]}, []int{t.strides[1], t.strides[0]}, t.offset)
}

// Permute returns a view whose dimension i is t's dimension axes[i]. axes
// must be a permutation of 0..Dims()−1 (ErrIndex otherwise).
func (t *Dense[T]) Permute(axes ...int) *Dense[T] {
	r := len(t.shape)
	if len(axes) != r {
		fail(ErrIndex, "Permute: %d axes for shape %v", len(axes), t.shape)
	}
	shape, strides := make([]int, r), make([]int, r)
	seen := make([]bool, r)
	for i, a := range axes {
		if a < 0 || a >= r || seen[a] {
			fail(ErrIndex, "Permute: axes %v are not a permutation of %d dimensions", axes, r)
		}
		seen[a] = true
		shape[i], strides[i] = t.shape[a], t.strides[a]
	}
	return t.view(shape, strides, t.offset)
}

// Slice returns the view of elements lo ≤ i < hi along axis (negative axis
// counts from the end). It panics with ErrIndex unless 0 ≤ lo ≤ hi ≤ the
// dimension.
func (t *Dense[T]) Slice(axis, lo, hi int) *Dense[T] {
	a := axisIndex("Slice", axis, len(t.shape))
	if lo < 0 || hi < lo || hi > t.shape[a] {
		fail(ErrIndex, "Slice: range [%d, %d) out of bounds for axis %d of shape %v", lo, hi, axis, t.shape)
	}
	shape := slices.Clone(t.shape)
	shape[a] = hi - lo
	off := t.offset
	if hi > lo {
		off += lo * t.strides[a]
	}
	return t.view(shape, slices.Clone(t.strides), off)
}

// Squeeze returns a view without axis, which must have size 1 (ErrShape).
func (t *Dense[T]) Squeeze(axis int) *Dense[T] {
	a := axisIndex("Squeeze", axis, len(t.shape))
	if t.shape[a] != 1 {
		fail(ErrShape, "Squeeze: axis %d of shape %v has size %d, not 1", axis, t.shape, t.shape[a])
	}
	return t.view(slices.Delete(slices.Clone(t.shape), a, a+1), slices.Delete(slices.Clone(t.strides), a, a+1), t.offset)
}

// Unsqueeze returns a view with a new dimension of size 1 inserted before
// position axis (0 ≤ axis ≤ Dims(); −1 appends at the end).
func (t *Dense[T]) Unsqueeze(axis int) *Dense[T] {
	a := axisIndex("Unsqueeze", axis, len(t.shape)+1)
	if len(t.shape) >= MaxRank {
		fail(ErrShape, "Unsqueeze: tensor of shape %s already has MaxRank %d dimensions", FormatShape(t.shape), MaxRank)
	}
	st := 1
	if a < len(t.shape) {
		st = t.strides[a] * t.shape[a]
	}
	return t.view(slices.Insert(slices.Clone(t.shape), a, 1), slices.Insert(slices.Clone(t.strides), a, st), t.offset)
}

// BroadcastTo returns a view of t with the given shape under NumPy's
// broadcasting rules: repeated dimensions get stride 0, so the view is
// read-only by convention (writing through it writes the shared elements
// several times). It panics with ErrShape if t does not broadcast to shape.
func (t *Dense[T]) BroadcastTo(shape ...int) *Dense[T] {
	r := len(shape)
	if len(t.shape) > r {
		fail(ErrShape, "BroadcastTo: shape %v does not broadcast to %v", t.shape, shape)
	}
	checkShape[T]("BroadcastTo", shape)
	strides := make([]int, r)
	lead := r - len(t.shape)
	for i := range r {
		if shape[i] < 0 {
			fail(ErrShape, "BroadcastTo: negative dimension in %v", shape)
		}
		j := i - lead
		switch {
		case j < 0:
		case t.shape[j] == shape[i]:
			strides[i] = t.strides[j]
		case t.shape[j] == 1:
		default:
			fail(ErrShape, "BroadcastTo: shape %v does not broadcast to %v", t.shape, shape)
		}
	}
	return t.view(slices.Clone(shape), strides, t.offset)
}
