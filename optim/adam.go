package optim

import (
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// AdamConfig configures Adam and AdamW. The zero value of a field means its
// default.
type AdamConfig struct {
	LR          float64  // learning rate; default 1e-3
	Beta1       float64  // β₁ in [0, 1); default 0.9
	Beta2       float64  // β₂ in [0, 1); default 0.999
	Eps         float64  // ε; default 1e-8
	WeightDecay float64  // λ: L2 for Adam (default 0), decoupled for AdamW (default 0.01)
	Schedule    Schedule // if set, overrides LR at every step
}

// Adam is the optimiser of Kingma and Ba (2015), and with decoupled weight
// decay AdamW (Loshchilov and Hutter, 2019), as in PyTorch's torch.optim.
// Per element, at step t = 1, 2, ... with g the gradient and p the
// parameter:
//
//	g ← g + λ·p                      (Adam only)
//	p ← p·(1 − lr·λ)                 (AdamW only)
//	m ← β₁·m + (1 − β₁)·g
//	v ← β₂·v + (1 − β₂)·g²
//	p ← p − lr·m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
type Adam[T tensor.Float] struct {
	core[T]
	cfg       AdamConfig
	decoupled bool
	m, v      [][]T // moment buffers, made on the first step
	s         adamScalars[T]
	groups    *adamGroups[T] // per-group weight decay (NewAdamWGroups), else nil
}

// adamScalars holds one step's constants. The assembly reads the float32
// instance as ten consecutive float32s in this order (see /_asm/optim/amd64).
type adamScalars[T tensor.Float] struct {
	lr, b1, b2, nb1, nb2, c1, c2, eps, wd, decay T
}

// NewAdam returns an Adam optimiser (weight decay as an L2 term in the
// gradient). It panics (wrapping ErrConfig), before anything is written,
// on an LR, Eps or WeightDecay that is negative, NaN, Inf or too large for
// T, a beta outside [0, 1) or NaN, or a parameter that is nil, not
// contiguous or listed twice (see ErrConfig).
func NewAdam[T tensor.Float](params []*autograd.Var[T], cfg AdamConfig) *Adam[T] {
	return newAdam("NewAdam", params, cfg, false)
}

// NewAdamW returns an AdamW optimiser (decoupled weight decay, default
// 0.01). It panics as NewAdam does.
func NewAdamW[T tensor.Float](params []*autograd.Var[T], cfg AdamConfig) *Adam[T] {
	if cfg.WeightDecay == 0 {
		cfg.WeightDecay = 0.01
	}
	return newAdam("NewAdamW", params, cfg, true)
}

func newAdam[T tensor.Float](fn string, params []*autograd.Var[T], cfg AdamConfig, decoupled bool) *Adam[T] {
	def := func(x *float64, d float64) {
		if *x == 0 {
			*x = d
		}
	}
	def(&cfg.LR, 1e-3)
	def(&cfg.Beta1, 0.9)
	def(&cfg.Beta2, 0.999)
	def(&cfg.Eps, 1e-8)
	checkUnit(fn, "Beta1", cfg.Beta1)
	checkUnit(fn, "Beta2", cfg.Beta2)
	checkRate[T](fn, "Eps", cfg.Eps)
	checkRate[T](fn, "WeightDecay", cfg.WeightDecay)
	o := &Adam[T]{core: newCore(fn, params, cfg.LR, cfg.Schedule), cfg: cfg, decoupled: decoupled}
	o.run = o.segment
	return o
}

// Step updates every parameter that has a gradient. It allocates only on
// the first call (the moment buffers).
func (o *Adam[T]) Step() {
	lr := o.stepLR("Adam.Step")
	if o.m == nil {
		o.m, o.v = o.state(), o.state()
	}
	t := float64(o.steps + 1)
	o.s = adamScalars[T]{
		lr: T(lr),
		b1: T(o.cfg.Beta1), b2: T(o.cfg.Beta2),
		nb1: T(1 - o.cfg.Beta1), nb2: T(1 - o.cfg.Beta2),
		c1:    T(1 / (1 - math.Pow(o.cfg.Beta1, t))),
		c2:    T(1 / (1 - math.Pow(o.cfg.Beta2, t))),
		eps:   T(o.cfg.Eps),
		decay: 1,
	}
	if o.decoupled {
		o.s.decay = T(1 - lr*o.cfg.WeightDecay)
	} else {
		o.s.wd = T(o.cfg.WeightDecay)
	}
	if o.groups != nil {
		o.groups.set(&o.s, lr)
	}
	o.apply()
}

func (o *Adam[T]) segment(i int) {
	s := o.segs[i]
	p, g := o.slices(s)
	if g == nil {
		return
	}
	m := o.m[s.param][s.lo:s.hi]
	v := o.v[s.param][s.lo:s.hi]
	sc := &o.s
	if o.groups != nil {
		sc = &o.groups.s[o.groups.of[s.param]]
	}
	adam(p, g, m, v, sc)
}

// adam runs adamGeneric, through a vector kernel for float32 where the CPU
// has one (bitwise the same result).
func adam[T tensor.Float](p, g, m, v []T, s *adamScalars[T]) {
	if unsafe.Sizeof(T(0)) == 4 && len(p) > 0 {
		var done int
		switch {
		case hasAVX512:
			done = len(p) &^ 15
			if done > 0 {
				adamAVX512(done, f32ptr(p), f32ptr(g[:len(p)]), f32ptr(m[:len(p)]), f32ptr(v[:len(p)]), (*float32)(unsafe.Pointer(s)))
			}
		case hasAVX2:
			done = len(p) &^ 7
			if done > 0 {
				adamAVX2(done, f32ptr(p), f32ptr(g[:len(p)]), f32ptr(m[:len(p)]), f32ptr(v[:len(p)]), (*float32)(unsafe.Pointer(s)))
			}
		}
		p, g, m, v = p[done:], g[done:], m[done:], v[done:]
	}
	adamGeneric(p, g, m, v, s)
}

// f32ptr returns the first element of a float32-sized slice as *float32.
func f32ptr[T tensor.Float](x []T) *float32 { return (*float32)(unsafe.Pointer(unsafe.SliceData(x))) }

// adamGeneric is the Adam update of one range (see the Adam type for the
// formulas). Every product is converted to T, which forbids fusing it into
// a multiply-add, so the result is defined to the bit and the assembly
// kernels reproduce it.
func adamGeneric[T tensor.Float](p, g, m, v []T, s *adamScalars[T]) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for j := range p {
		pj := p[j]
		gj := g[j] + T(s.wd*pj)
		pj = T(pj * s.decay)
		mj := T(s.b1*m[j]) + T(s.nb1*gj)
		vj := T(s.b2*v[j]) + T(T(s.nb2*gj)*gj)
		m[j], v[j] = mj, vj
		d := T(math.Sqrt(float64(T(vj*s.c2)))) + s.eps
		p[j] = pj - T(s.lr*T(mj*s.c1))/d
	}
}
