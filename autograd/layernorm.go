package autograd

import "math"

// LayerNorm normalises x over its last axis (C elements) and applies the
// affine w and b ([C] each; either may be nil): for each row,
//
//	y = (x − mean) / √(var + eps) · w + b
//
// with the biased variance (divided by C), as torch.nn.LayerNorm computes
// it (PyTorch's default eps is 1e-5). Forward and backward are each one
// fused pass over a row; backward uses the saved mean and 1/√(var + eps):
// with x̂ the normalised row and ĝ = ȳ ⊙ w,
//
//	x̄ += (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / √(var + eps)
//	w̄ += Σ_rows ȳ ⊙ x̂,  b̄ += Σ_rows ȳ
//
// A constant row has x̂ = 0 and a finite adjoint. Statistics accumulate in
// float64. It panics (ErrShape) if x has rank 0 or w or b is not [C], and
// (ErrMisuse) if eps is not positive and finite.
func (tp *Tape[T]) LayerNorm(x, w, b *Var[T], eps float64) *Var[T] {
	tp.check("LayerNorm", x)
	s := x.value.Shape()
	if len(s) == 0 {
		fail(ErrShape, "LayerNorm: x is a scalar")
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		fail(ErrMisuse, "LayerNorm: eps %v is not positive and finite", eps)
	}
	c := s[len(s)-1]
	var wd, bd []T
	for i, p := range [2]*Var[T]{w, b} {
		if p == nil {
			continue
		}
		tp.check("LayerNorm", p)
		if ps := p.value.Shape(); len(ps) != 1 || ps[0] != c {
			fail(ErrShape, "LayerNorm: %s shape %v does not fit x shape %v (want [%d])", [2]string{"w", "b"}[i], ps, s, c)
		}
		d, _ := tp.contig(p.value)
		if i == 0 {
			wd = d
		} else {
			bd = d
		}
	}
	xd, cx := tp.contig(x.value)
	rows := 0
	if c > 0 {
		rows = len(xd) / c
	}
	out := tp.allocLike(x.value)
	stats := tp.alloc(2, rows) // mean, then 1/√(var + eps)
	y, st := out.Data(), stats.Data()
	for r := range rows {
		row := xd[r*c : r*c+c]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(c)
		var ss float64
		for _, v := range row {
			d := float64(v) - mean
			ss += d * d
		}
		rstd := 1 / math.Sqrt(ss/float64(c)+eps)
		st[r], st[rows+r] = T(mean), T(rstd)
		yr := y[r*c : r*c+c]
		m, rs := T(mean), T(rstd)
		switch {
		case wd != nil && bd != nil:
			for j, v := range row {
				yr[j] = (v-m)*rs*wd[j] + bd[j]
			}
		case wd != nil:
			for j, v := range row {
				yr[j] = (v - m) * rs * wd[j]
			}
		case bd != nil:
			for j, v := range row {
				yr[j] = (v-m)*rs + bd[j]
			}
		default:
			for j, v := range row {
				yr[j] = (v - m) * rs
			}
		}
	}
	v := tp.node(opLayerNorm, out, x, w, b)
	v.aux, v.aux2 = stats, cx
	v.p = eps
	return v
}

func (tp *Tape[T]) backLayerNorm(u *Var[T]) {
	x, w, b := u.a, u.b, u.c
	s := x.value.Shape()
	c := s[len(s)-1]
	xd := data(x.value, u.aux2)
	rows := 0
	if c > 0 {
		rows = len(xd) / c
	}
	st := u.aux.Data()
	g := u.grad.Data()
	var wd []T
	if w != nil {
		wd, _ = tp.contig(w.value)
	}
	if x.requiresGrad {
		gx, acc := tp.grad(x)
		for r := range rows {
			xr, gr, dr := xd[r*c:r*c+c], g[r*c:r*c+c], gx[r*c:r*c+c]
			m, rs := st[r], st[rows+r]
			// mean(ĝ) and mean(ĝ ⊙ x̂), ĝ = ȳ ⊙ w.
			var s1, s2 float64
			for j, gv := range gr {
				gh := gv
				if wd != nil {
					gh *= wd[j]
				}
				s1 += float64(gh)
				s2 += float64(gh) * float64((xr[j]-m)*rs)
			}
			m1, m2 := T(s1/float64(c)), T(s2/float64(c))
			for j, gv := range gr {
				gh := gv
				if wd != nil {
					gh *= wd[j]
				}
				put(dr, j, acc, (gh-m1-(xr[j]-m)*rs*m2)*rs)
			}
		}
	}
	if w != nil && w.requiresGrad {
		gw, acc := tp.grad(w)
		if !acc {
			clear(gw)
		}
		for r := range rows {
			xr, gr := xd[r*c:r*c+c], g[r*c:r*c+c]
			m, rs := st[r], st[rows+r]
			for j, gv := range gr {
				gw[j] += gv * (xr[j] - m) * rs
			}
		}
	}
	if b != nil && b.requiresGrad {
		gb, acc := tp.grad(b)
		if !acc {
			clear(gb)
		}
		for r := range rows {
			addAcc(gb, g[r*c:r*c+c])
		}
	}
}
