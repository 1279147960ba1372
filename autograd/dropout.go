package autograd

import (
	"math"
	"math/rand/v2"
)

// Dropout zeroes each element of x with probability p and scales the rest
// by 1/(1 − p) (inverted dropout, so evaluation needs no rescaling and is
// simply not calling Dropout). The mask is drawn from rng, one Float64 per
// element in row-major order (an element is dropped when the draw is < p),
// so a seeded rng gives the same mask every run; it is saved for backward,
// x̄ += ȳ ⊙ mask. p = 1 drops everything (zeros, as PyTorch). It panics
// (ErrMisuse) if p is outside [0, 1] or NaN, or rng is nil.
func (tp *Tape[T]) Dropout(x *Var[T], p float64, rng *rand.Rand) *Var[T] {
	tp.check("Dropout", x)
	if !(p >= 0 && p <= 1) || math.IsNaN(p) {
		fail(ErrMisuse, "Dropout: p %v is not in [0, 1]", p)
	}
	if rng == nil {
		fail(ErrMisuse, "Dropout: nil rng")
	}
	xd, _ := tp.contig(x.value)
	out := tp.allocLike(x.value)
	mask := tp.allocLike(x.value)
	md, y := mask.Data(), out.Data()
	scale := T(0)
	if p < 1 {
		scale = T(1 / (1 - p))
	}
	for i, v := range xd {
		k := scale
		if rng.Float64() < p {
			k = 0
		}
		md[i] = k
		y[i] = v * k
	}
	r := tp.node(opDropout, out, x, nil, nil)
	r.aux = mask
	return r
}

func (tp *Tape[T]) backDropout(u *Var[T]) {
	if !u.a.requiresGrad {
		return
	}
	gx, acc := tp.grad(u.a)
	m, g := u.aux.Data(), u.grad.Data()
	if acc {
		for i, v := range g {
			gx[i] += v * m[i]
		}
	} else {
		for i, v := range g {
			gx[i] = v * m[i]
		}
	}
}
