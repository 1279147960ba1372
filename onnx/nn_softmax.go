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
	legacy bool    // opset < 13: coerce to 2-D at axis
	jobs   jobList // parallel row loops' argument blocks
	buf    scratch // strided rows' gather buffers
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
		softmaxRun(k, outer, length, inner, x.F32, out[0].F32)
	} else {
		softmaxRun(k, outer, length, inner, x.F64, out[0].F64)
	}
	return nil
}

func softmaxRun[T real](k *softmaxKernel, outer, length, inner int, x, y []T) {
	kind := k.kind
	if outer*length*inner == 0 {
		return
	}
	if inner == 1 {
		a := smArgs[T]{kind: kind, length: length, x: x, y: y}
		if outer*length < smParallelWork && !forceParallel || parallel.Threads() == 1 {
			a.block(0, outer)
		} else {
			forArgs(&k.jobs, outer, max(1, smParallelWork/length), a)
		}
		return
	}
	// Strided rows: gather each into a contiguous buffer.
	bp := getScratch[T](&k.buf, 2*length)
	defer putScratch(&k.buf, bp)
	xs, ys := (*bp)[:length], (*bp)[length:]
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

// logSoftmaxRows is a LogSoftmax whose row loops other kernels borrow
// (SoftmaxCrossEntropyLoss); its job list and scratch are safe for
// concurrent use.
var logSoftmaxRows = &softmaxKernel{kind: smLog}

// smParallelWork is the least number of elements Softmax splits over
// threads, and the elements a chunk takes at least.
const smParallelWork = 1 << 14

// smArgs is a Softmax's arguments over contiguous rows; block computes
// rows [lo, hi).
type smArgs[T real] struct {
	kind, length int
	x, y         []T
}

func (a smArgs[T]) block(lo, hi int) {
	n := a.length
	for r := lo; r < hi; r++ {
		softmaxRow(a.kind, a.x[r*n:(r+1)*n], a.y[r*n:(r+1)*n])
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
