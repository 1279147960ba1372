package onnx

import (
	"fmt"
	"math"
)

// take sets o[i] = x[idx[i]] for every i; o must already have x's storage
// type and len(idx) elements.
func take(o, x *Tensor, idx []int) {
	switch x.DType.Storage() {
	case StoreF32:
		takeInto(o.F32, x.F32, idx)
	case StoreF64:
		takeInto(o.F64, x.F64, idx)
	case StoreI64:
		takeInto(o.I64, x.I64, idx)
	case StoreBool:
		takeInto(o.B, x.B, idx)
	case StoreStr:
		takeInto(o.S, x.S, idx)
	}
}

func takeInto[T any](o, x []T, idx []int) {
	for i, j := range idx {
		o[i] = x[j]
	}
}

// setAll sets every element of s to v.
func setAll[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// nextIndex advances the row-major multi-index ctr within shape by one
// element, wrapping to all zeros after the last.
func nextIndex(ctr, shape []int) {
	for d := len(ctr) - 1; d >= 0; d-- {
		if ctr[d]++; ctr[d] < shape[d] {
			return
		}
		ctr[d] = 0
	}
}

// copyRange copies n elements from x[xi:] to o[oi:] (same storage type).
func copyRange(o *Tensor, oi int, x *Tensor, xi, n int) {
	switch x.DType.Storage() {
	case StoreF32:
		copy(o.F32[oi:oi+n], x.F32[xi:xi+n])
	case StoreF64:
		copy(o.F64[oi:oi+n], x.F64[xi:xi+n])
	case StoreI64:
		copy(o.I64[oi:oi+n], x.I64[xi:xi+n])
	case StoreBool:
		copy(o.B[oi:oi+n], x.B[xi:xi+n])
	case StoreStr:
		copy(o.S[oi:oi+n], x.S[xi:xi+n])
	}
}

// setElem copies element xi of x to element oi of o (same storage type).
func setElem(o *Tensor, oi int, x *Tensor, xi int) { copyRange(o, oi, x, xi, 1) }

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// strides returns row-major element strides of shape.
func strides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// intsInput reads an integer tensor input as []int (nil for an absent input).
func intsInput(t *Tensor, what string) ([]int, error) {
	if t == nil {
		return nil, nil
	}
	v, err := t.Ints()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// checkShapeSize rejects a requested output shape with negative dims or
// more than maxElems elements (shape inputs are data).
const maxElems = math.MaxInt32

func checkShapeSize(shape []int) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", cp(shape))
		}
		if d != 0 && n > maxElems/d {
			return fmt.Errorf("shape %v has too many elements", cp(shape))
		}
		n *= d
	}
	return nil
}

func scalarOf(t *Tensor, what string) (float64, error) {
	if t.Size() != 1 {
		return 0, fmt.Errorf("%s has shape %v, want a scalar", what, t.Shape)
	}
	return t.Float64At(0), nil
}

// The *To helpers below append to dst (pass a slice of a local [8]int
// array) so hot kernels compute shapes without allocating.

// broadcastTo2 appends the broadcast of shapes a and b to dst[:0].
func broadcastTo2(dst []int, a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	dst = dst[:0]
	for i := range r {
		x, y := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			y = b[j]
		}
		switch {
		case x == y || y == 1:
			dst = append(dst, x)
		case x == 1:
			dst = append(dst, y)
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", cp(a), cp(b))
		}
	}
	return dst, nil
}

// binaryShape checks that a and b have one element type and appends their
// broadcast shape to dst[:0].
func binaryShape(dst []int, a, b *Tensor) ([]int, error) {
	if a.DType != b.DType {
		return nil, fmt.Errorf("input types %v and %v differ", a.DType, b.DType)
	}
	return broadcastTo2(dst, a.Shape, b.Shape)
}

// stridesTo appends the element strides for reading shape in as out
// (its broadcast) to dst[:0]: 0 on broadcast axes.
func stridesTo(dst []int, in, out []int) []int {
	dst = dst[:0]
	for range out {
		dst = append(dst, 0)
	}
	off := len(out) - len(in)
	s := 1
	for i := len(in) - 1; i >= 0; i-- {
		if in[i] != 1 {
			dst[off+i] = s
		}
		s *= in[i]
	}
	return dst
}

// rowStridesTo appends shape's row-major strides to dst[:0].
func rowStridesTo(dst []int, shape []int) []int { return stridesTo(dst, shape, shape) }

