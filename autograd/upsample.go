package autograd

import (
	"math"

	"github.com/adjoint-go/adjoint/tensor"
)

// UpsampleNearest2d resizes x (N×C×H×W) to N×C×outH×outW by nearest
// neighbour, as PyTorch's F.interpolate(x, size=(outH, outW),
// mode='nearest'): output row i reads input row min(⌊i·s⌋, H − 1) with
// s = H/outH in float32 (PyTorch's arithmetic, so the same rows are
// chosen), and likewise for columns. Backward adds each output's adjoint
// to the input element it read. It panics (ErrShape) unless x is 4-D and
// the output size is positive.
func (tp *Tape[T]) UpsampleNearest2d(x *Var[T], outH, outW int) *Var[T] {
	return tp.upsample("UpsampleNearest2d", x, outH, outW, false, false)
}

// UpsampleBilinear2d resizes x (N×C×H×W) to N×C×outH×outW by bilinear
// interpolation, as PyTorch's F.interpolate(x, size=(outH, outW),
// mode='bilinear', align_corners=alignCorners). Output row i samples input
// row r = i·(H − 1)/(outH − 1) with alignCorners (0 when outH = 1), else
// r = max((i + ½)·H/outH − ½, 0), between rows ⌊r⌋ and ⌊r⌋ + 1 (clamped)
// with weights 1 − (r − ⌊r⌋) and r − ⌊r⌋; likewise for columns; the
// arithmetic is T's, as PyTorch's. Backward spreads each output's adjoint
// over its four input elements with the same weights. It panics as
// UpsampleNearest2d does.
func (tp *Tape[T]) UpsampleBilinear2d(x *Var[T], outH, outW int, alignCorners bool) *Var[T] {
	return tp.upsample("UpsampleBilinear2d", x, outH, outW, true, alignCorners)
}

// upsampleNode is the saved state of the upsampling ops: per output row
// (h) and column (w), the input rows or columns read and their weights
// (nearest: i1 = i0, weights 1 and 0).
type upsampleNode[T tensor.Float] struct {
	x          *Var[T]
	h, w       axisMap[T]
	bilinear   bool
	planes     int
	inH, inW   int
	outH, outW int
}

// axisMap maps each output index o along one axis to its two input
// indices and weights: out[o] = l0[o]·in[i0[o]] + l1[o]·in[i1[o]].
type axisMap[T tensor.Float] struct {
	i0, i1 []int
	l0, l1 []T
}

var upsampleKey = newPoolKey()

// clearRefs keeps the maps' capacity.
func (n *upsampleNode[T]) clearRefs() { *n = upsampleNode[T]{h: n.h.reset(), w: n.w.reset()} }

func (m axisMap[T]) reset() axisMap[T] {
	return axisMap[T]{i0: m.i0[:0], i1: m.i1[:0], l0: m.l0[:0], l1: m.l1[:0]}
}

// build fills m for in → out elements.
func (m *axisMap[T]) build(in, out int, bilinear, alignCorners bool) {
	m.i0, m.i1 = growInts(m.i0, out), growInts(m.i1, out)
	m.l0, m.l1 = growT(m.l0, out), growT(m.l1, out)
	if !bilinear {
		scale := float32(in) / float32(out)
		for o := range out {
			i := min(int(math.Floor(float64(float32(o)*scale))), in-1)
			if in == out {
				i = o
			}
			m.i0[o], m.i1[o], m.l0[o], m.l1[o] = i, i, 1, 0
		}
		return
	}
	var scale T
	switch {
	case alignCorners && out > 1:
		scale = T(in-1) / T(out-1)
	case !alignCorners:
		scale = T(in) / T(out)
	}
	for o := range out {
		var r T
		if alignCorners {
			r = scale * T(o)
		} else {
			r = max(scale*(T(o)+0.5)-0.5, 0)
		}
		i0 := int(r)
		i1 := i0
		if i0 < in-1 {
			i1++
		}
		l1 := r - T(i0)
		m.i0[o], m.i1[o], m.l0[o], m.l1[o] = i0, i1, 1-l1, l1
	}
}

func growT[T tensor.Float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (tp *Tape[T]) upsample(op string, x *Var[T], outH, outW int, bilinear, alignCorners bool) *Var[T] {
	tp.check(op, x)
	sx := x.value.Shape()
	if len(sx) != 4 || outH < 1 || outW < 1 || sx[2] < 1 || sx[3] < 1 {
		fail(ErrShape, "%s: x shape %v to size %d×%d (want N×C×H×W with H, W >= 1, and an output size >= 1)", op, sx, outH, outW)
	}
	n := newNode[upsampleNode[T]](tp, upsampleKey)
	n.x, n.bilinear, n.planes = x, bilinear, sx[0]*sx[1]
	n.inH, n.inW, n.outH, n.outW = sx[2], sx[3], outH, outW
	n.h.build(sx[2], outH, bilinear, alignCorners)
	n.w.build(sx[3], outW, bilinear, alignCorners)
	xd, _ := tp.contig(x.value)
	out := tp.alloc(sx[0], sx[1], outH, outW)
	y := out.Data()
	hw, ohw := n.inH*n.inW, outH*outW
	for p := range n.planes {
		xp, yp := xd[p*hw:(p+1)*hw], y[p*ohw:(p+1)*ohw]
		for i := range outH {
			r0, r1 := xp[n.h.i0[i]*n.inW:], xp[n.h.i1[i]*n.inW:]
			a0, a1 := n.h.l0[i], n.h.l1[i]
			row := yp[i*outW : (i+1)*outW]
			if !bilinear {
				for j := range row {
					row[j] = r0[n.w.i0[j]]
				}
				continue
			}
			for j := range row {
				c0, c1 := n.w.i0[j], n.w.i1[j]
				b0, b1 := n.w.l0[j], n.w.l1[j]
				row[j] = a0*(b0*r0[c0]+b1*r0[c1]) + a1*(b0*r1[c0]+b1*r1[c1])
			}
		}
	}
	return tp.record(op, n, out, x, nil, nil)
}

func (n *upsampleNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !n.x.requiresGrad {
		return
	}
	gx, acc := tp.grad(n.x)
	if !acc {
		clear(gx)
	}
	g := u.grad.Data()
	hw, ohw := n.inH*n.inW, n.outH*n.outW
	for p := range n.planes {
		xp, gp := gx[p*hw:(p+1)*hw], g[p*ohw:(p+1)*ohw]
		for i := range n.outH {
			r0, r1 := xp[n.h.i0[i]*n.inW:], xp[n.h.i1[i]*n.inW:]
			a0, a1 := n.h.l0[i], n.h.l1[i]
			row := gp[i*n.outW : (i+1)*n.outW]
			if !n.bilinear {
				for j, v := range row {
					r0[n.w.i0[j]] += v
				}
				continue
			}
			for j, v := range row {
				c0, c1 := n.w.i0[j], n.w.i1[j]
				b0, b1 := n.w.l0[j], n.w.l1[j]
				r0[c0] += a0 * b0 * v
				r0[c1] += a0 * b1 * v
				r1[c0] += a1 * b0 * v
				r1[c1] += a1 * b1 * v
			}
		}
	}
}
