// Package mathx is the one home of the elementwise formulas that tensor,
// autograd and nn share: exp, log, tanh, sigmoid and GELU (both PyTorch's
// exact form through erf and the tanh approximation, each named so), as
// scalar functions and slice kernels, generic over ~float32 | ~float64.
//
// float32 takes internal/math32's functions (the slice forms its
// vectorised kernels), float64 the standard library's. Each formula is
// written once here; callers keep only their choice of how to split work
// across threads and which bulk goes through the slice kernels.
//
// The slice functions write dst[i] for i < len(src) and panic if dst is
// shorter; dst may be src itself.
package mathx

import (
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/math32"
)

// Float is the element types of the package's functions.
type Float interface{ ~float32 | ~float64 }

func is32[T Float]() bool { return unsafe.Sizeof(T(0)) == 4 }

func f32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func f64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// Exp returns eˣ in T's own precision (float32: within 1 ulp).
func Exp[T Float](x T) T {
	if is32[T]() {
		return T(math32.Exp(float32(x)))
	}
	return T(math.Exp(float64(x)))
}

// Log returns the natural logarithm of x in T's own precision.
func Log[T Float](x T) T {
	if is32[T]() {
		return T(math32.Log(float32(x)))
	}
	return T(math.Log(float64(x)))
}

// Tanh returns tanh x in T's own precision.
func Tanh[T Float](x T) T {
	if is32[T]() {
		return T(math32.Tanh(float32(x)))
	}
	return T(math.Tanh(float64(x)))
}

// Sigmoid returns 1/(1 + e⁻ˣ) without overflow for either sign: with
// e = e^−|x|, 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0.
func Sigmoid[T Float](x T) T {
	if is32[T]() {
		return T(math32.Sigmoid(float32(x)))
	}
	v := float64(x)
	if v >= 0 {
		return T(1 / (1 + math.Exp(-v)))
	}
	e := math.Exp(v)
	return T(e / (1 + e))
}

// ExpSlice sets dst[i] = Exp(src[i]).
func ExpSlice[T Float](dst, src []T) {
	if is32[T]() {
		math32.ExpSlice(f32(dst), f32(src))
		return
	}
	d := f64(dst)[:len(src)]
	for i, v := range f64(src) {
		d[i] = math.Exp(v)
	}
}

// LogSlice sets dst[i] = Log(src[i]).
func LogSlice[T Float](dst, src []T) {
	if is32[T]() {
		math32.LogSlice(f32(dst), f32(src))
		return
	}
	d := f64(dst)[:len(src)]
	for i, v := range f64(src) {
		d[i] = math.Log(v)
	}
}

// TanhSlice sets dst[i] = Tanh(src[i]).
func TanhSlice[T Float](dst, src []T) {
	if is32[T]() {
		math32.TanhSlice(f32(dst), f32(src))
		return
	}
	d := f64(dst)[:len(src)]
	for i, v := range f64(src) {
		d[i] = math.Tanh(v)
	}
}

// SigmoidSlice sets dst[i] = Sigmoid(src[i]).
func SigmoidSlice[T Float](dst, src []T) {
	if is32[T]() {
		math32.SigmoidSlice(f32(dst), f32(src))
		return
	}
	d := dst[:len(src)]
	for i, v := range src {
		d[i] = Sigmoid(v)
	}
}
