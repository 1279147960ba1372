package autograd

import (
	"github.com/adjoint-go/adjoint/internal/igemm"
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
// beta = 1. Where it measured faster (stride 1 with "same" rows on the
// AVX-512 kernels, and shallow products otherwise; see convImplicit) the
// forward is an implicit GEMM instead: GEMM reads the patches from KW
// shifted copies of the image (or packs them straight into its panels)
// and never builds col(X), and with one channel block the bias is a last
// column of W against a row of ones; the result is bitwise the same
// either way. Backward is the matrix product's rules again: W̄ += Ȳ·col(X)ᵀ
// (one GEMM per image, transpose flag, beta = 1; with one group computed
// transposed, W̄ᵀ = col(X)·Ȳᵀ, with b̄ from a row of ones in the same
// product: see convWTransposed), col(X)‾ = Wᵀ·Ȳ scattered back into X̄ by
// col2im (at stride 1 with "same" rows by col2imStaged, whole-row adds), and
// b̄ += Ȳ summed over N, OH and OW. The batch is
// split into a fixed number of parts that run in parallel, each with its
// own patch matrix (kept in cache, and recomputed in backward rather than
// saved: a batch's worth would be N·C·KH·KW·OH·OW elements streamed through
// memory twice) and, in backward, its own partial W̄ and b̄, summed in part
// order. The split does not depend on the thread count, so neither do the
// results, bit for bit.
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
	parts := convParts(n)
	col := tp.alloc(max(parts, 1), rows, cols)
	j.mode, j.g, j.n, j.chunks, j.groups, j.oc = cjForward, g, n, parts, groups, oc
	j.x, j.w, j.bias, j.y, j.col = xd, wd, bias, out.Data(), col.Data()
	// The staged image (igemm.Patches.Stage) of one channel block or
	// group, where the geometry allows it.
	gs := g
	gs.C = convBlock(g, groups)
	if groups != 1 {
		gs.C = c / groups
	}
	pt := igemm.Patches[float32]{}
	setPatches(&pt, gs, nil, oh, ow, false)
	sl := pt.StageLen()
	j.implicit = convImplicit(g, groups, oc, sl > 0, !is32[T]())
	if j.implicit && sl > 0 {
		j.stage, j.stageLen = tp.alloc(max(parts, 1), sl).Data(), sl
	}
	if j.implicit && bias != nil && groups == 1 && convBlock(g, 1) == c && rows+1 <= fuseMaxK {
		// The bias as a last column of W against a row of ones in the
		// patches (see conv).
		wb := tp.alloc(oc, rows+1).Data()
		for o := range oc {
			copy(wb[o*(rows+1):], wd[o*rows:(o+1)*rows])
			wb[o*(rows+1)+rows] = bias[o]
		}
		j.wb = wb
	}
	j.runAll()

	nd := newNode[convNode[T]](tp, convKey)
	nd.x, nd.w, nd.b, nd.xc, nd.wc, nd.geom, nd.groups = x, w, b, cx, cw, g, groups
	return tp.record("Conv2d", nd, out, x, w, b)
}

// convNode is the saved state of Conv2d: the geometry and contiguous
// copies of strided operands (the patches are recomputed in backward).
type convNode[T tensor.Float] struct {
	x, w, b *Var[T]
	xc, wc  *tensor.Dense[T]
	geom    tensor.Conv2D
	groups  int
}

var convKey = newPoolKey()

// convParts is the number of parts a batch of n images is split into:
// fixed, not the thread count, because backward sums W̄ part by part, and
// a fixed split gives the same sum, bit for bit, on any number of
// threads. Eight parts keep two to eight threads busy on a batch of 128.
func convParts(n int) int { return min(n, convMaxParts) }

const convMaxParts = 8

