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
// to T (within an ulp of PyTorch's float32 kernel). GeluErf(−Inf) is NaN
// (−Inf·0), as PyTorch's.
func GeluErf[T Float](x T) T {
	v := float64(x)
	return T(0.5 * v * (1 + math.Erf(v*(1/math.Sqrt2))))
}

// GeluErfGrad returns the derivative of GeluErf, Φ(x) + x·φ(x), computed
// in float64. Where φ(x) underflows to 0 the second term is taken as 0, so
// ±Inf give the limits 1 and 0 (PyTorch gives NaN there).
func GeluErfGrad[T Float](x T) T {
	return T(geluErfGrad64(float64(x)))
}

func geluErfGrad64(v float64) float64 {
	cdf := 0.5 * (1 + math.Erf(v*(1/math.Sqrt2)))
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

// GeluErfSlice sets dst[i] = GeluErf(src[i]).
func GeluErfSlice[T Float](dst, src []T) {
	d := dst[:len(src)]
	for i, v := range src {
		d[i] = GeluErf(v)
	}
}

// GeluErfBackward sets dst[i] = gy[i]·GeluErfGrad(x[i]), or adds it with
// acc.
func GeluErfBackward[T Float](dst, gy, x []T, acc bool) {
	d, g := dst[:len(x)], gy[:len(x)]
	for i, v := range x {
		t := g[i] * GeluErfGrad(v)
		if acc {
			d[i] += t
		} else {
			d[i] = t
		}
	}
}
