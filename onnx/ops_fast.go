package onnx

import (
	"math"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// Fast paths for the elementwise ops that dominate imported models: float
// Add/Sub/Mul/Div through tensor's fused, parallel broadcasting kernels;
// Exp/Log/Tanh through math32's vector kernels; Erf in float32.

// tensorArith computes o = a op b with tensor's kernels for float storage.
// It reports false when it does not apply (empty or scalar operands).
func tensorArith(op string, a, b, o *Tensor, shape []int) bool {
	if o.Size() == 0 || len(a.Shape) == 0 && len(b.Shape) == 0 {
		return false
	}
	if useAVX2 && a.DType.Storage() == StoreF32 && b.DType.Storage() == StoreF32 && rowArith(op, a, b, o, shape) {
		return true
	}
	switch a.DType.Storage() {
	case StoreF32:
		denseArith(op, tensor.FromSlice(o.F32, shape...), tensor.FromSlice(a.F32, a.Shape...), tensor.FromSlice(b.F32, b.Shape...))
	case StoreF64:
		denseArith(op, tensor.FromSlice(o.F64, shape...), tensor.FromSlice(a.F64, a.Shape...), tensor.FromSlice(b.F64, b.Shape...))
	default:
		return false
	}
	return true
}

func denseArith[T float32 | float64](op string, d, a, b *tensor.Dense[T]) {
	switch op {
	case "Add":
		d.Add(a, b)
	case "Sub":
		d.Sub(a, b)
	case "Mul":
		d.Mul(a, b)
	case "Div":
		d.Div(a, b)
	}
}

// grain is the element count below which elementwise loops stay serial.
const grain = 1 << 14

// unaryF32 runs a float32 slice function in parallel chunks.
func unaryF32(dst, src []float32, f func(dst, src []float32)) {
	if len(src) < 2*grain {
		f(dst, src) // serial: no closure to allocate
		return
	}
	d, s, g := dst, src, f // only this branch moves anything to the heap
	parallel.For(len(s), grain, func(lo, hi int) { g(d[lo:hi], s[lo:hi]) })
}

func erfSlice(dst, src []float32) {
	for i, x := range src {
		dst[i] = erfFloat32(x)
	}
}

// erfFloat32 (the Erf op) is erf with about 1e-7 relative error: the Maclaurin series below
// |x| = 0.5, and above it 1 - erfc(|x|) with the Chebyshev fit of erfc from
// Numerical Recipes (fractional error below 1.2e-7), in float64.
func erfFloat32(x float32) float32 {
	ax := float64(x)
	if ax < 0 {
		ax = -ax
	}
	if ax != ax {
		return x
	}
	if ax < 0.5 {
		z := x * x
		// 2/sqrt(pi) * (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320)
		p := float32(-1.0 / 1320)
		p = p*z + 1.0/216
		p = p*z - 1.0/42
		p = p*z + 1.0/10
		p = p*z - 1.0/3
		p = p*z + 1
		return 1.1283791670955126 * x * p
	}
	if ax >= 6 {
		return float32(math.Copysign(1, float64(x)))
	}
	t := 1 / (1 + 0.5*ax)
	erfc := t * math.Exp(-ax*ax-1.26551223+t*(1.00002368+t*(0.37409196+t*(0.09678418+
		t*(-0.18628806+t*(0.27886807+t*(-1.13520398+t*(1.48851587+t*(-0.82215223+t*0.17087277)))))))))
	return float32(math.Copysign(1-erfc, float64(x)))
}

// rowArith computes o = a op b in float32 with the vector kernels where
// one operand has the output's shape and the other has it too or is a
// row broadcast over it (its shape the output's trailing dimensions, with
// leading ones: a bias, a residual): the cases of transformer blocks,
// without the tensor views that tensor's kernels take (three allocations
// each). It reports false for any other broadcast.
func rowArith(op string, a, b, o *Tensor, shape []int) bool {
	n := o.Size()
	args := rowArithArgs{op: op, d: o.F32, a: a.F32, b: b.F32}
	switch fa, fb := eqInts(a.Shape, shape), eqInts(b.Shape, shape); {
	case fa && fb:
		args.cols, args.as, args.bs = arithChunk, arithChunk, arithChunk
	case fa && isRowOf(b.Shape, shape):
		args.cols, args.as = b.Size(), b.Size()
	case fb && isRowOf(a.Shape, shape):
		args.cols, args.bs = a.Size(), a.Size()
	default:
		return false
	}
	if args.cols == 0 {
		return false
	}
	rows := (n + args.cols - 1) / args.cols
	if n < 2*grain {
		args.block(0, rows)
		return true
	}
	forArgs(&arithJobs, rows, max(1, grain/args.cols), args)
	return true
}

// arithChunk is the unit rowArith splits same-shape operands into.
const arithChunk = 4096

// arithJobs holds rowArith's parallel argument blocks.
var arithJobs jobList

// isRowOf reports whether shape s, less leading ones, is the trailing
// part of shape.
func isRowOf(s, shape []int) bool {
	for len(s) > 0 && s[0] == 1 {
		s = s[1:]
	}
	if len(s) > len(shape) {
		return false
	}
	return eqInts(s, shape[len(shape)-len(s):])
}

type rowArithArgs struct {
	op      string
	d, a, b []float32
	cols    int
	as, bs  int // a's and b's step per row: 0 for the broadcast row
}

func (r rowArithArgs) block(lo, hi int) {
	for i := lo; i < hi; i++ {
		d0, d1 := i*r.cols, min((i+1)*r.cols, len(r.d))
		d := r.d[d0:d1]
		a := r.a[i*r.as : i*r.as+len(d)]
		b := r.b[i*r.bs : i*r.bs+len(d)]
		k := arithAsm(r.op, d, a, b)
		d, a, b = d[k:], a[k:], b[k:]
		switch r.op {
		case "Add":
			for j := range d {
				d[j] = a[j] + b[j]
			}
		case "Sub":
			for j := range d {
				d[j] = a[j] - b[j]
			}
		case "Mul":
			for j := range d {
				d[j] = a[j] * b[j]
			}
		case "Div":
			for j := range d {
				d[j] = a[j] / b[j]
			}
		}
	}
}
