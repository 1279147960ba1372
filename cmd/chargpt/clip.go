package main

import (
	"math"

	"github.com/adjoint-go/adjoint/autograd"
)

// clipGradNorm scales the gradients of params so that their global L2
// norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_ does (scale
// maxNorm/(total + 1e-6) when total > maxNorm), and returns the norm before
// clipping.
//
// A local stand-in until optim.ClipGradNorm is on main.
func clipGradNorm(params []*autograd.Var[float32], maxNorm float64) float64 {
	var ss float64
	for _, p := range params {
		if g := p.Grad(); g != nil {
			for _, v := range g.Data() {
				ss += float64(v) * float64(v)
			}
		}
	}
	total := math.Sqrt(ss)
	if c := maxNorm / (total + 1e-6); c < 1 {
		for _, p := range params {
			if g := p.Grad(); g != nil {
				d := g.Data()
				for i := range d {
					d[i] *= float32(c)
				}
			}
		}
	}
	return total
}