func (nd *convNode[T]) backward(tp *Tape[T], u *Var[T]) {
	x, w, b := nd.x, nd.w, nd.b
	g, groups := nd.geom, nd.groups
	n, oc := x.value.Shape()[0], w.value.Shape()[0]
	rows, cols := g.ColShape()
	parts := convParts(n)
	needW, needB := w.requiresGrad, b != nil && b.requiresGrad
	j := tp.convJob()
	j.mode, j.g, j.n, j.chunks, j.groups, j.oc = cjBackward, g, n, parts, groups, oc
	j.x, j.w, j.y = data(x.value, nd.xc), data(w.value, nd.wc), u.grad.Data()
	j.wT = needW && convWTransposed(groups)
	if needW || needB {
		// Each part's W̄ and b̄ (one row each; with wT, W̄ᵀ with b̄ as
		// its last row), summed in part order below.
		j.part = tp.alloc(max(parts, 1), w.value.Size()+oc).Data()
	}
	j.needW, j.needB = needW, needB
	if needW {
		// With wT, room for the row of ones after the largest block.
		j.col = tp.alloc(max(parts, 1), rows+1, cols).Data()
	}
	if x.requiresGrad {
		j.gx, j.acc = tp.grad(x)
		j.dcol = tp.alloc(max(parts, 1), rows, cols).Data()
		if groups == 1 {
			// Wᵀ once, so that each image's col(X)‾ = Wᵀ·Ȳ packs A by
			// plain copies rather than transposing W in every call (5% of
			// CNNStep's profile at one thread).
			j.wt = tp.alloc(rows, oc).Data()
			transposeAdd(j.wt, j.w, oc, rows, false)
		}
		if l := col2imStagedLen(g); l > 0 && !convCol2ImLegacy {
			j.stage, j.stageLen = tp.alloc(max(parts, 1), l).Data(), l
		}
	}
	part, wT := j.part, j.wT
	j.runAll()
	if n == 0 {
		if needW {
			gw, acc := tp.grad(w)
			zeroIfFresh(gw, acc)
		}
		if needB {
			gb, acc := tp.grad(b)
			zeroIfFresh(gb, acc)
		}
		return
	}
	ws := w.value.Size()
	if wT {
		// Sum the parts' [W̄ᵀ; b̄] in part order into part 0, then
		// transpose into W̄ and copy b̄.
		p0 := part[:ws+oc]
		for k := 1; k < parts; k++ {
			addAcc(p0, part[k*(ws+oc):(k+1)*(ws+oc)])
		}
		gw, acc := tp.grad(w)
		transposeAdd(gw, p0[:ws], rows, oc, acc)
		if needB {
			gb, acc := tp.grad(b)
			if acc {
				addAcc(gb, p0[ws:])
			} else {
				copy(gb, p0[ws:])
			}
		}
		return
	}
	sum := func(dst []T, acc bool, off, size int) {
		for k := range parts {
			src := part[k*(ws+oc)+off : k*(ws+oc)+off+size]
			if k == 0 && !acc {
				copy(dst, src)
			} else {
				addAcc(dst, src)
			}
		}
	}
	if needW {
		gw, acc := tp.grad(w)
		sum(gw, acc, 0, ws)
	}
	if needB {
		gb, acc := tp.grad(b)
		sum(gb, acc, ws, oc)
	}
}

// convWTransposed says whether backward computes W̄ transposed, W̄ᵀ =
// col(X)·Ȳᵀ (with b̄ = 1ᵀ·Ȳᵀ as one more row, from a row of ones after
// the patches), rather than W̄ = Ȳ·col(X)ᵀ: for conv1 of the MNIST CNN
// the direct product has N = C·KH·KW = 25, a poor fit for the 16- and
// 32-wide kernels, where the transposed one is M = 26, N = OC = 32, and it
// folds b̄'s sums into the same product. Only with one group.
// convWDirect forces the direct product, for tests and benchmarks.
func convWTransposed(groups int) bool { return groups == 1 && !convWDirect }

var convWDirect = false

