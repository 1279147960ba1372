package onnx

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/parallel"
)

// Softmax, LogSoftmax and Hardmax. The axis means different things by
// opset: before 13 the input is coerced to a matrix at axis (dimensions
// before it are rows, from it on are one row; default axis 1); from 13 on
// the op runs along that one axis (default −1). Both are rows of a
// (outer, length, inner) view: before 13 inner is 1.

func init() {
	for _, op := range []struct {
		name string
		kind int
	}{{"Softmax", smSoftmax}, {"LogSoftmax", smLog}, {"Hardmax", smHard}} {
		kind := op.kind
		Register("", op.name, 1, Latest, func(n *Node) (Kernel, error) { return newSoftmax(n, kind) })
	}
}

const (
	smSoftmax = iota
	smLog
	smHard
)

type softmaxKernel struct {
	kind   int
	axis   int
	legacy bool // opset < 13: coerce to 2-D at axis
}

func newSoftmax(n *Node, kind int) (Kernel, error) {
	k := &softmaxKernel{kind: kind, legacy: n.Opset < 13}
	def := int64(-1)
	if k.legacy {
		def = 1
	}
	k.axis = int(n.Int("axis", def))
	return k, n.Err()
}

var softmaxNames = [...]string{"Softmax", "LogSoftmax", "Hardmax"}

func (k *softmaxKernel) Run(in, out []*Tensor) error {
	x := in[0]
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("%s: element type %v: %w", softmaxNames[k.kind], x.DType, ErrUnsupported)
	}
	r := x.Rank()
	ax := k.axis
	if ax < 0 {
		ax += r
	}
	if ax < 0 || ax >= max(r, 1) {
		return fmt.Errorf("%s: axis %d out of range for shape %v", softmaxNames[k.kind], k.axis, x.Shape)
	}
	outer, length, inner := 1, 1, 1
	for i, d := range x.Shape {
		switch {
		case i < ax:
			outer *= d
		case i == ax || k.legacy:
			length *= d
		default:
			inner *= d
		}
	}
	out[0].Reset(x.DType, x.Shape)
	if f32 {
		softmaxRun(k.kind, outer, length, inner, x.F32, out[0].F32)
	} else {
		softmaxRun(k.kind, outer, length, inner, x.F64, out[0].F64)
	}
	return nil
}

func softmaxRun[T real](kind, outer, length, inner int, x, y []T) {
	if outer*length*inner == 0 {
		return
	}
	if inner == 1 {
		body := func(lo, hi int) {
			for r := lo; r < hi; r++ {
				softmaxRow(kind, x[r*length:(r+1)*length], y[r*length:(r+1)*length])
			}
		}
		if outer*length < 1<<14 || parallel.Threads() == 1 {
			body(0, outer)
		} else {
			parallel.For(outer, max(1, (1<<14)/length), body)
		}
		return
	}
	// Strided rows: gather each into a contiguous buffer.
	buf := make([]T, 2*length)
	xs, ys := buf[:length], buf[length:]
	for o := range outer {
		for i := range inner {
			base := o*length*inner + i
			for j := range length {
				xs[j] = x[base+j*inner]
			}
			softmaxRow(kind, xs, ys)
			for j := range length {
				y[base+j*inner] = ys[j]
			}
		}
	}
}

// softmaxRow computes one row: softmax, log-softmax or hardmax (1 at the
// first maximum, 0 elsewhere).
func softmaxRow[T real](kind int, x, y []T) {
	y = y[:len(x)]
	if kind == smSoftmax && len(x) > 0 && unsafe.Sizeof(x[0]) == 4 {
		// float32: the maximum, then exp(x − max) and its sum in one
		// pass of math32's row kernels, then the scaling.
		x32, y32 := as32(x), as32(y)
		inv := 1 / math32.ExpShiftSum(y32, x32, math32.Max(x32))
		for i := range y32 {
			y32[i] *= inv
		}
		return
	}
	m, at := x[0], 0
	for i, v := range x {
		if v > m {
			m, at = v, i
		}
	}
	switch kind {
	case smHard:
		clear(y)
		y[at] = 1
		return
	case smLog:
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v - m))
		}
		ls := T(math.Log(s))
		for i, v := range x {
			y[i] = v - m - ls
		}
		return
	}
	for i, v := range x {
		y[i] = v - m
	}
	var s T
	if unsafe.Sizeof(s) == 4 {
		y32 := as32(y)
		math32.ExpSlice(y32, y32)
		for _, v := range y {
			s += v
		}
	} else {
		for i, v := range y {
			e := T(math.Exp(float64(v)))
			y[i] = e
			s += e
		}
	}
	inv := 1 / s
	for i := range y {
		y[i] *= inv
	}
}
