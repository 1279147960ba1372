package mathx

import (
	"math"

	"github.com/adjoint-go/adjoint/internal/math32"
)

// GELU (Hendrycks and Gimpel), x·Φ(x) with Φ the standard normal CDF, in
// PyTorch's two forms: GeluErf is the exact one (torch.nn.GELU() and
// F.gelu(x), approximate='none'), GeluTanh the tanh approximation
// (approximate='tanh', GPT-2's):
//
//	GeluErf(x)  = x/2 · (1 + erf(x/√2))
//	GeluTanh(x) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))
//
// The two differ by up to about 5e-4 (near |x| = 2).

// The tanh approximation's constants.
const (
	geluC = 0.7978845608028654 // √(2/π)
	geluK = 0.044715
)

// 1/√(2π), for Φ′ = φ.
const invSqrt2Pi = 0.3989422804014327

// GeluTanh returns the tanh approximation of GELU, in T's precision.
func GeluTanh[T Float](x T) T {
	t := Tanh(T(geluC) * (x + T(geluK)*x*x*x))
	return T(0.5) * x * (1 + t)
}

// GeluTanhGrad returns the derivative of GeluTanh at x.
func GeluTanhGrad[T Float](x T) T {
	t := Tanh(T(geluC) * (x + T(geluK)*x*x*x))
	return T(0.5)*(1+t) + T(0.5)*x*(1-t*t)*T(geluC)*(1+3*T(geluK)*x*x)
}

// GeluErf returns the exact GELU, x·Φ(x), computed in float64 and rounded
// to T. GeluErf(−Inf) is NaN (−Inf·0), as PyTorch's.
func GeluErf[T Float](x T) T {
	v := float64(x)
	return T(v * phi(v))
}

// phi is Φ(v) = ½·erfc(−v/√2): through erfc rather than 1 + erf(v/√2),
// which cancels to nothing for negative v (PyTorch's formula gives −0 at
// v = −8.4, where x·Φ(x) is −2.3e-16).
func phi(v float64) float64 { return 0.5 * math.Erfc(-v*(1/math.Sqrt2)) }

// GeluErfGrad returns the derivative of GeluErf, Φ(x) + x·φ(x), computed
// in float64. Where φ(x) underflows to 0 the second term is taken as 0, so
// ±Inf give the limits 1 and 0 (PyTorch gives NaN there).
func GeluErfGrad[T Float](x T) T {
	return T(geluErfGrad64(float64(x)))
}

func geluErfGrad64(v float64) float64 {
	cdf := phi(v)
	p := math.Exp(-0.5 * v * v)
	if p == 0 {
		return cdf
	}
	return cdf + v*p*invSqrt2Pi
}

// geluBlock is how many float32 elements the GeluTanh slice kernels put
// through the vector tanh at a time (a stack buffer that stays in L1).
const geluBlock = 256

// GeluTanhSlice sets dst[i] = GeluTanh(src[i]); float32 takes the tanh
// through math32's vector kernel a block at a time (the same formula,
// several times faster than a scalar tanh per element).
func GeluTanhSlice[T Float](dst, src []T) {
	if !is32[T]() {
		d := dst[:len(src)]
		for i, v := range src {
			d[i] = GeluTanh(v)
		}
		return
	}
	d32, x32 := f32(dst)[:len(src)], f32(src)
	var buf [geluBlock]float32
	for lo := 0; lo < len(x32); lo += geluBlock {
		xs := x32[lo:min(lo+geluBlock, len(x32))]
		s, ds := buf[:len(xs)], d32[lo:lo+len(xs)]
		for i, v := range xs {
			s[i] = geluC * (v + geluK*v*v*v)
		}
		math32.TanhSlice(s, s)
		for i, v := range xs {
			ds[i] = 0.5 * v * (1 + s[i])
		}
	}
}

// GeluTanhBackward sets dst[i] = gy[i]·GeluTanhGrad(x[i]), or adds it with
// acc; float32 takes the tanh through the vector kernel as GeluTanhSlice.
func GeluTanhBackward[T Float](dst, gy, x []T, acc bool) {
	if !is32[T]() {
		d, g := dst[:len(x)], gy[:len(x)]
		for i, v := range x {
			t := g[i] * GeluTanhGrad(v)
			if acc {
				d[i] += t
			} else {
				d[i] = t
			}
		}
		return
	}
	ga, gh, x32 := f32(dst)[:len(x)], f32(gy)[:len(x)], f32(x)
	var buf [geluBlock]float32
	for lo := 0; lo < len(x32); lo += geluBlock {
		xs := x32[lo:min(lo+geluBlock, len(x32))]
		s, gs, hs := buf[:len(xs)], ga[lo:lo+len(xs)], gh[lo:lo+len(xs)]
		for i, v := range xs {
			s[i] = geluC * (v + geluK*v*v*v)
		}
		math32.TanhSlice(s, s)
		for i, v := range xs {
			t := s[i]
			g := hs[i] * (0.5*(1+t) + 0.5*v*(1-t*t)*geluC*(1+3*geluK*v*v))
			if acc {
				gs[i] += g
			} else {
				gs[i] = g
			}
		}
	}
}

