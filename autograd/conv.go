package autograd

import (
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// Conv2dOptions configures Conv2d. Zero fields take PyTorch's defaults:
// stride 1, no padding, dilation 1, one group. Index 0 is the height, 1
// the width.
type Conv2dOptions struct {
	Stride, Padding, Dilation [2]int
	// Groups splits the channels into Groups independent convolutions
	// (Groups = C is a depthwise convolution); it must divide both C and
	// OC. 0 means 1.
	Groups int
}

// Conv2d returns the 2-D convolution (PyTorch's cross-correlation) of x
// (N×C×H×W) with w (OC×C/groups×KH×KW) plus b (OC elements, or nil), an
// N×OC×OH×OW tensor: PyTorch's layout, so weights move between the two
// unchanged.
//
// Per image and group it is one GEMM over the patch matrix (im2col),
// Y = W·col(X), with the bias written first and the product added with
// beta = 1. Backward is the matrix product's rules again: W̄ += Ȳ·col(X)ᵀ
// (one GEMM per image, transpose flag, beta = 1, images in order so the
// sum is the same for any thread count), col(X)‾ = Wᵀ·Ȳ scattered back into
// X̄ by col2im, and b̄ += Ȳ summed over N, OH, OW. Images run in parallel;
// the patch matrices of the batch are kept for backward when w needs a
// gradient (N·C·KH·KW·OH·OW elements), else one per thread.
//
// It panics (ErrShape) naming the argument when x or w is not 4-D, groups
// do not divide C or OC, x's channels do not match w's (C ≠
// w.shape[1]·groups), b's shape is not [OC], or the (dilated) kernel is
// larger than the padded input.
func (tp *Tape[T]) Conv2d(x, w, b *Var[T], o Conv2dOptions) *Var[T] {
	tp.check("Conv2d", x)
	tp.check("Conv2d", w)
	sx, sw := x.value.Shape(), w.value.Shape()
	if len(sx) != 4 {
		fail(ErrShape, "Conv2d: x shape %v is not N×C×H×W", sx)
	}
	if len(sw) != 4 {
		fail(ErrShape, "Conv2d: w shape %v is not OC×C/groups×KH×KW", sw)
	}
	groups := max(o.Groups, 1)
	n, c, oc := sx[0], sx[1], sw[0]
	switch {
	case o.Groups < 0:
		fail(ErrShape, "Conv2d: groups %d < 0", o.Groups)
	case c%groups != 0:
		fail(ErrShape, "Conv2d: groups %d does not divide x's %d channels (x shape %v)", groups, c, sx)
	case oc%groups != 0:
		fail(ErrShape, "Conv2d: groups %d does not divide w's %d output channels (w shape %v)", groups, oc, sw)
	case sw[1]*groups != c:
		fail(ErrShape, "Conv2d: channel mismatch: x shape %v has %d channels, w shape %v with groups %d wants %d",
			sx, c, sw, groups, sw[1]*groups)
	}
	g := tensor.Conv2D{C: c, H: sx[2], W: sx[3], KH: sw[2], KW: sw[3],
		StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
		DilationH: o.Dilation[0], DilationW: o.Dilation[1]}
	if p := g.Problem(); p != "" {
		fail(ErrShape, "Conv2d: x shape %v, w shape %v: %s", sx, sw, p)
	}
	var bias []T
	if b != nil {
		tp.check("Conv2d", b)
		if sb := b.value.Shape(); len(sb) != 1 || sb[0] != oc {
			fail(ErrShape, "Conv2d: bias shape %v does not fit w shape %v (want [%d])", sb, sw, oc)
		}
		bias, _ = tp.contig(b.value)
	}
	xd, cx := tp.contig(x.value)
	wd, cw := tp.contig(w.value)
	oh, ow := g.Out()
	rows, cols := g.ColShape()
	out := tp.alloc(n, oc, oh, ow)

	j := tp.convJob()
	chunks := parallel.NumChunks(n, 1)
	// Keep the patch matrices for W̄ only when it will be wanted.
	save := !tp.noGrad && w.requiresGrad && n > 0
	var col *tensor.Dense[T]
	if save {
		col = tp.alloc(n, rows, cols)
	} else {
		col = tp.alloc(max(chunks, 1), rows, cols)
	}
	j.mode, j.g, j.n, j.chunks, j.groups, j.oc = cjForward, g, n, chunks, groups, oc
	j.x, j.w, j.bias, j.y, j.col, j.perImage = xd, wd, bias, out.Data(), col.Data(), save
	j.runAll()

	v := tp.node(opConv2d, out, x, w, b)
	v.aux, v.aux2, v.aux3, v.tA = col, cx, cw, save
	v.geom, v.axis = g, groups
	return v
}

func (tp *Tape[T]) backConv2d(u *Var[T]) {
	x, w, b := u.a, u.b, u.c
	g, groups := u.geom, u.axis
	n, oc := x.value.Shape()[0], w.value.Shape()[0]
	rows, cols := g.ColShape()
	gy := u.grad.Data()
	if b != nil && b.requiresGrad { // b̄[o] += Σ_n Σ_p ȳ[n, o, p]
		gb, acc := tp.grad(b)
		for o := range oc {
			s := T(0)
			for i := range n {
				for _, v := range gy[(i*oc+o)*cols : (i*oc+o+1)*cols] {
					s += v
				}
			}
			if acc {
				gb[o] += s
			} else {
				gb[o] = s
			}
		}
	}
	wd := data(w.value, u.aux3)
	ocg, kg := oc/groups, rows/groups
	if w.requiresGrad && u.tA { // W̄_g += Σ_n Ȳ_n,g · col_n,gᵀ, images in order
		gw, acc := tp.grad(w)
		col := u.aux.Data()
		for i := range n {
			beta := betaOf[T](acc || i > 0)
			for gr := range groups {
				mm(false, true, ocg, kg, cols,
					gy[(i*oc+gr*ocg)*cols:], cols,
					col[(i*rows+gr*kg)*cols:], cols,
					beta, gw[gr*ocg*kg:], kg)
			}
		}
		if n == 0 {
			zeroIfFresh(gw, acc)
		}
	}
	if x.requiresGrad { // col(X)‾ = Wᵀ·Ȳ per image, then col2im into X̄
		gx, acc := tp.grad(x)
		j := tp.convJob()
		chunks := parallel.NumChunks(n, 1)
		dcol := tp.alloc(max(chunks, 1), rows, cols)
		j.mode, j.g, j.n, j.chunks, j.groups, j.oc = cjBackX, g, n, chunks, groups, oc
		j.w, j.y, j.col, j.x, j.acc, j.perImage = wd, gy, dcol.Data(), gx, acc, false
		j.runAll()
	}
}

// convJob returns the tape's one convolution job, binding its method
// value on first use so that handing it to parallel.Do allocates nothing.
func (tp *Tape[T]) convJob() *cjob[T] {
	j := &tp.cj
	if j.run == nil {
		j.run = j.chunk
	}
	return j
}

const (
	cjForward = iota
	cjBackX
	cjMaxPool
	cjMaxPoolBack
	cjAvgPool
	cjAvgPoolBack
	cjBatchNorm
	cjBatchNormBack
)

// cjob is a pass over the images of a batch (convolution) or the planes or
// channels of an NCHW tensor (pooling, batch norm), split into chunks of
// whole images, planes or channels: each one's result is computed the same
// way whatever the chunking, so results do not depend on the thread count.
// The tape has one, reused by every such op.
type cjob[T tensor.Float] struct {
	mode               int
	g                  tensor.Conv2D
	n, chunks          int
	groups, oc         int
	x, w, bias, y, col []T
	perImage           bool // col holds one patch matrix per image (else per chunk)
	acc                bool // backward: add into x instead of overwriting
	idx                []int
	bn                 bnArgs[T]
	run                func(i int)
}

func (j *cjob[T]) runAll() {
	if j.n > 0 {
		if j.chunks <= 1 {
			j.chunk(0)
		} else {
			parallel.Do(j.chunks, j.run)
		}
	}
	j.x, j.w, j.bias, j.y, j.col, j.idx = nil, nil, nil, nil, nil, nil
	j.bn = bnArgs[T]{}
}

// chunk runs range i of the j.chunks ranges of [0, j.n).
func (j *cjob[T]) chunk(i int) {
	chunks := max(j.chunks, 1)
	q, r := j.n/chunks, j.n%chunks
	lo := i*q + min(i, r)
	hi := lo + q
	if i < r {
		hi++
	}
	switch j.mode {
	case cjForward, cjBackX:
		j.conv(i, lo, hi)
	case cjMaxPool:
		j.maxPool(lo, hi)
	case cjMaxPoolBack:
		j.maxPoolBack(lo, hi)
	case cjAvgPool, cjAvgPoolBack:
		j.avgPool(lo, hi, j.mode == cjAvgPoolBack)
	case cjBatchNorm:
		j.batchNorm(lo, hi)
	case cjBatchNormBack:
		j.batchNormBack(lo, hi)
	}
}

// conv runs images [lo, hi), chunk i of a Conv2d pass.
func (j *cjob[T]) conv(i, lo, hi int) {
	g := j.g
	rows, cols := g.ColShape()
	img := g.C * g.H * g.W
	ocg, kg := j.oc/j.groups, rows/j.groups
	for n := lo; n < hi; n++ {
		var col []T
		if j.perImage {
			col = j.col[n*rows*cols : (n+1)*rows*cols]
		} else {
			col = j.col[i*rows*cols : (i+1)*rows*cols]
		}
		x := j.x[n*img : (n+1)*img]
		y := j.y[n*j.oc*cols : (n+1)*j.oc*cols]
		switch j.mode {
		case cjForward:
			tensor.Im2Col(g, col, x)
			beta := T(0)
			if j.bias != nil {
				for o, bv := range j.bias {
					row := y[o*cols : (o+1)*cols]
					for p := range row {
						row[p] = bv
					}
				}
				beta = 1
			}
			for gr := range j.groups {
				mm(false, false, ocg, cols, kg, j.w[gr*ocg*kg:], kg, col[gr*kg*cols:], cols, beta, y[gr*ocg*cols:], cols)
			}
		case cjBackX:
			for gr := range j.groups {
				mm(true, false, kg, cols, ocg, j.w[gr*ocg*kg:], kg, y[gr*ocg*cols:], cols, 0, col[gr*kg*cols:], cols)
			}
			if !j.acc {
				clear(x)
			}
			tensor.Col2Im(g, x, col)
		}
	}
}
