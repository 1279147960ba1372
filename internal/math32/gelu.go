package math32

import "math"

// The exact GELU, x·Φ(x) with Φ the standard normal CDF, PyTorch's
// F.gelu(x) (approximate='none'). Φ comes from erfc rather than 1 + erf,
// which cancels to nothing for negative x:
//
//	Φ(x) = 1 − h for x > 0, h otherwise,  h = ½·erfc(|x|/√2)
//	erfc(z) = t·exp(P(t) − z²),  t = 1/(1 + z/2)
//
// P a degree-9 polynomial fitted to log(erfc(z)/t) + z² on Chebyshev nodes
// of t ∈ [1/6, 1] (z ≤ 10; beyond, the result underflows float32), with
// relative error below 5e-8 (bench/torch/erfc_fit.py makes the fit).
// Everything is evaluated in float64, so z² = x²/2 is exact and the only
// errors are the fit's and the final rounding: within 2 ulp of
// float32(x·Φ(x)) computed with math.Erfc. The AVX2 kernel evaluates the
// same steps in float64 lanes, its exponential a degree-11 polynomial
// (relative error below 1e-14) in place of math.Exp.

// ErfcPoly are P's coefficients, lowest degree first. internal/mathx's
// GELU derivative shares them.
var ErfcPoly = [10]float64{-1.265448006591733, 0.998632954532302, 0.3866391833832013,
	0.03460742792147017, 0.0012578628906115355, -0.08026978742926955,
	-0.6962551703448039, 1.1567287970637576, -0.6808218474208099, 0.1449286328200341}

// Constants of GeluErf shared (as literals) with /_asm/math32/amd64.
const (
	// geluHalfInvSqrt2 is 1/(2√2): t = 1/(1 + |x|·geluHalfInvSqrt2).
	geluHalfInvSqrt2 = 0.35355339059327373
	// geluExpMin clamps P(t) − z² from below so the kernel's 2^k stays a
	// normal float64; e^-708·t/2 is far below float32's smallest subnormal.
	geluExpMin = -708.0
)

// GeluErf returns x·Φ(x), within 2 ulp of the correctly rounded result.
// GeluErf(+Inf) = +Inf, GeluErf(−Inf) = NaN (−Inf·0, as PyTorch), NaN
// gives NaN, and ±0 keep their sign.
func GeluErf(x float32) float32 {
	v := float64(x)
	t := 1 / (1 + math.Abs(v)*geluHalfInvSqrt2)
	p := ErfcPoly[9]
	for k := 8; k >= 0; k-- {
		p = p*t + ErfcPoly[k]
	}
	h := 0.5 * t * math.Exp(max(p-0.5*v*v, geluExpMin))
	if !math.Signbit(v) {
		h = 1 - h
	}
	return float32(v * h)
}

// GeluErfSlice sets dst[i] = GeluErf(src[i]) for every i < len(src), with
// the AVX2 kernel where the CPU has it (also at the AVX-512 level).
func GeluErfSlice(dst, src []float32) {
	checkLen("GeluErfSlice", dst, src)
	if vecKernel(kGeluErf, dst, src) {
		return
	}
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = GeluErf(x)
	}
}
