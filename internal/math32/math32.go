package math32

import "math"

// Constants shared by the scalar code, the slice loops and (as literals) the
// assembly generator in /_asm/math32/amd64. Polynomial coefficients were fitted for minimax
// relative error (Lawson's iteration over Chebyshev nodes) and then rounded
// to float32; the tests measure the resulting error, they do not assume it.
const (
	log2e = 1.4426950216293335 // float32(1/ln 2)

	// ln 2 split so that k*ln2Hi is exact for |k| < 256: ln2Hi keeps 16
	// significant bits, ln2Lo = float32(ln 2 - ln2Hi).
	ln2Hi = 0.693145751953125
	ln2Lo = 1.428606765330187e-06

	// magic = 1.5*2^23. Adding it to a float32 of magnitude < 2^22 rounds
	// to an integer (nearest even) and leaves that integer in the low
	// mantissa bits.
	magic = 12582912.0

	// Exp input clamps. Above expMax the result overflows whatever the
	// rounding (e^89 > MaxFloat32); below expMin it rounds to zero
	// (e^-104 < 2^-150, half the smallest subnormal). Clamping there keeps
	// the exponent arithmetic in range without a branch.
	expMax = 89.0
	expMin = -104.0

	// e^r = 1 + r + r^2*(e0 + r*(e1 + r*(e2 + r*(e3 + r*e4)))) on
	// |r| <= ln2/2: minimax relative error 3.3e-9 before rounding.
	e0 = 0.4999999403953552
	e1 = 0.16666515171527863
	e2 = 0.04166845604777336
	e3 = 0.008369418792426586
	e4 = 0.0013813144760206342

	// log(1+f) = f - f^2/2 + s*(f^2/2 + z*(l0 + z*(l1 + z*l2))) with
	// s = f/(2+f), z = s^2, for 1+f in [sqrt(1/2), sqrt(2)): minimax
	// relative error 9.7e-10 before rounding.
	l0 = 0.6666679382324219
	l1 = 0.3997533619403839
	l2 = 0.2993497848510742

	// tanh(x) = x + x^3*(t0 + z*(t1 + z*(t2 + z*(t3 + z*t4)))), z = x^2,
	// for |x| < tanhSmall: minimax relative error 4.9e-9 before rounding.
	// Above tanhSmall, 1 - 2/(e^2|x| + 1) loses less than one ulp to
	// cancellation.
	tanhSmall = 0.625
	t0        = -0.33333277702331543
	t1        = 0.13331303000450134
	t2        = -0.05372752994298935
	t3        = 0.02059786580502987
	t4        = -0.005657474510371685

	// sqrt(1/2) as float32 bits: Log splits x = 2^k * m with m in
	// [sqrt(1/2), sqrt(2)).
	sqrtHalfBits = 0x3f3504f3
)

// Exp returns e**x, within 1 ulp of the correctly rounded result.
//
// Special cases: Exp(+Inf) = +Inf, Exp(-Inf) = 0, Exp(NaN) = NaN; results
// above MaxFloat32 are +Inf and results below the smallest subnormal round
// to 0, with gradual underflow in between.
func Exp(x float32) float32 {
	if x != x {
		return x
	}
	return expFinite(x)
}

// expFinite is Exp for a non-NaN x (±Inf allowed).
func expFinite(x float32) float32 {
	x = min(max(x, expMin), expMax)
	// x = n*ln2 + r, |r| <= ln2/2 (a hair more when the two roundings in
	// t tie the other way; the polynomial was fitted 1% wider).
	t := x*log2e + magic
	n := int32(math.Float32bits(t) - math.Float32bits(magic))
	nf := t - magic
	r := x - nf*ln2Hi // exact: nf*ln2Hi is exact and within a factor 2 of x
	r -= nf * ln2Lo
	p := 1 + (r + r*r*(e0+r*(e1+r*(e2+r*(e3+r*e4)))))
	// Scale by 2^n in two halves so both factors are normal for every n in
	// [-150, 129]: p*2^n1 is exact and the second product rounds once,
	// which gives correctly rounded overflow and gradual underflow.
	n1 := n >> 1
	n2 := n - n1
	return p * pow2(n1) * pow2(n2)
}

// pow2 returns 2^k for k in [-126, 127].
func pow2(k int32) float32 { return math.Float32frombits(uint32(k+127) << 23) }

// Log returns the natural logarithm of x, within 1 ulp.
//
// Special cases: Log(+Inf) = +Inf, Log(±0) = -Inf, Log(x < 0) = NaN,
// Log(NaN) = NaN. Subnormal x is handled exactly.
func Log(x float32) float32 {
	b := math.Float32bits(x)
	k := int32(0)
	// One unsigned compare catches everything but positive normal finite x.
	if b-0x00800000 >= 0x7f800000-0x00800000 {
		switch {
		case b<<1 == 0:
			return math.Float32frombits(0xff800000) // -Inf
		case b>>31 != 0:
			return math.Float32frombits(0x7fc00000) // NaN
		case b >= 0x7f800000: // +Inf or NaN
			return x
		}
		// Subnormal: scale into the normal range.
		b = math.Float32bits(x * (1 << 23))
		k = -23
	}
	// Move the mantissa boundary from 1 to sqrt(1/2) so m lands in
	// [sqrt(1/2), sqrt(2)) and f = m-1 is small on both sides of 1.
	b += 0x3f800000 - sqrtHalfBits
	k += int32(b>>23) - 127
	m := math.Float32frombits(b&0x007fffff + sqrtHalfBits)
	f := m - 1
	s := f / (2 + f)
	z := s * s
	hfsq := 0.5 * f * f
	rr := z * (l0 + z*(l1+z*l2))
	kf := float32(k)
	return kf*ln2Hi + (f - (hfsq - (s*(hfsq+rr) + kf*ln2Lo)))
}

// Tanh returns the hyperbolic tangent of x, within 1 ulp (2 documented).
//
// Special cases: Tanh(±0) = ±0, Tanh(±Inf) = ±1, Tanh(NaN) = NaN.
func Tanh(x float32) float32 {
	a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	if a < tanhSmall {
		z := x * x
		y := x + x*z*(t0+z*(t1+z*(t2+z*(t3+z*t4))))
		// x^3*P has the opposite sign to x, so for x = -0 the sum is
		// +0; OR-ing x's sign back in fixes that and changes nothing else.
		return math.Float32frombits(math.Float32bits(y) | math.Float32bits(x)&(1<<31))
	}
	if a != a {
		return x
	}
	e := expFinite(2 * a)
	t := 1 - 2/(e+1)
	return math.Float32frombits(math.Float32bits(t) | math.Float32bits(x)&(1<<31))
}

// Sigmoid returns 1/(1+e**-x), within 2 ulp, computed without overflow for
// either sign: with e = e**-|x|, it is 1/(1+e) for x >= 0 and e/(1+e) for
// x < 0.
//
// Special cases: Sigmoid(+Inf) = 1, Sigmoid(-Inf) = 0, Sigmoid(NaN) = NaN.
func Sigmoid(x float32) float32 {
	if x != x {
		return x
	}
	a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	e := expFinite(-a)
	num := float32(1)
	if x < 0 {
		num = e
	}
	return num / (1 + e)
}
