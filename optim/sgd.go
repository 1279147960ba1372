package optim

import (
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// SGDConfig configures stochastic gradient descent. The zero value of a
// field means its default.
type SGDConfig struct {
	LR          float64  // learning rate; default 1e-3
	Momentum    float64  // μ in [0, 1); default 0 (plain SGD)
	WeightDecay float64  // λ, L2 penalty added to the gradient; default 0
	Nesterov    bool     // Nesterov momentum (needs Momentum > 0)
	Schedule    Schedule // if set, overrides LR at every step
}

// SGD is stochastic gradient descent with optional momentum, Nesterov
// momentum and L2 weight decay, following PyTorch's torch.optim.SGD
// (dampening 0). Per element, with g the gradient and p the parameter:
//
//	g ← g + λ·p
//	v ← μ·v + g                     (v starts at 0, so v₁ = g₁)
//	d ← g + μ·v if Nesterov, else v (d = g without momentum)
//	p ← p − lr·d
type SGD[T tensor.Float] struct {
	core[T]
	cfg SGDConfig
	vel [][]T // momentum buffers, made on the first step

	// Per-step scalars read by the segment updates.
	lrT, muT, wdT T
}

// NewSGD returns an SGD optimiser over params. It panics (wrapping
// ErrConfig), before anything is written, if LR or WeightDecay is
// negative, NaN, Inf or too large for T, Momentum is outside [0, 1) or
// NaN, Nesterov is set without Momentum, or a parameter is nil, not
// contiguous or listed twice (see ErrConfig).
func NewSGD[T tensor.Float](params []*autograd.Var[T], cfg SGDConfig) *SGD[T] {
	if cfg.LR == 0 {
		cfg.LR = 1e-3
	}
	checkUnit("NewSGD", "momentum", cfg.Momentum)
	checkRate[T]("NewSGD", "weight decay", cfg.WeightDecay)
	if cfg.Nesterov && cfg.Momentum == 0 {
		panic(fmt.Errorf("%w: NewSGD: Nesterov needs momentum > 0", ErrConfig))
	}
	o := &SGD[T]{core: newCore("NewSGD", params, cfg.LR, cfg.Schedule), cfg: cfg}
	o.run = o.segment
	return o
}

// Step updates every parameter that has a gradient. It allocates only on
// the first call (the momentum buffers).
func (o *SGD[T]) Step() {
	lr := o.stepLR("SGD.Step")
	if o.cfg.Momentum != 0 && o.vel == nil {
		o.vel = o.state()
	}
	o.lrT, o.muT, o.wdT = T(lr), T(o.cfg.Momentum), T(o.cfg.WeightDecay)
	o.apply()
}

func (o *SGD[T]) segment(i int) {
	s := o.segs[i]
	p, g := o.slices(s)
	if g == nil {
		return
	}
	lr, mu, wd := o.lrT, o.muT, o.wdT
	if o.vel == nil {
		for j := range p {
			p[j] -= lr * (g[j] + wd*p[j])
		}
		return
	}
	v := o.vel[s.param][s.lo:s.hi]
	v = v[:len(p)]
	g = g[:len(p)]
	if o.cfg.Nesterov {
		for j := range p {
			gj := g[j] + wd*p[j]
			v[j] = mu*v[j] + gj
			p[j] -= lr * (gj + mu*v[j])
		}
		return
	}
	for j := range p {
		v[j] = mu*v[j] + g[j] + wd*p[j]
		p[j] -= lr * v[j]
	}
}
