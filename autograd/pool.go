package autograd

import (
	"math"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// Pool2dOptions configures MaxPool2d and AvgPool2d. Index 0 is the height,
// 1 the width. Kernel is required; a Stride of {0, 0} is the kernel size
// (PyTorch's default), and otherwise a zero stride is 1; zero Padding is
// none, a zero dilation 1. Output sizes round down (PyTorch's
// ceil_mode=False).
type Pool2dOptions struct {
	Kernel, Stride, Padding, Dilation [2]int
}

// poolGeom validates o for x and returns the window geometry over one
// plane (C = 1; planes are N·C).
func poolGeom(op string, x []int, o Pool2dOptions, dilation bool) tensor.Conv2D {
	if len(x) != 4 {
		fail(ErrShape, "%s: x shape %v is not N×C×H×W", op, x)
	}
	if !dilation && (o.Dilation != [2]int{} && o.Dilation != [2]int{1, 1}) {
		fail(ErrShape, "%s: dilation %v is not supported", op, o.Dilation)
	}
	s := o.Stride
	if s == [2]int{} {
		s = o.Kernel
	}
	g := tensor.Conv2D{C: 1, H: x[2], W: x[3], KH: o.Kernel[0], KW: o.Kernel[1],
		StrideH: s[0], StrideW: s[1], PadH: o.Padding[0], PadW: o.Padding[1],
		DilationH: o.Dilation[0], DilationW: o.Dilation[1]}
	if p := g.Problem(); p != "" {
		fail(ErrShape, "%s: x shape %v: %s", op, x, p)
	}
	// PyTorch's rule: a window must always hold at least one real pixel.
	dh, dw := max(g.DilationH, 1), max(g.DilationW, 1)
	if 2*g.PadH > (g.KH-1)*dh+1 || 2*g.PadW > (g.KW-1)*dw+1 {
		fail(ErrShape, "%s: padding %v is more than half the (dilated) kernel %v", op, o.Padding, o.Kernel)
	}
	return g
}

// MaxPool2d returns the maximum of each window of x (N×C×H×W) per
// channel, N×C×OH×OW; padding reads as −∞. Backward sends each output's
// adjoint to the input element that was the maximum, saved in forward (the
// first one in window order on ties, the last NaN if the window has any,
// as PyTorch's CPU kernel). It panics (ErrShape) if x is not 4-D, the
// kernel is missing or larger than the padded input, or padding exceeds
// half the kernel.
func (tp *Tape[T]) MaxPool2d(x *Var[T], o Pool2dOptions) *Var[T] {
	tp.check("MaxPool2d", x)
	sx := x.value.Shape()
	g := poolGeom("MaxPool2d", sx, o, true)
	oh, ow := g.Out()
	xd, _ := tp.contig(x.value)
	out := tp.alloc(sx[0], sx[1], oh, ow)
	v := tp.node(opMaxPool2d, out, x, nil, nil)
	planes := sx[0] * sx[1]
	v.geom = g
	v.labels = growInts(v.labels, planes*oh*ow)
	j := tp.convJob()
	j.mode, j.g, j.n, j.chunks = cjMaxPool, g, planes, parallel.NumChunks(planes, poolGrain(g))
	j.x, j.y, j.idx = xd, out.Data(), v.labels
	j.runAll()
	return v
}

// growInts returns s resized to n, reusing its capacity.
func growInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// poolGrain is the number of planes worth handing to another thread.
func poolGrain(g tensor.Conv2D) int {
	return max(1, 4096/max(g.H*g.W, 1))
}

func (j *cjob[T]) maxPool(lo, hi int) {
	g := j.g
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	dh, dw := max(g.DilationH, 1), max(g.DilationW, 1)
	oh, ow := g.Out()
	hw := g.H * g.W
	if g.PadH == 0 && g.PadW == 0 {
		j.maxPoolInside(lo, hi)
		return
	}
	for p := lo; p < hi; p++ {
		x := j.x[p*hw : (p+1)*hw]
		y := j.y[p*oh*ow : (p+1)*oh*ow]
		idx := j.idx[p*oh*ow : (p+1)*oh*ow]
		for i := range oh {
			for q := range ow {
				best, at := T(math.Inf(-1)), -1
				for kh := range g.KH {
					ih := i*sh - g.PadH + kh*dh
					if ih < 0 || ih >= g.H {
						continue
					}
					for kw := range g.KW {
						iw := q*sw - g.PadW + kw*dw
						if iw < 0 || iw >= g.W {
							continue
						}
						k := ih*g.W + iw
						// PyTorch's rule: a larger value or a NaN takes over,
						// so ties keep the first.
						if v := x[k]; v > best || v != v || at < 0 {
							best, at = v, k
						}
					}
				}
				y[i*ow+q] = best
				idx[i*ow+q] = p*hw + at
			}
		}
	}
}

// maxPoolInside is maxPool without padding, where every window lies
// inside the image: no bounds tests, and the common 2×2 window unrolled.
func (j *cjob[T]) maxPoolInside(lo, hi int) {
	g := j.g
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	dh, dw := max(g.DilationH, 1)*g.W, max(g.DilationW, 1)
	oh, ow := g.Out()
	hw, ohw := g.H*g.W, oh*ow
	for p := lo; p < hi; p++ {
		x := j.x[p*hw : (p+1)*hw]
		y := j.y[p*ohw : (p+1)*ohw]
		idx := j.idx[p*ohw : (p+1)*ohw]
		for i := range oh {
			yr, ir := y[i*ow:(i+1)*ow], idx[i*ow:(i+1)*ow]
			base := i * sh * g.W
			if g.KH == 2 && g.KW == 2 {
				for q := range yr {
					k := base + q*sw
					best, at := x[k], k
					if v := x[k+dw]; v > best || v != v {
						best, at = v, k+dw
					}
					if v := x[k+dh]; v > best || v != v {
						best, at = v, k+dh
					}
					if v := x[k+dh+dw]; v > best || v != v {
						best, at = v, k+dh+dw
					}
					yr[q], ir[q] = best, p*hw+at
				}
				continue
			}
			for q := range yr {
				k0 := base + q*sw
				best, at := x[k0], k0
				for kh := range g.KH {
					for kw := range g.KW {
						k := k0 + kh*dh + kw*dw
						if v := x[k]; v > best || v != v {
							best, at = v, k
						}
					}
				}
				yr[q], ir[q] = best, p*hw+at
			}
		}
	}
}

func (j *cjob[T]) maxPoolBack(lo, hi int) {
	g := j.g
	oh, ow := g.Out()
	hw, ohw := g.H*g.W, oh*ow
	for p := lo; p < hi; p++ {
		gx := j.x[p*hw : (p+1)*hw]
		if !j.acc {
			clear(gx)
		}
		for k, v := range j.y[p*ohw : (p+1)*ohw] {
			gx[j.idx[p*ohw+k]-p*hw] += v
		}
	}
}

func (tp *Tape[T]) backMaxPool2d(u *Var[T]) {
	x := u.a
	if !x.requiresGrad {
		return
	}
	gx, acc := tp.grad(x)
	g, planes := poolGeomOf(u)
	j := tp.convJob()
	j.mode, j.g, j.n, j.chunks, j.acc = cjMaxPoolBack, g, planes, parallel.NumChunks(planes, poolGrain(g)), acc
	j.x, j.y, j.idx = gx, u.grad.Data(), u.labels
	j.runAll()
}

// poolGeomOf returns a pooling node's plane geometry and plane count.
func poolGeomOf[T tensor.Float](u *Var[T]) (tensor.Conv2D, int) {
	sx := u.a.value.Shape()
	return u.geom, sx[0] * sx[1]
}

// AvgPool2d returns the mean of each window of x (N×C×H×W) per channel,
// N×C×OH×OW, dividing by the full window size KH·KW even where it covers
// padding (PyTorch's count_include_pad=True). Backward spreads each output's
// adjoint evenly over its window. It panics as MaxPool2d does, and if a
// dilation is given.
func (tp *Tape[T]) AvgPool2d(x *Var[T], o Pool2dOptions) *Var[T] {
	tp.check("AvgPool2d", x)
	sx := x.value.Shape()
	g := poolGeom("AvgPool2d", sx, o, false)
	return tp.avgPool(x, g)
}

// GlobalAvgPool2d returns the mean of each channel of x (N×C×H×W) over
// H and W, shape N×C×1×1 (PyTorch's AdaptiveAvgPool2d(1)). It panics
// (ErrShape) if x is not 4-D or a plane is empty.
func (tp *Tape[T]) GlobalAvgPool2d(x *Var[T]) *Var[T] {
	tp.check("GlobalAvgPool2d", x)
	sx := x.value.Shape()
	if len(sx) != 4 || sx[2] < 1 || sx[3] < 1 {
		fail(ErrShape, "GlobalAvgPool2d: x shape %v is not N×C×H×W with H, W >= 1", sx)
	}
	return tp.avgPool(x, tensor.Conv2D{C: 1, H: sx[2], W: sx[3], KH: sx[2], KW: sx[3]})
}

func (tp *Tape[T]) avgPool(x *Var[T], g tensor.Conv2D) *Var[T] {
	sx := x.value.Shape()
	oh, ow := g.Out()
	xd, _ := tp.contig(x.value)
	out := tp.alloc(sx[0], sx[1], oh, ow)
	planes := sx[0] * sx[1]
	j := tp.convJob()
	j.mode, j.g, j.n, j.chunks = cjAvgPool, g, planes, parallel.NumChunks(planes, poolGrain(g))
	j.x, j.y = xd, out.Data()
	j.runAll()
	v := tp.node(opAvgPool2d, out, x, nil, nil)
	v.geom = g
	return v
}

func (tp *Tape[T]) backAvgPool2d(u *Var[T]) {
	x := u.a
	if !x.requiresGrad {
		return
	}
	gx, acc := tp.grad(x)
	g, planes := poolGeomOf(u)
	j := tp.convJob()
	j.mode, j.g, j.n, j.chunks, j.acc = cjAvgPoolBack, g, planes, parallel.NumChunks(planes, poolGrain(g)), acc
	j.x, j.y = gx, u.grad.Data()
	j.runAll()
}

// avgPool computes planes [lo, hi) of an average pool, or with back its
// adjoint: x (+)= each output's adjoint / (KH·KW) over its window.
func (j *cjob[T]) avgPool(lo, hi int, back bool) {
	g := j.g
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	oh, ow := g.Out()
	hw, ohw := g.H*g.W, oh*ow
	inv := 1 / T(g.KH*g.KW)
	for p := lo; p < hi; p++ {
		x := j.x[p*hw : (p+1)*hw]
		y := j.y[p*ohw : (p+1)*ohw]
		if back && !j.acc {
			clear(x)
		}
		for i := range oh {
			h0, h1 := max(i*sh-g.PadH, 0), min(i*sh-g.PadH+g.KH, g.H)
			for q := range ow {
				w0, w1 := max(q*sw-g.PadW, 0), min(q*sw-g.PadW+g.KW, g.W)
				if back {
					d := y[i*ow+q] * inv
					for ih := h0; ih < h1; ih++ {
						row := x[ih*g.W+w0 : ih*g.W+w1]
						for k := range row {
							row[k] += d
						}
					}
					continue
				}
				s := T(0)
				for ih := h0; ih < h1; ih++ {
					for _, v := range x[ih*g.W+w0 : ih*g.W+w1] {
						s += v
					}
				}
				y[i*ow+q] = s * inv
			}
		}
	}
}
