package math32

// Row reductions for softmax and LayerNorm. On amd64 with AVX2 (also at
// the AVX-512 level) the first len&^7 elements go through kernels that keep
// 16 partial results (two 8-lane accumulators, 16 elements a step, an odd
// last 8 into the first) and combine them in a fixed order; the portable
// loops below follow that order exactly, so every implementation gives the
// same bits. The last len%8 elements are then added one at a time in Go.
// ExpShiftSum's exponentials are Exp's, within its 1 ulp bound (the vector
// and portable exponentials may differ in the last bit).

// Max returns the largest element of x, NaN if any element is NaN.
// It panics if x is empty.
func Max(x []float32) float32 {
	if len(x) == 0 {
		panic("math32: Max of an empty slice")
	}
	body := len(x) &^ 7
	var m float32
	if body > 0 {
		if r, ok := maxVec(x[:body]); ok {
			m = r
		} else {
			m = maxLanes(x[:body])
		}
	} else {
		m = x[0]
	}
	for _, v := range x[body:] {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

// maxLanes is maxAVX2's loop in Go (max is exact, so only NaN matters).
func maxLanes(x []float32) float32 {
	m := x[0]
	for _, v := range x {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

// Sum returns the sum of x's elements in the order described above.
func Sum(x []float32) float32 {
	body := len(x) &^ 7
	var s float32
	if body > 0 {
		if r, ok := sumVec(x[:body]); ok {
			s = r
		} else {
			var a lanes
			for i := 0; i < body; i += 8 {
				a.add(i, x[i:i+8])
			}
			s = a.reduce()
		}
	}
	for _, v := range x[body:] {
		s += v
	}
	return s
}

// SumSqDiff returns the sum of (x[i] − c)², each term a multiply and an
// add (no fused multiply-add), in the order described above.
func SumSqDiff(x []float32, c float32) float32 {
	body := len(x) &^ 7
	var s float32
	if body > 0 {
		if r, ok := sumSqDiffVec(x[:body], c); ok {
			s = r
		} else {
			var a lanes
			var d [8]float32
			for i := 0; i < body; i += 8 {
				for l, v := range x[i : i+8] {
					t := v - c
					d[l] = t * t
				}
				a.add(i, d[:])
			}
			s = a.reduce()
		}
	}
	for _, v := range x[body:] {
		t := v - c
		s += t * t
	}
	return s
}

// ExpShiftSum sets dst[i] = Exp(src[i] − shift) for i < len(src) and
// returns their sum in the order described above: softmax's exponentials
// and denominator in one pass. It panics if dst is shorter than src.
func ExpShiftSum(dst, src []float32, shift float32) float32 {
	checkLen("ExpShiftSum", dst, src)
	dst = dst[:len(src)]
	body := len(src) &^ 7
	var s float32
	if body > 0 {
		if r, ok := expShiftSumVec(dst[:body], src[:body], shift); ok {
			s = r
		} else {
			for i, v := range src[:body] {
				dst[i] = v - shift
			}
			expGeneric(dst[:body], dst[:body])
			var a lanes
			for i := 0; i < body; i += 8 {
				a.add(i, dst[i:i+8])
			}
			s = a.reduce()
		}
	}
	for i := body; i < len(src); i++ {
		e := Exp(src[i] - shift)
		dst[i] = e
		s += e
	}
	return s
}

// NormAffine sets dst[i] = ((x[i] − mu)·inv)·scale[i] + bias[i] for
// i < len(x) (LayerNorm's last pass), without fused multiply-adds. bias may
// be nil (no bias). It panics if dst, scale or a non-nil bias is shorter
// than x.
func NormAffine(dst, x, scale, bias []float32, mu, inv float32) {
	n := len(x)
	if len(dst) < n || len(scale) < n || bias != nil && len(bias) < n {
		panic("math32: NormAffine: dst, scale or bias shorter than x")
	}
	dst, scale = dst[:n], scale[:n]
	body := 0
	if bias != nil {
		bias = bias[:n]
		body = normAffineVec(dst, x, scale, bias, mu, inv)
	}
	for i := body; i < n; i++ {
		t := (x[i] - mu) * inv * scale[i]
		if bias != nil {
			t += bias[i]
		}
		dst[i] = t
	}
}

// Scale sets dst[i] = x[i]·a for i < len(x) (one rounding each, so the
// same bits as the loop): softmax's last pass. It panics if dst is
// shorter than x.
func Scale(dst, x []float32, a float32) {
	checkLen("Scale", dst, x)
	dst = dst[:len(x)]
	body := scaleVec(dst, x, a)
	for i := body; i < len(x); i++ {
		dst[i] = x[i] * a
	}
}

// lanes mirrors the kernels' two 8-lane accumulators.
type lanes struct{ a0, a1 [8]float32 }

// add accumulates the 8 values v at element offset i (a multiple of 8):
// the 16-element steps alternate accumulators; an odd last 8 goes to the
// first, as in the kernel (offset i%16 == 8 only ever goes to a1 inside a
// full step, and a trailing 8 starts at a multiple of 16).
func (a *lanes) add(i int, v []float32) {
	acc := &a.a0
	if i%16 == 8 {
		acc = &a.a1
	}
	for l := range acc {
		acc[l] += v[l]
	}
}

// reduce combines the lanes as the kernels do: a0+a1, then l+(l+4), then
// l+(l+2), then 0+1.
func (a *lanes) reduce() float32 {
	var v [8]float32
	for l := range v {
		v[l] = a.a0[l] + a.a1[l]
	}
	b0, b1, b2, b3 := v[0]+v[4], v[1]+v[5], v[2]+v[6], v[3]+v[7]
	return (b0 + b2) + (b1 + b3)
}
