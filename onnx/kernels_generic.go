package onnx

import (
	"fmt"
	"math"
	"unsafe"
)

// The convolution kernels every platform runs, and the entry points that
// take the assembly (kernels_amd64.go) where there is one.

// dwSlack is the number of floats a depthwise plane keeps readable past
// its end: the vector kernels' last loads of a row run up to 7 past it.
const dwSlack = 8

// dwCheck panics unless the depthwise kernel's reads and writes stay in
// slices of lengths ny and nx (nx less slack).
func dwCheck(ny, nx int, offs []int, oh, ow, ys, xs, slack int) {
	if oh <= 0 || ow <= 0 || len(offs) == 0 {
		panic(fmt.Sprintf("onnx: dw: oh %d, ow %d, %d taps", oh, ow, len(offs)))
	}
	mo := 0
	for _, o := range offs {
		if o < 0 {
			panic(fmt.Sprintf("onnx: dw: negative tap offset %d", o))
		}
		mo = max(mo, o)
	}
	if (oh-1)*ys+ow > ny || (oh-1)*xs+mo+ow+slack > nx {
		panic(fmt.Sprintf("onnx: dw: output %d or plane %d too short for %d×%d (ys %d, xs %d, last tap %d)", ny, nx, oh, ow, ys, xs, mo))
	}
}

// dwRun computes one channel of a depthwise convolution:
//
//	y[r*ys+q] = min(max(b + Σ_t w[t]·x[r*xs+q+offs[t]], lo), hi)
//
// for r < oh, q < ow: x is the channel's padded plane (each output row xs
// floats on, each tap at its offset), w the taps' weights, wb a scratch of
// len(w)+3 floats. The plane has dwSlack floats past its last tap.
func dwRun[T real](y, x, w, wb []T, offs []int, oh, ow, ys, xs int, b, lo, hi T) {
	var z T
	if unsafe.Sizeof(z) == 4 && useAVX2 {
		kk := len(w)
		wb = wb[:kk+3]
		copy(wb, w)
		wb[kk], wb[kk+1], wb[kk+2] = b, lo, hi
		if dwAsm(f32s(y), f32s(x), f32s(wb), offs, oh, ow, ys, xs) {
			return
		}
	}
	dwGeneric(y, x, w, offs, oh, ow, ys, xs, b, lo, hi)
}

func f32s[T real](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// dwGeneric is dwRun in Go: each output sums its taps in a register (a
// 3×3 window unrolled).
func dwGeneric[T real](y, x, w []T, offs []int, oh, ow, ys, xs int, b, lo, hi T) {
	dwCheck(len(y), len(x), offs, oh, ow, ys, xs, 0)
	if len(w) != len(offs) {
		panic("onnx: dwGeneric: weights and taps differ")
	}
	for r := range oh {
		yr := y[r*ys : r*ys+ow]
		xr := x[r*xs:]
		if len(w) == 9 {
			o0, o1, o2, o3, o4, o5, o6, o7, o8 := offs[0], offs[1], offs[2], offs[3], offs[4], offs[5], offs[6], offs[7], offs[8]
			w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
			for q := range yr {
				s := b + w0*xr[q+o0] + w1*xr[q+o1] + w2*xr[q+o2] + w3*xr[q+o3] + w4*xr[q+o4] +
					w5*xr[q+o5] + w6*xr[q+o6] + w7*xr[q+o7] + w8*xr[q+o8]
				yr[q] = min(max(s, lo), hi)
			}
			continue
		}
		for q := range yr {
			s := b
			for t, o := range offs {
				s += w[t] * xr[q+o]
			}
			yr[q] = min(max(s, lo), hi)
		}
	}
}

// clampOf returns the clamp that activation a is (Relu, Clip, none: ±Inf)
// and whether it is one.
func clampOf[T real](a act) (lo, hi T, ok bool) {
	lo, hi = T(math.Inf(-1)), T(math.Inf(1))
	switch a.kind {
	case actNone:
	case actRelu:
		lo = 0
	case actClip:
		lo, hi = T(a.lo), T(a.hi)
	default:
		return lo, hi, false
	}
	return lo, hi, true
}

// The epilogue kernels' activations.
const (
	epiKindClamp = iota
	epiKindLeaky
	epiKindHardSwish
)

// epilogue sets y[i] = a(y[i] + b + r[i]) (r may be nil): a convolution's
// bias, residual and activation in one pass, with the vector kernel where
// there is one.
func epilogue[T real](a act, y, r []T, b T) {
	var z T
	if unsafe.Sizeof(z) == 4 && useAVX2 {
		lo, hi, ok := clampOf[float32](a)
		kind := epiKindClamp
		switch a.kind {
		case actLeaky:
			lo, hi, ok, kind = a.lo, a.hi, true, epiKindLeaky
		case actHardSwish:
			lo, hi, ok, kind = 3, 6, true, epiKindHardSwish
		}
		if ok {
			p := [4]float32{float32(b), lo, hi, a.alpha}
			var rs []float32
			if r != nil {
				rs = f32s(r)
			}
			n := epiAsm(f32s(y), rs, &p, kind)
			y = y[n:]
			if r != nil {
				r = r[n:]
			}
			if len(y) == 0 {
				return
			}
		}
	}
	epilogueGeneric(a, y, r, b)
}

// epilogueGeneric is epilogue in Go.
func epilogueGeneric[T real](a act, y, r []T, b T) {
	if r != nil {
		r = r[:len(y)]
		for i, v := range y {
			y[i] = v + b + r[i]
		}
	} else if b != 0 {
		for i, v := range y {
			y[i] = v + b
		}
	}
	if lo, hi, ok := clampOf[T](a); ok {
		if a.kind != actNone {
			for i, v := range y {
				y[i] = min(max(v, lo), hi)
			}
		}
		return
	}
	applyAct(a, y)
}