// convCol2ImLegacy forces tensor.Col2Im where col2imStaged applies, for
// tests and benchmarks.
var convCol2ImLegacy = false

// col2imStagedLen returns the scratch col2imStaged needs for one image's
// channel plane, or 0 where it does not apply (as igemm.Patches.Stage:
// stride 1 with output rows as long as input rows).
func col2imStagedLen(g tensor.Conv2D) int {
	if max(g.StrideH, 1) != 1 || max(g.StrideW, 1) != 1 {
		return 0
	}
	if _, ow := g.Out(); ow != g.W {
		return 0
	}
	return (g.H + 2*g.PadH) * g.W
}

// col2imStaged is tensor.Col2Im (x += col2im(dcol)) at stride 1 with
// output rows as long as input rows, by the inverse of
// igemm.Patches.Stage's layout: there, patch row (c, kh, kw) is the plane
// of channel c shifted by kw·DW − PW columns (H + 2·PH rows of W, PH of
// them zero above and below) read from row kh·DH on, OH·OW values in one
// run. So for each (c, kw) the KH patch rows are added into that plane
// with whole-row vector adds at offsets kh·DH·W, the plane's columns that
// wrapped past an edge (padding) are zeroed, and the plane's image rows
// are added into x shifted back, again one vector add: KW·(KH + 1) long
// adds per channel where Col2Im does KH·KW·OH scalar loops OW long (a
// fifth of the MNIST CNN's step for conv2). plane is scratch of
// col2imStagedLen(g) elements. The sums run in a different order from
// Col2Im's (over kh, then kw), the same for every thread count.
func col2imStaged[T tensor.Float](g tensor.Conv2D, x, dcol, plane []T) {
	dh, dw := max(g.DilationH, 1), max(g.DilationW, 1)
	w, hw := g.W, g.H*g.W
	oh, ow := g.Out()
	np := oh * ow
	plane = plane[:(g.H+2*g.PadH)*w]
	for c := range g.C {
		img := x[c*hw : (c+1)*hw]
		for kw := range g.KW {
			off := kw*dw - g.PadW
			lo, hi := max(-off, 0), min(w-off, w) // columns of the plane inside the image
			if lo >= hi {
				continue
			}
			for kh := range g.KH {
				row := dcol[((c*g.KH+kh)*g.KW+kw)*np:][:np]
				if kh == 0 {
					copy(plane, row)
					clear(plane[np:])
					continue
				}
				o := kh * dh * w
				addAcc(plane[o:o+np], row)
			}
			in := plane[g.PadH*w : g.PadH*w+hw]
			for r := 0; r < hw; r += w {
				for q := r; q < r+lo; q++ {
					in[q] = 0
				}
				for q := r + hi; q < r+w; q++ {
					in[q] = 0
				}
			}
			if off >= 0 {
				addAcc(img[off:], in[:hw-off])
			} else {
				addAcc(img[:hw+off], in[-off:])
			}
		}
	}
}

