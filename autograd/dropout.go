package autograd

import (
	"math"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/tensor"
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
	n := newNode[dropoutNode[T]](tp, dropoutKey)
	n.x, n.mask = x, mask
	return tp.record("Dropout", n, out, x, nil, nil)
}

// dropoutNode is the saved state of Dropout: the mask, 0 or 1/(1 − p)
// per element.
type dropoutNode[T tensor.Float] struct {
	x    *Var[T]
	mask *tensor.Dense[T]
}

var dropoutKey = newPoolKey()

func (n *dropoutNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !n.x.requiresGrad {
		return
	}
	gx, acc := tp.grad(n.x)
	m, g := n.mask.Data(), u.grad.Data()
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
