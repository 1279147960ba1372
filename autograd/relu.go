package autograd

import (
	"math"

	"github.com/adjoint-go/adjoint/tensor"
)

// Kernel levels: generic Go, AVX2, AVX-512 on amd64; generic Go, NEON on
// arm64, numbered like AVX2 since the two never meet (asmLevel picks one).
const (
	levelGeneric = iota
	levelAVX2
	levelAVX512

	levelNEON = levelAVX2
)

// Branch-free ReLU kernels. Activations have random signs, so a compare
// and branch per element mispredicts half the time: on the development
// machine that made ReLU ~15 ns per element against ~0.7 ns for these
// sign-mask versions (BenchmarkKernel).

// reluFwd sets d = max(x, 0): the sign bit, smeared, clears negative
// values (and −0) to +0. NaN with the sign bit clear passes through.
func reluFwd[T tensor.Float](d, x []T) {
	if is32[T]() {
		xs, ds := f32(x), f32(d)
		k := asmReluFwd32(ds, xs)
		xs, ds = xs[k:], ds[k:len(xs)]
		for i, v := range xs {
			u := math.Float32bits(v)
			ds[i] = math.Float32frombits(u &^ uint32(int32(u)>>31))
		}
		return
	}
	xs, ds := f64(x), f64(d)
	k := asmReluFwd64(ds, xs)
	xs, ds = xs[k:], ds[k:len(xs)]
	for i, v := range xs {
		u := math.Float64bits(v)
		ds[i] = math.Float64frombits(u &^ uint64(int64(u)>>63))
	}
}

// posMask32 is all ones when the float32 with bits u is > 0 (or +NaN),
// zero otherwise (+0, −0, negative).
func posMask32(u uint32) uint32 {
	s := int32(u)
	return ^uint32(((s - 1) >> 31) | (s >> 31))
}

func posMask64(u uint64) uint64 {
	s := int64(u)
	return ^uint64(((s - 1) >> 63) | (s >> 63))
}

// reluBwd does ga (+)= g where h > 0: the mask from h's bits selects g or
// +0, so relu′(0) = 0.
func reluBwd[T tensor.Float](acc bool, ga, g, h []T) {
	if is32[T]() {
		gs, hs, as := f32(g), f32(h), f32(ga)
		k := asmReluBwd32(acc, as, gs, hs)
		gs, hs, as = gs[k:], hs[k:len(gs)], as[k:len(gs)]
		if acc {
			for i, v := range gs {
				as[i] += math.Float32frombits(math.Float32bits(v) & posMask32(math.Float32bits(hs[i])))
			}
		} else {
			for i, v := range gs {
				as[i] = math.Float32frombits(math.Float32bits(v) & posMask32(math.Float32bits(hs[i])))
			}
		}
		return
	}
	gs, hs, as := f64(g), f64(h), f64(ga)
	k := asmReluBwd64(acc, as, gs, hs)
	gs, hs, as = gs[k:], hs[k:len(gs)], as[k:len(gs)]
	if acc {
		for i, v := range gs {
			as[i] += math.Float64frombits(math.Float64bits(v) & posMask64(math.Float64bits(hs[i])))
		}
	} else {
		for i, v := range gs {
			as[i] = math.Float64frombits(math.Float64bits(v) & posMask64(math.Float64bits(hs[i])))
		}
	}
}

// negBit returns 1 where x has its sign bit set, else 0, without a branch.
func negBit[T tensor.Float](x T) T {
	if is32[T]() {
		return T(math.Float32bits(float32(x)) >> 31)
	}
	return T(math.Float64bits(float64(x)) >> 63)
}

// posBit returns 1 where x > 0, else 0, without a branch.
func posBit[T tensor.Float](x T) T {
	if is32[T]() {
		return T(posMask32(math.Float32bits(float32(x))) & 1)
	}
	return T(posMask64(math.Float64bits(float64(x))) & 1)
}

// addAcc does d += s elementwise (len(d) >= len(s)).
func addAcc[T tensor.Float](d, s []T) {
	var k int
	if is32[T]() {
		k = asmAddAcc32(f32(d), f32(s))
	} else {
		k = asmAddAcc64(f64(d), f64(s))
	}
	d = d[k:len(s)]
	for i, v := range s[k:] {
		d[i] += v
	}
}
