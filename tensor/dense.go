package tensor

import (
	"math"
	"slices"
	"unsafe"
)

// Float is the element type constraint of Dense.
type Float interface{ ~float32 | ~float64 }

// Dense is an N-dimensional array of T. Element (i0, i1, ...) lives at
// data[offset + i0*strides[0] + i1*strides[1] + ...]. Views made by Reshape,
// Transpose, Slice and friends share data with the tensor they came from.
//
// The zero value is not usable; make tensors with New, Zeros, FromSlice and
// the other constructors.
type Dense[T Float] struct {
	data    []T
	shape   []int
	strides []int
	offset  int
}

// New returns a zero-filled contiguous (row-major) tensor of the given shape.
// A tensor with no dimensions is a scalar holding one element. It panics
// with ErrShape if a dimension is negative or the shape holds more elements
// than a slice of T can (see MaxElements).
func New[T Float](shape ...int) *Dense[T] {
	n := checkShape[T]("New", shape)
	return &Dense[T]{data: make([]T, n), shape: slices.Clone(shape), strides: rowMajor(shape)}
}

// Zeros is New.
func Zeros[T Float](shape ...int) *Dense[T] { return New[T](shape...) }

// FromSlice returns a contiguous tensor of the given shape that uses data as
// its storage (no copy). It panics with ErrShape if len(data) differs from
// the product of the shape, or the shape is invalid as for New.
func FromSlice[T Float](data []T, shape ...int) *Dense[T] {
	n := checkShape[T]("FromSlice", shape)
	if len(data) != n {
		fail(ErrShape, "FromSlice: %d elements for shape %v (needs %d)", len(data), shape, n)
	}
	return &Dense[T]{data: data, shape: slices.Clone(shape), strides: rowMajor(shape)}
}

// MaxElements returns the largest element count, and the largest product
// of a shape's non-zero dimensions, that a tensor of T may have: the
// largest slice length whose size in bytes fits an int. Beyond it a
// product of dimensions or a stride would overflow (New(1<<62+1, 4)
// wrapped round to 4 elements).
func MaxElements[T Float]() int { return math.MaxInt / int(unsafe.Sizeof(T(0))) }

// shapeElems returns the element count of shape, and ok false if a
// dimension is negative or the product of the non-zero dimensions exceeds
// max (so no stride overflows either, even in a shape that holds a zero).
func shapeElems(shape []int, max int) (n int, ok bool) {
	n, nz := 1, 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
			continue
		}
		if nz > max/d {
			return 0, false
		}
		nz *= d
		n *= d
	}
	return n, true
}

// checkShape panics for a shape CheckShape refuses for T (too many
// dimensions, a negative dimension, too large) and returns the element
// count.
func checkShape[T Float](op string, shape []int) int {
	n, ok := shapeElems(shape, MaxElements[T]())
	if !ok || len(shape) > MaxRank {
		if len(shape) > MaxRank {
			fail(ErrShape, "%s: shape %s has %d dimensions, more than MaxRank %d", op, FormatShape(shape), len(shape), MaxRank)
		}
		for _, d := range shape {
			if d < 0 {
				fail(ErrShape, "%s: negative dimension in shape %s", op, FormatShape(shape))
			}
		}
		fail(ErrShape, "%s: shape %s has more than %d elements (the most a %T slice can hold)", op, FormatShape(shape), MaxElements[T](), T(0))
	}
	return n
}

// notNil panics with ErrShape, naming op and the argument, if t is nil:
// a clear message instead of a nil-pointer dereference deep inside.
func notNil[T Float](op, arg string, t *Dense[T]) {
	if t == nil {
		fail(ErrShape, "%s: %s is nil", op, arg)
	}
}

// shapeOf returns a's shape after checking that a is not nil.
func shapeOf[T Float](op string, a *Dense[T]) []int {
	notNil(op, "a", a)
	return a.shape
}

// rowMajor returns the strides of a contiguous row-major tensor.
func rowMajor(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// Shape returns the dimensions. The slice must not be modified.
func (t *Dense[T]) Shape() []int { return t.shape }

// Strides returns the element strides. The slice must not be modified.
func (t *Dense[T]) Strides() []int { return t.strides }

// Offset returns the index in the backing slice of the first element.
func (t *Dense[T]) Offset() int { return t.offset }

// Dims returns the number of dimensions (0 for a scalar).
func (t *Dense[T]) Dims() int { return len(t.shape) }

// Size returns the number of elements.
func (t *Dense[T]) Size() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// IsContiguous reports whether the elements are laid out row-major without
// gaps, so that Data returns them in order.
func (t *Dense[T]) IsContiguous() bool {
	s := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != s {
			return false
		}
		s *= t.shape[i]
	}
	return true
}

// Data returns the elements of a contiguous tensor, in row-major order, as a
// slice of the backing storage (writes through it change the tensor). It
// panics if the tensor is not contiguous; use Contiguous first.
func (t *Dense[T]) Data() []T {
	if !t.IsContiguous() {
		fail(ErrNotContiguous, "Data: tensor of shape %v with strides %v is not contiguous", t.shape, t.strides)
	}
	return t.data[t.offset : t.offset+t.Size() : t.offset+t.Size()]
}

// Contiguous returns t itself if it is contiguous, otherwise a contiguous
// copy.
func (t *Dense[T]) Contiguous() *Dense[T] {
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// Clone returns a contiguous copy of t that shares nothing with it.
func (t *Dense[T]) Clone() *Dense[T] {
	c := New[T](t.shape...)
	c.Copy(t)
	return c
}

// index returns the backing-slice position of the element at idx, panicking
// with op's name if idx has the wrong length or is out of range.
func (t *Dense[T]) index(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		fail(ErrIndex, "%s: %d indices for shape %v", op, len(idx), t.shape)
	}
	p := t.offset
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			fail(ErrIndex, "%s: index %v out of range for shape %v", op, slices.Clone(idx), t.shape)
		}
		p += x * t.strides[i]
	}
	return p
}

// At returns the element at the given indices, one per dimension. It panics
// if an index is out of range.
func (t *Dense[T]) At(idx ...int) T { return t.data[t.index("At", idx)] }

// Set stores v at the given indices. It panics if an index is out of range.
func (t *Dense[T]) Set(v T, idx ...int) { t.data[t.index("Set", idx)] = v }

// Copy copies src into t element by element. It panics with ErrShape if
// the shapes differ and with ErrOverlap if src overlaps t without being the
// same view.
func (t *Dense[T]) Copy(src *Dense[T]) {
	unaryOp(opCopy, "Copy", 0, t, src)
}

// offsetOf is index without checks.
func (t *Dense[T]) offsetOf(idx []int) int {
	p := t.offset
	for i, x := range idx {
		p += x * t.strides[i]
	}
	return p
}

// next advances a row-major multi-index over shape.
func next(idx, shape []int) {
	for i := len(idx) - 1; i >= 0; i-- {
		idx[i]++
		if idx[i] < shape[i] {
			return
		}
		idx[i] = 0
	}
}
