package optim

import (
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Group is a set of parameters with its own decoupled weight decay, as a
// PyTorch param_group with a "weight_decay" entry. The usual split for a
// transformer: matrices (Linear and embedding weights) decay, biases and
// LayerNorm gains and shifts do not (WeightDecay 0).
type Group[T tensor.Float] struct {
	Params      []*autograd.Var[T]
	WeightDecay float64 // λ of this group; 0 means no decay (no default)
}

// adamGroups holds, for an Adam built by NewAdamWGroups, the group of each
// parameter and each group's step constants.
type adamGroups[T tensor.Float] struct {
	of []int            // group index of each parameter
	wd []float64        // weight decay of each group
	s  []adamScalars[T] // each group's constants for the current step
}

// set copies base into every group's constants with that group's decay
// factor 1 − lr·λ.
func (g *adamGroups[T]) set(base *adamScalars[T], lr float64) {
	for k, wd := range g.wd {
		g.s[k] = *base
		g.s[k].decay = T(1 - lr*wd)
	}
}

// NewAdamWGroups returns an AdamW optimiser over the parameters of every
// group, in group order, each group with its own decoupled weight decay,
// as torch.optim.AdamW given param_groups. cfg.WeightDecay is ignored:
// each Group's WeightDecay applies instead, and 0 there means none. The
// other settings are shared and default as in NewAdamW. It panics
// (wrapping ErrConfig), before anything is written, as NewAdamW does, for
// a group WeightDecay that is negative, NaN, Inf or too large for T, and
// if a parameter appears twice, in one group or in two.
func NewAdamWGroups[T tensor.Float](groups []Group[T], cfg AdamConfig) *Adam[T] {
	const fn = "NewAdamWGroups"
	g := &adamGroups[T]{wd: make([]float64, len(groups)), s: make([]adamScalars[T], len(groups))}
	var params []*autograd.Var[T]
	where := map[*autograd.Var[T]][2]int{}
	for k, grp := range groups {
		checkRate[T](fn, fmt.Sprintf("group %d WeightDecay", k), grp.WeightDecay)
		g.wd[k] = grp.WeightDecay
		for i, p := range grp.Params {
			if w, dup := where[p]; dup && p != nil {
				panic(fmt.Errorf("%w: %s: parameter %d of group %d is parameter %d of group %d already", ErrConfig, fn, i, k, w[1], w[0]))
			}
			where[p] = [2]int{k, i}
			params = append(params, p)
			g.of = append(g.of, k)
		}
	}
	cfg.WeightDecay = 0 // unused: the groups' decays apply
	o := newAdam(fn, params, cfg, true)
	o.groups = g
	return o
}