// GeluErfSlice sets dst[i] = GeluErf(src[i]). float32 takes
// math32.GeluErfSlice (the erfc fit below, in float64 lanes of an AVX2
// kernel where the CPU has one), within 2 ulp of GeluErf; float64 is
// GeluErf itself.
func GeluErfSlice[T Float](dst, src []T) {
	if !is32[T]() {
		d := dst[:len(src)]
		for i, v := range src {
			d[i] = GeluErf(v)
		}
		return
	}
	math32.GeluErfSlice(f32(dst), f32(src))
}

// GeluErfBackward sets dst[i] = gy[i]·GeluErfGrad(x[i]), or adds it with
// acc; float32 as GeluErfSlice.
func GeluErfBackward[T Float](dst, gy, x []T, acc bool) {
	if !is32[T]() {
		d, g := dst[:len(x)], gy[:len(x)]
		for i, v := range x {
			t := g[i] * GeluErfGrad(v)
			if acc {
				d[i] += t
			} else {
				d[i] = t
			}
		}
		return
	}
	ga, gh, x32 := f32(dst)[:len(x)], f32(gy)[:len(x)], f32(x)
	var b erfcBlock
	for lo := 0; lo < len(x32); lo += geluBlock {
		xs := x32[lo:min(lo+geluBlock, len(x32))]
		b.run(xs, true)
		gs, hs := ga[lo:lo+len(xs)], gh[lo:lo+len(xs)]
		for i, v := range xs {
			g := b.cdf(i, v)
			if p := b.pdf(i); p != 0 {
				g += float64(v) * p
			}
			t := hs[i] * float32(g)
			if acc {
				gs[i] += t
			} else {
				gs[i] = t
			}
		}
	}
}

// erfcBlock computes Φ (and φ) for a block of float32 inputs with the
// exponentials through math32's vector kernel:
//
//	erfc(z) = t·exp(−z² + P(t)),  t = 1/(1 + z/2),  z = |x|/√2 ≥ 0
//
// P a degree-9 polynomial fitted to log(erfc(z)/t) + z² on Chebyshev
// nodes of t ∈ [1/6, 1] (z ≤ 10; beyond, the result underflows float32),
// with relative error below 5e-8 (the fit is made by
// bench/torch/erfc_fit.py; math32.GeluErf documents the same formula). The exponent is computed in float64 and
// split into a float32 head, exponentiated by the vector kernel, and a
// tail r, applied as 1 + r, so the large −z² loses nothing to float32.
type erfcBlock struct {
	e, ep  [geluBlock]float32 // exp(head) of −z² + P(t), of −x²/2
	r, rp  [geluBlock]float64 // the tails
	t      [geluBlock]float64
	n      int
	hasPDF bool
}

// erfcP are P's coefficients, lowest degree first: math32's, which its
// GeluErf (the float32 forward) evaluates.
var erfcP = math32.ErfcPoly

// split returns a's float32 head and its float64 tail (0 where a is
// infinite).
func split(a float64) (float32, float64) {
	h := float32(a)
	r := a - float64(h)
	if r != r {
		r = 0
	}
	return h, r
}

func (b *erfcBlock) run(x []float32, pdf bool) {
	b.n, b.hasPDF = len(x), pdf
	for i, v := range x {
		z2 := 0.5 * float64(v) * float64(v) // exact: v has 24 bits
		z := math.Abs(float64(v)) * (1 / math.Sqrt2)
		t := 1 / (1 + 0.5*z)
		p := erfcP[9]
		for k := 8; k >= 0; k-- {
			p = p*t + erfcP[k]
		}
		b.t[i] = t
		b.e[i], b.r[i] = split(p - z2)
		if pdf {
			b.ep[i], b.rp[i] = split(-z2)
		}
	}
	math32.ExpSlice(b.e[:b.n], b.e[:b.n])
	if pdf {
		math32.ExpSlice(b.ep[:b.n], b.ep[:b.n])
	}
}

// cdf returns Φ(v) for element i of the block (v = x[i]).
func (b *erfcBlock) cdf(i int, v float32) float64 {
	h := 0.5 * b.t[i] * float64(b.e[i]) * (1 + b.r[i]) // ½·erfc(|v|/√2)
	if v > 0 {
		return 1 - h
	}
	if v != v {
		return float64(v)
	}
	return h
}

// pdf returns φ(x[i]).
func (b *erfcBlock) pdf(i int) float64 {
	return invSqrt2Pi * float64(b.ep[i]) * (1 + b.rp[i])
}
