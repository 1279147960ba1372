package autograd

import (
	"math"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// Pool2dOptions configures MaxPool2d and AvgPool2d. Index 0 is the height,
// 1 the width. Kernel is required; a Stride of {0, 0} is the kernel size
// (PyTorch's default), and otherwise a zero stride is 1; zero Padding is
// none, a zero dilation 1. Output sizes round down unless CeilMode is set.
type Pool2dOptions struct {
	Kernel, Stride, Padding, Dilation [2]int
	// CeilMode rounds output sizes up (PyTorch's ceil_mode=True): a last
	// window that runs past the end of the input is kept where it starts
	// inside the input or its left padding.
	CeilMode bool
	// ExcludePad makes AvgPool2d divide each window's sum by the number of
	// input elements it covers, leaving out padding (PyTorch's
	// count_include_pad=False); by default it divides by the window's size
	// within the padded input (count_include_pad=True).
	ExcludePad bool
}

// poolGeom validates o for x and returns the window geometry over one
// plane (C = 1; planes are N·C) and the output size.
func poolGeom(op string, x []int, o Pool2dOptions, dilation bool) (g tensor.Conv2D, oh, ow int) {
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
	g = tensor.Conv2D{C: 1, H: x[2], W: x[3], KH: o.Kernel[0], KW: o.Kernel[1],
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
	oh, ow = g.Out()
	if o.CeilMode {
		oh = ceilOut(g.H, g.KH, max(g.StrideH, 1), g.PadH, dh)
		ow = ceilOut(g.W, g.KW, max(g.StrideW, 1), g.PadW, dw)
	}
	return g, oh, ow
}

// ceilOut is PyTorch's output size with ceil_mode: ⌈(n + 2p − d(k−1) −
// 1)/s⌉ + 1, less one where the last window would start past the input
// and its left padding.
func ceilOut(n, k, s, p, d int) int {
	span := n + 2*p - d*(k-1) - 1
	o := (span+s-1)/s + 1
	if (o-1)*s >= n+p {
		o--
	}
	return o
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
	g, oh, ow := poolGeom("MaxPool2d", sx, o, true)
	xd, _ := tp.contig(x.value)
	out := tp.alloc(sx[0], sx[1], oh, ow)
	n := newNode[maxPoolNode[T]](tp, maxPoolKey)
	planes := sx[0] * sx[1]
	n.x, n.geom, n.oh, n.ow = x, g, oh, ow
	n.idx = growInts(n.idx, planes*oh*ow)
	j := tp.poolJob()
	j.mode, j.g, j.n, j.chunks = poolMax, g, planes, parallel.NumChunks(planes, poolGrain(g))
	j.oh, j.ow = oh, ow
	j.x, j.y, j.idx = xd, out.Data(), n.idx
	j.runAll()
	return tp.record("MaxPool2d", n, out, x, nil, nil)
}

// maxPoolNode is the saved state of MaxPool2d: the plane geometry, the
// output size and, per output, the flat index in x of the element it took.
type maxPoolNode[T tensor.Float] struct {
	x      *Var[T]
	geom   tensor.Conv2D
	oh, ow int
	idx    []int
}

var maxPoolKey = newPoolKey()

// clearRefs keeps the index buffer.
func (n *maxPoolNode[T]) clearRefs() { *n = maxPoolNode[T]{idx: n.idx[:0]} }

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

func (j *poolJob[T]) maxPool(lo, hi int) {
	g := j.g
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	dh, dw := max(g.DilationH, 1), max(g.DilationW, 1)
	oh, ow := j.oh, j.ow
	hw := g.H * g.W
	if fh, fw := g.Out(); g.PadH == 0 && g.PadW == 0 && fh == oh && fw == ow {
		// Every window inside the image (no padding, no ceil-mode extra).
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
func (j *poolJob[T]) maxPoolInside(lo, hi int) {
	g := j.g
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	dh, dw := max(g.DilationH, 1)*g.W, max(g.DilationW, 1)
	oh, ow := j.oh, j.ow
	hw, ohw := g.H*g.W, oh*ow
	for p := lo; p < hi; p++ {
		x := j.x[p*hw : (p+1)*hw]
		y := j.y[p*ohw : (p+1)*ohw]
		idx := j.idx[p*ohw : (p+1)*ohw]
		for i := range oh {
			yr, ir := y[i*ow:(i+1)*ow], idx[i*ow:(i+1)*ow]
			base := i * sh * g.W
			if g.KH == 2 && g.KW == 2 && !maxPoolGeneric {
				if sw == 2 && dw == 1 && dh == g.W && maxPool2x2s2(x, yr, ir, base, g.W, p*hw) {
					continue
				}
				maxPool2x2(x, yr, ir, base, sw, dh, dw, p*hw)
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

// maxPool2x2 computes one output row of a 2×2 max pool whose windows lie
// inside the image: window q's pixels are x[k], x[k+dw], x[k+dh] and
// x[k+dh+dw] for k = base + q·sw, and idx gets the chosen one's index plus
// off. Without branches, as a tournament: the winner of each window row
// (the right pixel takes over where it is larger or NaN), then the bottom
// row's winner takes over from the top's on the same rule. That is the
// sequential rule's answer (the first maximum in window order, or the last
// NaN): with no NaN a later pixel wins only when strictly larger, and a NaN
// beats everything before it. On random data the sequential scan's branches
// mispredicted about once a window, which made conv1's pool (32×28×28 an
// image) cost more than its convolution.
func maxPool2x2[T tensor.Float](x, y []T, idx []int, base, sw, dh, dw, off int) {
	for q := range y {
		k := base + q*sw
		i1 := k + takes(x[k+dw], x[k])*dw
		i2 := k + dh + takes(x[k+dh+dw], x[k+dh])*dw
		at := i1 + takes(x[i2], x[i1])*(i2-i1)
		y[q], idx[q] = x[at], at+off
	}
}

// maxPool2x2s2 is maxPool2x2 for stride 2 and no dilation (the common
// pool) on data without NaNs, in fewer instructions: one comparison per
// step of the tournament, where the NaN rule needs three. It sums each
// window column as it goes and, where a sum is NaN (a NaN in the row, or
// infinities of both signs), reports false having written garbage, for
// maxPool2x2 to redo the row by the full rule; otherwise the result is
// maxPool2x2's, since without NaNs its comparisons are these.
func maxPool2x2s2[T tensor.Float](x, y []T, idx []int, base, w, off int) bool {
	n := len(y)
	x0, x1 := x[base:base+2*n], x[base+w:base+w+2*n]
	idx = idx[:n]
	var s0, s1, s2, s3 T
	for q := range y {
		k := 2 * q
		a, b, c, d := x0[k], x0[k+1], x1[k], x1[k+1]
		s0 += a
		s1 += b
		s2 += c
		s3 += d
		i1 := k + b2i(b > a)
		i2 := k + b2i(d > c)
		// at = base+i1, or base+w+i2 where the bottom wins, by a mask
		// (a plain if here compiled to a branch, mispredicted on random
		// data).
		at := base + i1 + -b2i(x1[i2] > x0[i1])&(w+i2-i1)
		y[q], idx[q] = x[at], at+off
	}
	s := (s0 + s1) + (s2 + s3)
	return s == s
}

// takes is 1 where v takes over from best under PyTorch's rule (v larger,
// or v NaN), else 0, computed without a branch.
func takes[T tensor.Float](v, best T) int { return b2i(v > best) | b2i(v != v) }

func b2i(c bool) int {
	t := 0
	if c {
		t = 1
	}
	return t
}

// maxPoolGeneric forces the general window scan in place of maxPool2x2,
// for tests.
var maxPoolGeneric = false

func (j *poolJob[T]) maxPoolBack(lo, hi int) {
	g := j.g
	oh, ow := j.oh, j.ow
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

func (n *maxPoolNode[T]) backward(tp *Tape[T], u *Var[T]) {
	x := n.x
	if !x.requiresGrad {
		return
	}
	gx, acc := tp.grad(x)
	g, planes := n.geom, planesOf(x)
	j := tp.poolJob()
	j.mode, j.g, j.n, j.chunks, j.acc = poolMaxBack, g, planes, parallel.NumChunks(planes, poolGrain(g)), acc
	j.oh, j.ow = n.oh, n.ow
	j.x, j.y, j.idx = gx, u.grad.Data(), n.idx
	j.runAll()
}

// planesOf returns the number of N×C planes of an NCHW value.
func planesOf[T tensor.Float](x *Var[T]) int {
	sx := x.value.Shape()
	return sx[0] * sx[1]
}

// AvgPool2d returns the mean of each window of x (N×C×H×W) per channel,
// N×C×OH×OW, dividing by the full window size KH·KW even where it covers
// padding (PyTorch's count_include_pad=True; with CeilMode, by the part of
// the window inside the padded input), or with ExcludePad by the number of
// input elements it covers. Backward spreads each output's adjoint evenly
// over its window. It panics as MaxPool2d does, and if a dilation is given.
func (tp *Tape[T]) AvgPool2d(x *Var[T], o Pool2dOptions) *Var[T] {
	tp.check("AvgPool2d", x)
	sx := x.value.Shape()
	g, oh, ow := poolGeom("AvgPool2d", sx, o, false)
	return tp.avgPool(x, g, oh, ow, o.ExcludePad)
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
	return tp.avgPool(x, tensor.Conv2D{C: 1, H: sx[2], W: sx[3], KH: sx[2], KW: sx[3]}, 1, 1, false)
}

func (tp *Tape[T]) avgPool(x *Var[T], g tensor.Conv2D, oh, ow int, excl bool) *Var[T] {
	sx := x.value.Shape()
	xd, _ := tp.contig(x.value)
	out := tp.alloc(sx[0], sx[1], oh, ow)
	planes := sx[0] * sx[1]
	j := tp.poolJob()
	j.mode, j.g, j.n, j.chunks = poolAvg, g, planes, parallel.NumChunks(planes, poolGrain(g))
	j.oh, j.ow, j.excl = oh, ow, excl
	j.x, j.y = xd, out.Data()
	j.runAll()
	n := newNode[avgPoolNode[T]](tp, avgPoolKey)
	n.x, n.geom, n.oh, n.ow, n.excl = x, g, oh, ow, excl
	return tp.record("AvgPool2d", n, out, x, nil, nil)
}

// avgPoolNode is the saved state of AvgPool2d and GlobalAvgPool2d: the
// plane geometry, the output size and whether padding is left out of the
// count.
type avgPoolNode[T tensor.Float] struct {
	x      *Var[T]
	geom   tensor.Conv2D
	oh, ow int
	excl   bool
}

var avgPoolKey = newPoolKey()

func (n *avgPoolNode[T]) backward(tp *Tape[T], u *Var[T]) {
	x := n.x
	if !x.requiresGrad {
		return
	}
	gx, acc := tp.grad(x)
	g, planes := n.geom, planesOf(x)
	j := tp.poolJob()
	j.mode, j.g, j.n, j.chunks, j.acc = poolAvgBack, g, planes, parallel.NumChunks(planes, poolGrain(g)), acc
	j.oh, j.ow, j.excl = n.oh, n.ow, n.excl
	j.x, j.y = gx, u.grad.Data()
	j.runAll()
}

// avgPool computes planes [lo, hi) of an average pool, or with back its
// adjoint: x (+)= each output's adjoint / count over its window, count
// being KH·KW (the window clipped to the padded input with ceil mode), or
// with excl the input elements in the window.
func (j *poolJob[T]) avgPool(lo, hi int, back bool) {
	g := j.g
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	oh, ow := j.oh, j.ow
	hw, ohw := g.H*g.W, oh*ow
	full := g.KH * g.KW
	inv0 := 1 / T(full)
	for p := lo; p < hi; p++ {
		x := j.x[p*hw : (p+1)*hw]
		y := j.y[p*ohw : (p+1)*ohw]
		if back && !j.acc {
			clear(x)
		}
		for i := range oh {
			hs := i*sh - g.PadH
			h0, h1 := max(hs, 0), min(hs+g.KH, g.H)
			ph := min(hs+g.KH, g.H+g.PadH) - hs
			for q := range ow {
				ws := q*sw - g.PadW
				w0, w1 := max(ws, 0), min(ws+g.KW, g.W)
				cnt := ph * (min(ws+g.KW, g.W+g.PadW) - ws)
				if j.excl {
					cnt = (h1 - h0) * (w1 - w0)
				}
				inv := inv0
				if cnt != full {
					inv = 1 / T(cnt)
				}
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

const (
	poolMax = iota
	poolMaxBack
	poolAvg
	poolAvgBack
)

// poolJob is a pooling pass over the N·C planes of an NCHW tensor, split
// into chunks of whole planes (so results do not depend on the thread
// count). The tape has one, reused by every pooling op.
type poolJob[T tensor.Float] struct {
	mode      int
	g         tensor.Conv2D // one plane's window geometry
	oh, ow    int           // the output size (ceil mode may add a window)
	excl      bool          // average pooling: count only input elements
	acc       bool          // backward: add into the input's adjoint
	n, chunks int           // planes, chunks
	x, y      []T           // input and output (backward: their adjoints)
	idx       []int         // max pooling: each output's input index
	run       func(i int)
}

// poolJob returns the tape's pooling job, binding its method value on
// first use so that handing it to parallel.Do allocates nothing.
func (tp *Tape[T]) poolJob() *poolJob[T] {
	j := &tp.pj
	if j.run == nil {
		j.run = j.chunk
	}
	return j
}

func (j *poolJob[T]) runAll() {
	runChunks(j.n, j.chunks, j.run)
	j.x, j.y, j.idx = nil, nil, nil
}

func (j *poolJob[T]) chunk(i int) {
	lo, hi := chunkBounds(i, j.n, j.chunks)
	switch j.mode {
	case poolMax:
		j.maxPool(lo, hi)
	case poolMaxBack:
		j.maxPoolBack(lo, hi)
	default:
		j.avgPool(lo, hi, j.mode == poolAvgBack)
	}
}