// convBack runs backward over the images of part i: with needW, W̄_i =
// Σ_n Ȳ_n·col(X_n)ᵀ and b̄_i = Σ_n Σ_p Ȳ_n into the part's row of j.part
// (with wT, [W̄ᵀ_i; b̄_i] = Σ_n [col(X_n); 1]·Ȳ_nᵀ), recomputing each
// patch matrix (cache-resident, where a batch's worth saved from forward
// would not be); with gx, col(X_n)‾ = Wᵀ·Ȳ_n and col2im into X̄_n.
func (j *cjob[T]) convBack(i, lo, hi int) {
	g := j.g
	rows, cols := g.ColShape()
	img := g.C * g.H * g.W
	ocg, kg := j.oc/j.groups, rows/j.groups
	ws := j.oc * kg
	var pw, pb []T
	if j.part != nil {
		pw = j.part[i*(ws+j.oc) : i*(ws+j.oc)+ws]
		pb = j.part[i*(ws+j.oc)+ws : (i+1)*(ws+j.oc)]
		clear(pb)
	}
	var plane []T
	if j.stage != nil {
		plane = j.stage[i*j.stageLen : (i+1)*j.stageLen]
	}
	hw, kk := g.H*g.W, g.KH*g.KW
	cb := convBlock(g, j.groups)
	for n := lo; n < hi; n++ {
		y := j.y[n*j.oc*cols : (n+1)*j.oc*cols]
		x := j.x[n*img : (n+1)*img]
		if j.needB && !j.wT {
			for o := range j.oc {
				pb[o] += sum8(y[o*cols : (o+1)*cols])
			}
		}
		var gx []T
		if j.gx != nil {
			gx = j.gx[n*img : (n+1)*img]
			if !j.acc {
				clear(gx)
			}
		}
		beta := betaOf[T](n > lo)
		if j.groups == 1 {
			for c0 := 0; c0 < g.C; c0 += cb {
				gb := g
				gb.C = min(cb, g.C-c0)
				rb := gb.C * kk
				if j.wT {
					// [W̄ᵀ; b̄] rows c0·KH·KW on += [col; 1]·Ȳᵀ, the ones
					// (and b̄'s row) with the last block only.
					col := j.col[i*(rows+1)*cols:]
					tensor.Im2Col(gb, col[:rb*cols], x[c0*hw:])
					m := rb
					if j.needB && c0+gb.C == g.C {
						fillConst(col[rb*cols:(rb+1)*cols], 1)
						m++
					}
					pt := j.part[i*(ws+j.oc)+c0*kk*j.oc : (i+1)*(ws+j.oc)]
					mm(false, true, m, j.oc, cols, col, cols, y, cols, beta, pt, j.oc)
				} else if j.needW {
					col := j.col[i*(rows+1)*cols : i*(rows+1)*cols+rb*cols]
					tensor.Im2Col(gb, col, x[c0*hw:])
					mm(false, true, j.oc, rb, cols, y, cols, col, cols, beta, pw[c0*kk:], kg)
				}
				if gx != nil {
					dcol := j.dcol[i*rows*cols : i*rows*cols+rb*cols]
					mm(false, false, rb, cols, j.oc, j.wt[c0*kk*j.oc:], j.oc, y, cols, 0, dcol, cols)
					if plane != nil {
						col2imStaged(gb, gx[c0*hw:], dcol, plane)
					} else {
						tensor.Col2Im(gb, gx[c0*hw:], dcol)
					}
				}
			}
			continue
		}
		if j.needW {
			col := j.col[i*(rows+1)*cols : i*(rows+1)*cols+rows*cols]
			tensor.Im2Col(g, col, x)
			for gr := range j.groups {
				mm(false, true, ocg, kg, cols, y[gr*ocg*cols:], cols, col[gr*kg*cols:], cols, beta, pw[gr*ocg*kg:], kg)
			}
		}
		if gx != nil {
			dcol := j.dcol[i*rows*cols : (i+1)*rows*cols]
			for gr := range j.groups {
				mm(true, false, kg, cols, ocg, j.w[gr*ocg*kg:], kg, y[gr*ocg*cols:], cols, 0, dcol[gr*kg*cols:], cols)
			}
			if plane != nil {
				col2imStaged(g, gx, dcol, plane)
			} else {
				tensor.Col2Im(g, gx, dcol)
			}
		}
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
	cjBackward
)

// chunkBounds returns range i of chunks near-equal ranges of [0, n).
func chunkBounds(i, n, chunks int) (lo, hi int) {
	chunks = max(chunks, 1)
	q, r := n/chunks, n%chunks
	lo = i*q + min(i, r)
	hi = lo + q
	if i < r {
		hi++
	}
	return lo, hi
}

// runChunks runs run(i) for every i < chunks, in parallel when there are
// several (run is a job's chunk method bound once, so that no closure is
// allocated per pass).
func runChunks(n, chunks int, run func(i int)) {
	if n > 0 {
		if chunks <= 1 {
			run(0)
		} else {
			parallel.Do(chunks, run)
		}
	}
}

// cjob is a Conv2d pass over the images of a batch, split into a fixed
// number of parts of whole images: each one's result is computed the same
// way whatever the split, so results do not depend on the thread count.
// The tape has one, reused by every convolution. (Pooling and batch norm
// have their own jobs, poolJob and bnJob.)
type cjob[T tensor.Float] struct {
	mode               int
	g                  tensor.Conv2D
	n, chunks          int
	groups, oc         int
	x, w, bias, y, col []T
	gx, dcol, part     []T  // Conv2d backward: X̄, col(X)‾ per part, W̄ and b̄ per part
	needW, needB       bool // Conv2d backward: W̄, b̄ wanted
	wT                 bool // Conv2d backward: W̄ᵀ and b̄ in one product (convWTransposed)
	wt                 []T  // Conv2d backward: Wᵀ, C·KH·KW × OC (groups = 1, X̄ wanted)
	acc                bool // backward: add into the input's adjoint instead of overwriting
	implicit           bool // Conv2d forward: pack patches straight into GEMM's panels
	wb                 []T  // Conv2d forward: [W | b], OC × (C·KH·KW + 1), for the fused bias
	stage              []T  // Conv2d: per part, stageLen elements of staged image (implicit forward) or plane (col2imStaged)
	stageLen           int
	pt32               [convMaxParts]igemm.Patches[float32] // per part: its image's patches (implicit)
	pt64               [convMaxParts]igemm.Patches[float64]
	run                func(i int)
}

func (j *cjob[T]) runAll() {
	runChunks(j.n, j.chunks, j.run)
	j.x, j.w, j.bias, j.y, j.col, j.wb, j.stage = nil, nil, nil, nil, nil, nil, nil
	j.gx, j.dcol, j.part, j.wt = nil, nil, nil, nil
	for i := range convMaxParts {
		j.pt32[i].X, j.pt64[i].X = nil, nil
	}
}

// chunk runs part i of the j.chunks parts of [0, j.n).
func (j *cjob[T]) chunk(i int) {
	lo, hi := chunkBounds(i, j.n, j.chunks)
	if j.mode == cjBackward {
		j.convBack(i, lo, hi)
	} else {
		j.conv(i, lo, hi)
	}
}

// convBlock is the number of input channels whose patch rows are built
// and multiplied at a time with one group: about 32K elements of patch
// matrix (128 KB in float32), so that im2col's writes and GEMM's packing
// reads stay in the core's L2 cache instead of streaming C·KH·KW·OH·OW
// elements per image through memory. Each block adds its share to Y (and
// W̄, X̄) with beta = 1, always in channel order.
func convBlock(g tensor.Conv2D, groups int) int {
	if groups != 1 {
		return g.C
	}
	_, cols := g.ColShape()
	return max(1, min(g.C, convBlockElems/max(g.KH*g.KW*cols, 1)))
}

// convBlockElems is convBlock's budget; tests lower it to run many blocks.
var convBlockElems = 32 << 10

// conv runs the forward pass over the images of part i.
func (j *cjob[T]) conv(i, lo, hi int) {
	g := j.g
	rows, cols := g.ColShape()
	hw, img, kk := g.H*g.W, g.C*g.H*g.W, g.KH*g.KW
	ocg, kg := j.oc/j.groups, rows/j.groups
	var col []T
	if j.col != nil {
		col = j.col[i*rows*cols : (i+1)*rows*cols]
	}
	cb := convBlock(g, j.groups)
	for n := lo; n < hi; n++ {
		y := j.y[n*j.oc*cols : (n+1)*j.oc*cols]
		x := j.x[n*img : (n+1)*img]
		if j.wb != nil && j.implicitMM(i, g, x, j.oc, j.wb, rows+1, 0, y, true) {
			continue
		}
		beta := T(0)
		if j.bias != nil {
			for o, bv := range j.bias {
				fillConst(y[o*cols:(o+1)*cols], bv)
			}
			beta = 1
		}
		if j.groups == 1 {
			for c0 := 0; c0 < g.C; c0 += cb {
				gb := g
				gb.C = min(cb, g.C-c0)
				rb := gb.C * kk
				if !j.implicit || !j.implicitMM(i, gb, x[c0*hw:], j.oc, j.w[c0*kk:], kg, beta, y, false) {
					tensor.Im2Col(gb, col[:rb*cols], x[c0*hw:])
					mm(false, false, j.oc, cols, rb, j.w[c0*kk:], kg, col, cols, beta, y, cols)
				}
				beta = 1
			}
			continue
		}
		gg := g
		gg.C = g.C / j.groups
		built := false
		for gr := range j.groups {
			if j.implicit && j.implicitMM(i, gg, x[gr*gg.C*hw:], ocg, j.w[gr*ocg*kg:], kg, beta, y[gr*ocg*cols:], false) {
				continue
			}
			if !built {
				tensor.Im2Col(g, col, x)
				built = true
			}
			mm(false, false, ocg, cols, kg, j.w[gr*ocg*kg:], kg, col[gr*kg*cols:], cols, beta, y[gr*ocg*cols:], cols)
		}
	}
}

// convImplicit says whether the forward product packs the patches straight
// into GEMM's panels (implicitMM) rather than building them with Im2Col;
// the two give the same bits, so this is a choice of speed only, made from
// the shape and the GEMM kernel alone (so the same for every thread count).
//
// Where the image can be staged (stride 1, output rows as long as input
// rows: staged) and GEMM reads the staged patch rows in place
// (igemm.ReadsInPlace: the AVX-512 kernels, up to 800 rows of C in
// float32, 256 in float64), the implicit path copies KW shifted images
// where im2col copies KH·KW, and GEMM reads both the same way, so it wins
// at every shape measured (BenchmarkConv2dShapes, one thread, f32, batch
// 32, bias, cpu-GFLOP/s im2col / implicit, two alternated runs, idle Zen 5
// VM):
//
//	OC  C→   image  kernel  K    im2col     implicit
//	32  1    28×28  5×5     25   99, 95     150, 144   conv1 of the MNIST CNN
//	64  3    32×32  3×3     27   91, 93     148, 165
//	32  2    28×28  5×5     50   114, 117   131, 125
//	32  4    28×28  5×5     100  113, 120   138, 140
//	32  16   28×28  3×3     144  126, 120   151, 147
//	64  32   14×14  5×5     800  135, 133   142, 149   conv2 (channel blocks of 150)
//	128 64   7×7    3×3     576  95, 103    102, 112
//	128 64   16×16  3×3     576  153, 156   161, 165
//
// Otherwise GEMM packs the patches through the callback, and the rule is
// the one measured before the in-place read (same benchmark, Zen 5 VM at
// load 3–10): with at most 64 output channels per group GEMM reads
// im2col's matrix in place, so im2col is one pass of plain row copies and
// packing pays only where the product is very shallow (K = C/groups·KH·KW
// at most implicitMaxK: 98 against 85 for conv1's shape, 74 against 83 at
// K = 50); with more output channels GEMM packs B either way, and packing
// the patches directly saves im2col's pass.
//
// igemm.ConvPath overrides it for tests and benchmarks.
func convImplicit(g tensor.Conv2D, groups, oc int, staged, f64 bool) bool {
	switch igemm.ConvPath {
	case igemm.ConvIm2Col:
		return false
	case igemm.ConvImplicit:
		return true
	}
	if staged && igemm.ReadsInPlace(oc/groups, f64) {
		return true
	}
	return oc/groups > implicitMinOC || g.C/groups*g.KH*g.KW <= implicitMaxK
}

// convImplicit's cut-offs for packed patches (see there): GEMM packs B
// from 65 rows of C (directBRows was 64 when measured), and K = 27 gained
// where K = 50 lost.
const (
	implicitMinOC = 64
	implicitMaxK  = 32
)

// implicitMM computes y = w·col(x) + beta·y for the image (or channel
// block) x of geometry g without building col: GEMM packs the patches
// straight into its B panels (internal/igemm), the same panels it would
// pack from Im2Col's matrix, so the result is bitwise the same. It reports
// false, doing nothing, where GEMM would take another path for the shape.
// Part i's patches are the job's pt32[i] or pt64[i], kept there so that
// handing them to GEMM allocates nothing.
//
// With ones, w is [W | b] and the patches get a last row of ones, so the
// product adds the bias itself and y is written once, not filled with the
// bias first and read back (for conv1, 32×784 values an image, that pass
// cost as much as the GEMM). The bias is then the last term of each dot
// product, fma(b, 1, acc) = round(acc + b), which is exactly what the
// unfused path computes from C = b with beta = 1, provided the whole sum
// is one depth block of GEMM (fuseMaxK), as it is with one channel block.
func (j *cjob[T]) implicitMM(i int, g tensor.Conv2D, x []T, oc int, w []T, ldw int, beta T, y []T, ones bool) bool {
	oh, ow := g.Out()
	m, n, k := oc, oh*ow, g.C*g.KH*g.KW
	if ones {
		k++
	}
	var stage []T
	if j.stage != nil {
		stage = j.stage[i*j.stageLen : (i+1)*j.stageLen]
	}
	if is32[T]() {
		pt := &j.pt32[i]
		setPatches(pt, g, f32(x), oh, ow, ones)
		if stage != nil {
			pt.Stage(f32(stage))
		}
		return igemm.Sgemm(m, n, k, 1, f32(w), ldw, pt, float32(beta), f32(y), n)
	}
	pt := &j.pt64[i]
	setPatches(pt, g, f64(x), oh, ow, ones)
	if stage != nil {
		pt.Stage(f64(stage))
	}
	return igemm.Dgemm(m, n, k, 1, f64(w), ldw, pt, float64(beta), f64(y), n)
}

// fuseMaxK bounds C·KH·KW + 1 for the fused bias: below GEMM's smallest
// depth block (kcMin, 384), so the product is one block.
const fuseMaxK = 256

func setPatches[T float32 | float64](pt *igemm.Patches[T], g tensor.Conv2D, x []T, oh, ow int, ones bool) {
	*pt = igemm.Patches[T]{X: x, C: g.C, H: g.H, W: g.W, KH: g.KH, KW: g.KW,
		SH: max(g.StrideH, 1), SW: max(g.StrideW, 1), PH: g.PadH, PW: g.PadW,
		DH: max(g.DilationH, 1), DW: max(g.DilationW, 1), OH: oh, OW: ow, Ones: ones,
		Off: pt.Off} // Stage's offset table, kept so that it allocates once
}

// fillConst sets every element of s to v by doubling copies, which run as
// vector moves where a loop of single stores does not (the bias rows of
// conv1's output, 32×784 values per image, took as long as its GEMM).
func fillConst[T tensor.Float](s []T, v T) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for f := 1; f < len(s); f *= 2 {
		copy(s[f:], s[:f])
	}
}

// sum8 returns the sum of s in eight interleaved partial sums, combined in
// a fixed order: one accumulator is a chain of dependent additions, four
// cycles each, which made b̄'s sums over conv1's 784 pixels per channel a
// sixth of its backward.
func sum8[T tensor.Float](s []T) T {
	var a [8]T
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := (*[8]T)(s[i:])
		a[0] += v[0]
		a[1] += v[1]
		a[2] += v[2]
		a[3] += v[3]
		a[4] += v[4]
		a[5] += v[5]
		a[6] += v[6]
		a[7] += v[7]
	}
	for ; i < len(s); i++ {
		a[i%8] += s[i]
	}
	return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}