// intsTo appends the integer tensor t's values to dst[:0] (nil, nil when t
// is nil).
func intsTo(dst []int, t *Tensor, what string) ([]int, error) {
	if t == nil {
		return nil, nil
	}
	if t.DType.Storage() != StoreI64 {
		return nil, fmt.Errorf("%s: expected an integer tensor, got %v", what, t.DType)
	}
	dst = dst[:0]
	for _, v := range t.I64 {
		// Saturate where int is 32 bits: exporters write INT64_MAX and
		// INT64_MIN as "to the end" slice bounds.
		dst = append(dst, int(max(min(v, math.MaxInt), math.MinInt)))
	}
	return dst, nil
}

// intsArg returns a list that opsets before 13 give as an attribute (attr,
// when fromAttr) and later ones as input 1 (appended to dst[:0]; nil when
// absent): Squeeze's and Unsqueeze's axes, the reductions' axes, Split's
// split.
func intsArg(dst, attr []int, fromAttr bool, in []*Tensor, what string) ([]int, error) {
	if fromAttr {
		return attr, nil
	}
	return intsTo(dst, Input(in, 1), what)
}

// cp copies a slice for an error message, so that formatting it does not
// make a caller's stack buffer escape to the heap.
func cp[T any](s []T) []T { return append([]T(nil), s...) }

// squeezeShape appends shape without the listed axes (each of size 1;
// every size-1 axis when axes is nil) to dst[:0]: Squeeze's output shape,
// for the kernel and the taped op alike.
func squeezeShape(dst, shape, axes []int) ([]int, error) {
	var db [8]bool
	drop := append(db[:0], make([]bool, len(shape))...)
	if axes == nil {
		for i, d := range shape {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		a, err := normAxis(a, len(shape))
		if err != nil {
			return nil, err
		}
		if shape[a] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of shape %v", a, cp(shape))
		}
		drop[a] = true
	}
	dst = dst[:0]
	for i, d := range shape {
		if !drop[i] {
			dst = append(dst, d)
		}
	}
	return dst, nil
}

// unsqueezeShape appends shape with a 1 inserted at each of the axes (of
// the output's rank) to dst[:0]: Unsqueeze's output shape.
func unsqueezeShape(dst, shape, axes []int) ([]int, error) {
	var ib [8]bool
	r := len(shape) + len(axes)
	ins := append(ib[:0], make([]bool, r)...)
	for _, a := range axes {
		a, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if ins[a] {
			return nil, fmt.Errorf("axis %d repeated", a)
		}
		ins[a] = true
	}
	dst = dst[:0]
	j := 0
	for i := range r {
		if ins[i] {
			dst = append(dst, 1)
		} else {
			dst = append(dst, shape[j])
			j++
		}
	}
	return dst, nil
}

// sliceAxis resolves ONNX's slice bounds over one dimension of size d, as
// Slice, Shape's start and end, and the taped Slice read them: start b and
// end e count from the end when negative and are clamped (to [0, d] for a
// positive step s, to [-1, d-1] for a negative one). It returns the first
// index and the number of elements taken.
func sliceAxis(b, e, s, d int) (begin, n int) {
	if b < 0 {
		b += d
	}
	if e < 0 {
		e += d
	}
	if s > 0 {
		b, e = clampInt(b, 0, d), clampInt(e, 0, d)
		return b, max(0, (e-b+s-1)/s)
	}
	b, e = clampInt(b, -1, d-1), clampInt(e, -1, d-1)
	return b, max(0, (b-e-s-1)/(-s))
}

// splitSizes checks or fills in Split's part sizes over a dimension of
// size d into nout outputs, appending to dst[:0] when split is nil:
// num_outputs (numOutputs > 0, opset 18) gives parts of ⌈d/nout⌉ with a
// smaller last one, otherwise d must divide evenly. A given split must
// have nout non-negative sizes that sum to d.
func splitSizes(dst, split []int, d, nout, numOutputs int) ([]int, error) {
	if split == nil {
		split = append(dst[:0], make([]int, nout)...)
		if numOutputs > 0 {
			c := (d + numOutputs - 1) / numOutputs
			rest := d
			for i := range split {
				split[i] = min(c, rest)
				rest -= split[i]
			}
		} else {
			if nout == 0 || d%nout != 0 {
				return nil, fmt.Errorf("dimension %d does not split in %d", d, nout)
			}
			for i := range split {
				split[i] = d / nout
			}
		}
	}
	if len(split) != nout {
		return nil, fmt.Errorf("split %v for %d outputs", cp(split), nout)
	}
	sum := 0
	for _, s := range split {
		if s < 0 {
			return nil, fmt.Errorf("negative split %v", cp(split))
		}
		sum += s
	}
	if sum != d {
		return nil, fmt.Errorf("split %v does not sum to %d", cp(split), d)
	}
	return split, nil
}
