package math32

import "math"

// The slice functions write dst[i] for i < len(src) and leave the rest of dst
// alone. They panic (wrapping ErrLength) if len(dst) < len(src), before
// writing anything. dst may be src itself (in-place); other overlaps are not
// allowed.
//
// On amd64 the bulk of the slice goes through AVX-512 or AVX2+FMA kernels
// (kernels_amd64.s), on arm64 through NEON kernels (kernels_arm64.s), and
// the last partial vector through the same kernel on a padded copy, so every element gets the same bits wherever it sits in the
// slice. Elsewhere, or with -tags purego, they loop over the scalar
// functions. Both stay within the ulp bounds documented on the package.

// ExpSlice sets dst[i] = Exp(src[i]) for every i < len(src).
func ExpSlice(dst, src []float32) {
	checkLen("ExpSlice", dst, src)
	if vecKernel(kExp, dst, src) {
		return
	}
	expGeneric(dst[:len(src)], src)
}

// LogSlice sets dst[i] = Log(src[i]) for every i < len(src).
func LogSlice(dst, src []float32) {
	checkLen("LogSlice", dst, src)
	if vecKernel(kLog, dst, src) {
		return
	}
	logGeneric(dst[:len(src)], src)
}

// TanhSlice sets dst[i] = Tanh(src[i]) for every i < len(src).
func TanhSlice(dst, src []float32) {
	checkLen("TanhSlice", dst, src)
	if vecKernel(kTanh, dst, src) {
		return
	}
	tanhGeneric(dst[:len(src)], src)
}

// SigmoidSlice sets dst[i] = Sigmoid(src[i]) for every i < len(src).
func SigmoidSlice(dst, src []float32) {
	checkLen("SigmoidSlice", dst, src)
	if vecKernel(kSigmoid, dst, src) {
		return
	}
	sigmoidGeneric(dst[:len(src)], src)
}

// kernel names the vectorised functions for vecKernel.
type kernel int

const (
	kExp kernel = iota
	kTanh
	kSigmoid
	kLog
	kGeluErf // AVX2 only (float64 lanes), also at the AVX-512 level
)

// expGeneric is Exp over a slice with the body written out, so there is no
// call per element (expFinite is too big for the inliner).
func expGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		if x != x {
			dst[i] = x
			continue
		}
		if x < expMin {
			x = expMin
		}
		if x > expMax {
			x = expMax
		}
		t := x*log2e + magic
		n := int32(math.Float32bits(t) - math.Float32bits(magic))
		nf := t - magic
		r := x - nf*ln2Hi
		r -= nf * ln2Lo
		p := 1 + (r + r*r*(e0+r*(e1+r*(e2+r*(e3+r*e4)))))
		n1 := n >> 1
		dst[i] = p * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n-n1+127)<<23)
	}
}

func logGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = Log(x)
	}
}

// genericBlock is how many elements tanhGeneric and sigmoidGeneric pass
// through expGeneric at a time (a stack buffer that stays in L1).
const genericBlock = 256

// tanhGeneric is Tanh over a slice, bit for bit: the exponentials of a block
// go through expGeneric's call-free loop, then each element is finished.
func tanhGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	var e [genericBlock]float32
	for len(src) > 0 {
		n := min(len(src), genericBlock)
		for i, x := range src[:n] {
			e[i] = 2 * math.Float32frombits(math.Float32bits(x)&^(1<<31))
		}
		expGeneric(e[:n], e[:n])
		for i, x := range src[:n] {
			var y float32
			if a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31)); a < tanhSmall {
				z := x * x
				y = x + x*z*(t0+z*(t1+z*(t2+z*(t3+z*t4))))
			} else {
				y = 1 - 2/(e[i]+1) // NaN stays NaN
			}
			dst[i] = math.Float32frombits(math.Float32bits(y) | math.Float32bits(x)&(1<<31))
		}
		src, dst = src[n:], dst[n:]
	}
}

// sigmoidGeneric is Sigmoid over a slice, bit for bit, organised like
// tanhGeneric.
func sigmoidGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	var e [genericBlock]float32
	for len(src) > 0 {
		n := min(len(src), genericBlock)
		for i, x := range src[:n] {
			e[i] = math.Float32frombits(math.Float32bits(x) | 1<<31) // -|x|
		}
		expGeneric(e[:n], e[:n])
		for i, x := range src[:n] {
			num := float32(1)
			if x < 0 {
				num = e[i]
			}
			dst[i] = num / (1 + e[i])
		}
		src, dst = src[n:], dst[n:]
	}
}
