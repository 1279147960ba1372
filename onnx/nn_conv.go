package onnx

import (
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// Convolutions: Conv and ConvTranspose over 1, 2 or 3 (any number of)
// spatial dimensions, NCHW, weights [M, C/group, k...] as ONNX and PyTorch
// store them.
//
// Conv is a GEMM over image patches, Y_g = W_g·col(X_g) per image and
// group, as autograd's Conv2d: the patch matrix comes from tensor.Im2Col
// (1-D and 2-D with symmetric padding; asymmetric padding first copies the
// image into a padded buffer), a 1×1 convolution at stride 1 multiplies the
// image itself, a KH×1 one at stride 1 without padding multiplies it KH
// times shifted by rows (convShift, with constant weights), and other
// ranks use a general patch extraction. Constant weights are packed for
// the GEMM once (nn_fuse_convpack.go). The bias
// is written first and the product added with beta = 1. A depthwise
// convolution (one input channel per group: MobileNet, EfficientNet) has a
// kernel of its own that slides the window over each channel directly,
// rather than C one-row GEMMs. A fused activation (set by the graph
// rewrites in fuse_*.go) is applied to each image's output while it is
// still in cache.
//
// ConvTranspose is Conv's adjoint with respect to its input: col = W_gᵀ·X_g
// (one GEMM with a transpose flag), scattered into the output by col2im.

func init() {
	Register("", "Conv", 1, Latest, newConv)
	Register("", "ConvTranspose", 1, Latest, newConvTranspose)
}

// act is an activation fused into a kernel's epilogue.
type act struct {
	kind   int // actNone, actRelu, actClip, actGelu, actLeaky
	lo, hi float32
	alpha  float32 // actLeaky's slope; then clamped to [lo, hi]
}

const (
	actNone = iota
	actRelu
	actClip
	actGelu      // erf GELU (nn_fuse_gelu.go)
	actLeaky     // LeakyRelu, then clamped to [lo, hi] (tf2onnx's Max after it)
	actHardSwish // x·min(max(x + 3, 0), 6)/6 (nn_fuse_hardswish.go)
)

// apply applies a to s in place.
func applyAct[T real](a act, s []T) {
	switch a.kind {
	// min and max compile to branch-free code; a branch per element
	// mispredicts on activations of random sign (measured 5-10× slower).
	case actRelu:
		for i, v := range s {
			s[i] = max(v, 0)
		}
	case actClip:
		lo, hi := T(a.lo), T(a.hi)
		for i, v := range s {
			s[i] = min(max(v, lo), hi)
		}
	case actGelu:
		geluRun(s, s)
	case actHardSwish:
		for i, v := range s {
			s[i] = v * min(max(v+3, 0), 6) / 6
		}
	case actLeaky:
		// max(v, 0) + α·min(v, 0) is the slope without a branch.
		al, lo, hi := T(a.alpha), T(a.lo), T(a.hi)
		for i, v := range s {
			s[i] = min(max(max(v, 0)+al*min(v, 0), lo), hi)
		}
	}
}

type convKernel struct {
	node  *Node
	win   window
	group int
	act   act
	// sum, set by the Conv+Add rewrite (nn_fuse_convadd.go), says input 3
	// is a residual added before the activation: y = act(conv + bias + r).
	sum bool
	// pack, set by markConstW when W is a constant, holds W packed for
	// the GEMM (nn_fuse_convpack.go).
	pack   *packedW
	cache  atomic.Pointer[geomCache]
	wino   atomic.Pointer[winoWeights] // nn_winograd.go
	buffer scratch
	jobs   jobList
}

// geomCache keeps the geometry of the last input shape, so that repeated
// runs with the same shapes resolve nothing and allocate nothing.
type geomCache struct {
	in, k []int
	g     geom
}

func (c *geomCache) match(in, k []int) bool {
	return c != nil && eqInts(c.in, in) && eqInts(c.k, k)
}

func eqInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// resolveCached resolves w over in (kernel k) through cache p.
func resolveCached(p *atomic.Pointer[geomCache], w window, in, k []int) (geom, error) {
	if c := p.Load(); c.match(in, k) {
		return c.g, nil
	}
	g, err := w.resolve(in, k)
	if err != nil {
		return g, err
	}
	p.Store(&geomCache{in: append([]int(nil), in...), k: append([]int(nil), k...), g: g})
	return g, nil
}

func newConv(n *Node) (Kernel, error) {
	w, err := readWindow(n)
	if err != nil {
		return nil, err
	}
	k := &convKernel{node: n, win: w, group: int(n.Int("group", 1))}
	if k.group < 1 {
		return nil, n.Errorf("group %d < 1", k.group)
	}
	if len(n.Inputs) < 2 {
		return nil, n.Errorf("needs inputs X and W, has %d", len(n.Inputs))
	}
	return k, n.Err()
}

// convShapes checks Conv's inputs and returns N, C, M, C/group and the
// spatial geometry.
func (k *convKernel) shapes(x, w, b *Tensor) (n, c, m int, g geom, err error) {
	if x.DType != w.DType || b != nil && b.DType != x.DType {
		return 0, 0, 0, g, fmt.Errorf("Conv: element types differ: X %v, W %v", x.DType, w.DType)
	}
	if _, ok := floatKind(x.DType); !ok {
		return 0, 0, 0, g, fmt.Errorf("Conv: element type %v: %w", x.DType, ErrUnsupported)
	}
	if x.Rank() < 3 || w.Rank() != x.Rank() {
		return 0, 0, 0, g, fmt.Errorf("Conv: X shape %v and W shape %v: want N×C×D… and M×C/group×k… of one rank ≥ 3", x.Shape, w.Shape)
	}
	n, c, m = x.Shape[0], x.Shape[1], w.Shape[0]
	if c != w.Shape[1]*k.group || m%k.group != 0 {
		return 0, 0, 0, g, fmt.Errorf("Conv: X shape %v, W shape %v and group %d do not fit", x.Shape, w.Shape, k.group)
	}
	if k.win.kernel != nil && !eqInts(k.win.kernel, w.Shape[2:]) {
		return 0, 0, 0, g, fmt.Errorf("Conv: kernel_shape %v differs from W shape %v", k.win.kernel, w.Shape)
	}
	if b != nil && (b.Rank() != 1 || b.Shape[0] != m) {
		return 0, 0, 0, g, fmt.Errorf("Conv: B shape %v, want [%d]", b.Shape, m)
	}
	g, err = resolveCached(&k.cache, k.win, x.Shape[2:], w.Shape[2:])
	if err != nil {
		return 0, 0, 0, g, fmt.Errorf("Conv: X shape %v, W shape %v: %v", x.Shape, w.Shape, err)
	}
	return n, c, m, g, nil
}

func (k *convKernel) Run(in, out []*Tensor) error {
	x, w, b := in[0], in[1], Input(in, 2)
	n, c, m, g, err := k.shapes(x, w, b)
	if err != nil {
		return err
	}
	y := out[0]
	var shape [8]int
	s := append(append(shape[:0], n, m), g.out...)
	y.Reset(x.DType, s)
	var r *Tensor
	if k.sum {
		r = Input(in, 3)
		if r == nil {
			return fmt.Errorf("Conv: fused residual input missing")
		}
		if !eqInts(r.Shape, s) || r.DType != x.DType {
			// Not the same shape: convolve, then add with broadcasting as
			// the Add that was fused would have.
			return k.runBroadcastSum(x, w, b, r, y, g, n, c, m)
		}
	}
	if k.winograd(g, n, c, m, x, w, b, r, y) {
		return nil
	}
	if f32, _ := floatKind(x.DType); f32 {
		convRun(k, k.act, g, n, c, m, floatsOf[float32](x), floatsOf[float32](w), biasOf[float32](b), biasOf[float32](r), floatsOf[float32](y))
	} else {
		convRun(k, k.act, g, n, c, m, floatsOf[float64](x), floatsOf[float64](w), biasOf[float64](b), biasOf[float64](r), floatsOf[float64](y))
	}
	return nil
}

// runBroadcastSum is Run for a fused residual whose shape differs from the
// convolution's output: it must broadcast to it (else the unfused Add
// would have changed the output's shape, which the rewrite never allows to
// pass silently).
func (k *convKernel) runBroadcastSum(x, w, b, r, y *Tensor, g geom, n, c, m int) error {
	bs, err := BroadcastShape(y.Shape, r.Shape)
	if err != nil || !eqInts(bs, y.Shape) || r.DType != x.DType {
		return fmt.Errorf("Conv: fused residual shape %v %v does not broadcast to the output %v", r.DType, r.Shape, y.Shape)
	}
	st := BroadcastStrides(r.Shape, y.Shape)
	id := BroadcastStrides(y.Shape, y.Shape)
	if f32, _ := floatKind(x.DType); f32 {
		convRun(k, act{}, g, n, c, m, floatsOf[float32](x), floatsOf[float32](w), biasOf[float32](b), nil, y.F32)
		ForBroadcast(y.Shape, [][]int{id, st}, func(i int, idx []int) { y.F32[i] += r.F32[idx[1]] })
		applyAct(k.act, y.F32)
	} else {
		convRun(k, act{}, g, n, c, m, floatsOf[float64](x), floatsOf[float64](w), biasOf[float64](b), nil, y.F64)
		ForBroadcast(y.Shape, [][]int{id, st}, func(i int, idx []int) { y.F64[i] += r.F64[idx[1]] })
		applyAct(k.act, y.F64)
	}
	return nil
}

func biasOf[T real](b *Tensor) []T {
	if b == nil {
		return nil
	}
	return floatsOf[T](b)
}

// convRun computes the convolution y = a(conv(x, w) + bias + res), res
// (the fused residual, of y's shape) and bias optional.
func convRun[T real](k *convKernel, a act, g geom, n, c, m int, x, w, bias, res, y []T) {
	r := len(g.in)
	if r == 1 {
		// A 1-D convolution is a 2-D one of height 1.
		g = geom{in: []int{1, g.in[0]}, k: []int{1, g.k[0]}, s: []int{1, g.s[0]}, d: []int{1, g.d[0]},
			pb: []int{0, g.pb[0]}, pe: []int{0, g.pe[0]}, out: []int{1, g.out[0]}}
		r = 2
	}
	cg, mg := c/k.group, m/k.group
	in, ohw := numel(g.in), numel(g.out)
	kk := numel(g.k)
	if n == 0 || m == 0 || ohw == 0 {
		return
	}
	if r == 2 && cg > 1 && kk > 1 && !convNoDirect && (cg*kk <= directTaps || cg <= directTileChannels) &&
		convDirect(k, a, g, n, c, m, x, w, bias, res, y) {
		return // nn_convdirect.go
	}
	if r == 2 && (cg == 1 || kk > 1 && cg*kk <= directTaps && !convNoDirect) {
		convDepthwise(k, a, g, n, c, m, x, w, bias, res, y)
		return
	}
	kc := cg * kk
	direct := kk == 1 && allOne(g.s) && allZero(g.pb) && allZero(g.pe)
	// A KH×1 window at stride 1 without padding reads, for each kh, the
	// image itself shifted by kh rows: KH products of depth C/group read
	// it in place and accumulate (convShift), with no patch matrix.
	var sh convShift
	if r == 2 && g.k[0] > 1 && g.k[1] == 1 && allOne(g.s) && allZero(g.pb) && allZero(g.pe) && k.pack != nil && !convNoShift {
		sh = convShift{kh: g.k[0], rowOff: g.d[0] * g.in[1], ld: in}
		direct = true
	}
	if direct && sh.kh == 0 && conv1x1(k, a, n, c, m, ohw, x, w, bias, res, y) {
		return
	}
	sym := g.symmetric()
	var col, pad *[]T
	if !direct {
		col = getScratch[T](&k.buffer, kc*ohw)
		defer putScratch(&k.buffer, col)
	}
	pin := in
	if r == 2 && !sym {
		pin = (g.in[0] + g.pb[0] + g.pe[0]) * (g.in[1] + g.pb[1] + g.pe[1])
		pad = getScratch[T](&k.buffer, cg*pin)
		defer putScratch(&k.buffer, pad)
	}
	for i := range n {
		for gr := range k.group {
			xg := x[(i*c+gr*cg)*in : (i*c+(gr+1)*cg)*in]
			yg := y[(i*m+gr*mg)*ohw : (i*m+(gr+1)*mg)*ohw]
			var bg, rg []T
			if bias != nil {
				bg = bias[gr*mg : (gr+1)*mg]
			}
			if res != nil {
				rg = res[(i*m+gr*mg)*ohw : (i*m+(gr+1)*mg)*ohw]
			}
			wg := w[gr*mg*kc : (gr+1)*mg*kc]
			b := xg
			switch {
			case direct:
			case r == 2 && convImplicitPays(mg, kc):
				// GEMM packs the patches straight into its panels.
				src, hh, ww, ph, pw := xg, g.in[0], g.in[1], g.pb[0], g.pb[1]
				if !sym {
					padImage(*pad, xg, cg, g)
					src, ph, pw = *pad, 0, 0
					hh, ww = g.in[0]+g.pb[0]+g.pe[0], g.in[1]+g.pb[1]+g.pe[1]
				}
				pt := &igemm.Patches[T]{X: src, C: cg, H: hh, W: ww, KH: g.k[0], KW: g.k[1],
					SH: g.s[0], SW: g.s[1], PH: ph, PW: pw, DH: g.d[0], DW: g.d[1], OH: g.out[0], OW: g.out[1]}
				if convImplicitBlocks(k, a, pt, mg, ohw, kc, wg, yg, bg, rg) {
					continue
				}
				// GEMM would not pack for this shape: build the patches.
				cv := tensor.Conv2D{C: cg, H: hh, W: ww, KH: g.k[0], KW: g.k[1],
					StrideH: g.s[0], StrideW: g.s[1], PadH: ph, PadW: pw, DilationH: g.d[0], DilationW: g.d[1]}
				im2colParallel(&k.jobs, cv, *col, src, kk*ohw, hh*ww)
				b = *col
			case r == 2:
				cv := tensor.Conv2D{C: cg, H: g.in[0], W: g.in[1], KH: g.k[0], KW: g.k[1],
					StrideH: g.s[0], StrideW: g.s[1], PadH: g.pb[0], PadW: g.pb[1],
					DilationH: g.d[0], DilationW: g.d[1]}
				src := xg
				if !sym {
					padImage(*pad, xg, cg, g)
					src = *pad
					cv.H, cv.W = g.in[0]+g.pb[0]+g.pe[0], g.in[1]+g.pb[1]+g.pe[1]
					cv.PadH, cv.PadW = 0, 0
				}
				im2colParallel(&k.jobs, cv, *col, src, kk*ohw, cv.H*cv.W)
				b = *col
			default:
				im2colND(*col, xg, cg, g)
				b = *col
			}
			// In column blocks whose output fits in L2, so that the
			// epilogue reads it from cache (A, packed once or repacked
			// per block, is small next to the block's product).
			nb := ohw
			if ohw >= 2*convColBlock && mg*kc <= 1<<16 {
				nb = max(256, convColBlock*64/mg) &^ 63
				if th := parallel.Threads(); th > 1 && !convNoColSplit {
					// Whole blocks to each thread, product and epilogue
					// (one hand-off for the convolution; the blocks'
					// products alone are often below GEMM's parallel
					// cut-off, and their epilogues below epiGrain, so
					// that they ran on one thread): as many blocks as a
					// multiple of the threads, 16 columns (64 bytes)
					// apart.
					nblk := (ohw + nb - 1) / nb
					nblk = (nblk + th - 1) / th * th
					nb = ((ohw+nblk-1)/nblk + 15) &^ 15
					forArgs(&k.jobs, (ohw+nb-1)/nb, 1, convColArgs[T]{k, a, w, b, yg, bg, rg, gr, mg, kc, ohw, nb, sh})
					continue
				}
			}
			for j0 := 0; j0 < ohw; j0 += nb {
				j1 := min(j0+nb, ohw)
				if sh.kh > 0 {
					convGemmShift(k, w, sh, gr, mg, j1-j0, cg, b[j0:], yg[j0:], ohw)
				} else {
					convGemm(k, w, gr, mg, j1-j0, kc, b[j0:], ohw, yg[j0:], ohw)
				}
				var rb []T
				if rg != nil {
					rb = rg[j0:]
				}
				biasAct(&k.jobs, a, yg[j0:], bg, rb, mg, j1-j0, ohw)
			}
		}
	}
}

// convColArgs is the product and epilogue of column blocks of one image
// and group of a convolution (convRun), for forArgs: block i is columns
// [i·nb, (i+1)·nb) of b and y, ohw columns in all.
type convColArgs[T real] struct {
	k                  *convKernel
	a                  act
	w, b, y, bias, res []T
	gr, mg, kc         int
	ohw, nb            int
	sh                 convShift
}

func (c convColArgs[T]) block(lo, hi int) {
	for i := lo; i < hi; i++ {
		j0 := i * c.nb
		j1 := min(j0+c.nb, c.ohw)
		if j0 >= j1 {
			return
		}
		if c.sh.kh > 0 {
			convGemmShift(c.k, c.w, c.sh, c.gr, c.mg, j1-j0, c.kc/c.sh.kh, c.b[j0:], c.y[j0:], c.ohw)
		} else {
			convGemm(c.k, c.w, c.gr, c.mg, j1-j0, c.kc, c.b[j0:], c.ohw, c.y[j0:], c.ohw)
		}
		var rb []T
		if c.res != nil {
			rb = c.res[j0:]
		}
		biasArgs[T]{c.a, c.y[j0:], c.bias, rb, j1 - j0, c.ohw}.block(0, c.mg)
	}
}

// convNoColSplit turns off the split of column blocks between threads
// (convColArgs), for measurements that compare it with GEMM's own split.
var convNoColSplit = false

// convImplicitPays says whether the convolution's GEMM packs patches
// straight from the image (internal/igemm) rather than from an im2col
// matrix. With the AVX-512 kernels (igemm.ReadsInPlace reports them) it is
// autograd's measured rule (autograd/conv.go, convImplicit, Zen 5): more
// than 64 output channels per group, or a very shallow product. With the
// AVX2 kernels im2col measured faster on ResNet-18 (Zen 3 VM, one thread,
// CPU time per run, four alternated rounds: implicit 89, 96, 84, 77 ms
// against im2col 86, 81, 73, 73 ms), so there it is never used.
// convIm2ColOnly forces im2col, for the tests that compare the two.
func convImplicitPays(mg, kc int) bool {
	if convIm2ColOnly || !(convImplicitAlways || igemm.ReadsInPlace(1, false)) {
		return false
	}
	return mg > 64 || kc <= 32
}

// convImplicitAlways applies the AVX-512 rule on any kernel, for the tests
// that compare the two paths.
var convImplicitAlways = false

var convIm2ColOnly = false

// colShift is a Packer for columns [off, off+n) of another's B.
type colShift[T real] struct {
	p   igemm.Packer[T]
	off int
}

func (c colShift[T]) PackB(dst []T, p0, j0, nb, kb, nr, ew, q0, q1 int) {
	c.p.PackB(dst, p0, j0+c.off, nb, kb, nr, ew, q0, q1)
}

// convImplicitBlocks runs the implicit GEMM for one image and group in the
// column blocks of the im2col path, each followed by its epilogue; false
// where GEMM would not pack for the shape (nothing written then).
func convImplicitBlocks[T real](k *convKernel, a act, pt *igemm.Patches[T], mg, ohw, kc int, wg, yg, bg, rg []T) bool {
	nb := ohw
	if ohw >= 2*convColBlock && mg*kc <= 1<<16 {
		nb = max(256, convColBlock*64/mg) &^ 63
	}
	for j0 := 0; j0 < ohw; j0 += nb {
		j1 := min(j0+nb, ohw)
		var pk igemm.Packer[T] = pt
		if j0 > 0 || j1 < ohw {
			pk = colShift[T]{pt, j0}
		}
		if !igemm.Gemm(mg, j1-j0, kc, 1, wg, kc, pk, 0, yg[j0:], ohw) {
			if j0 == 0 {
				return false
			}
			// A shorter last block may take another GEMM path than the
			// first: build the patches the plain way for it (rare: an
			// allocation of one patch matrix).
			cv := tensor.Conv2D{C: pt.C, H: pt.H, W: pt.W, KH: pt.KH, KW: pt.KW, StrideH: pt.SH, StrideW: pt.SW,
				PadH: pt.PH, PadW: pt.PW, DilationH: pt.DH, DilationW: pt.DW}
			col := make([]T, kc*ohw)
			tensor.Im2Col(cv, col, pt.X)
			gemmT(false, false, mg, j1-j0, kc, 1, wg, kc, col[j0:], ohw, 0, yg[j0:], ohw)
		}
		var rb []T
		if rg != nil {
			rb = rg[j0:]
		}
		biasAct(&k.jobs, a, yg[j0:], bg, rb, mg, j1-j0, ohw)
	}
	return true
}

// convColBlock·64 is the number of output elements per column block of
// the convolution's GEMM (64K floats: 256 KB).
const convColBlock = 1024

// biasAct adds bias[r] to each of the rows×cols block's rows r (rows ld
// apart in y and in res) and res when not nil, and applies a, in one
// pass: the epilogue of a product computed with beta = 0. Rows run in
// parallel, epiGrain elements or more to a thread.
func biasAct[T real](l *jobList, a act, y, bias, res []T, rows, cols, ld int) {
	args := biasArgs[T]{a, y, bias, res, cols, ld}
	if rows*cols < 2*epiGrain || parallel.Threads() == 1 {
		args.block(0, rows)
		return
	}
	forArgs(l, rows, max(1, epiGrain/cols), args)
}

// epiGrain is the least number of elements of an epilogue a thread is
// handed (docs/onnx-vs-ort.md has the measurements).
const epiGrain = 1 << 15

type biasArgs[T real] struct {
	a            act
	y, bias, res []T
	cols, ld     int
}

func (b biasArgs[T]) block(lo, hi int) {
	for r := lo; r < hi; r++ {
		row := b.y[r*b.ld : r*b.ld+b.cols]
		var bv T
		if b.bias != nil {
			bv = b.bias[r]
		}
		var rr []T
		if b.res != nil {
			rr = b.res[r*b.ld : r*b.ld+b.cols]
		}
		epilogue(b.a, row, rr, bv)
	}
}

func fill[T real](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

func allOne(s []int) bool {
	for _, v := range s {
		if v != 1 {
			return false
		}
	}
	return true
}

func allZero(s []int) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
}

// im2colParallel runs tensor.Im2Col over blocks of channels in parallel:
// channel c's patch rows are rows [c·KH·KW, (c+1)·KH·KW), contiguous, so
// each block writes its own rows.
func im2colParallel[T real](l *jobList, cv tensor.Conv2D, col, x []T, rowsPerC, hw int) {
	if cv.C*rowsPerC < 1<<15 && !forceParallel || parallel.Threads() == 1 {
		tensor.Im2Col(cv, col, x)
		return
	}
	forArgs(l, cv.C, 1, im2colArgs[T]{cv, col, x, rowsPerC, hw})
}

type im2colArgs[T real] struct {
	cv           tensor.Conv2D
	col, x       []T
	rowsPerC, hw int
}

func (a im2colArgs[T]) block(lo, hi int) {
	b := a.cv
	b.C = hi - lo
	tensor.Im2Col(b, a.col[lo*a.rowsPerC:hi*a.rowsPerC], a.x[lo*a.hw:hi*a.hw])
}

// padImage copies the c channels of x (2-D, g.in) into dst with g's pads
// as zeros around each.
func padImage[T real](dst, x []T, c int, g geom) {
	h, w := g.in[0], g.in[1]
	ph, pw := h+g.pb[0]+g.pe[0], w+g.pb[1]+g.pe[1]
	clear(dst[:c*ph*pw])
	for ch := range c {
		for i := range h {
			o := ch*ph*pw + (i+g.pb[0])*pw + g.pb[1]
			copy(dst[o:o+w], x[ch*h*w+i*w:ch*h*w+(i+1)*w])
		}
	}
}

// im2colND writes the patch matrix of the c channels of x over any number
// of spatial dimensions: row (ch, kernel offset), column output position,
// zero where the window reads padding.
func im2colND[T real](col, x []T, c int, g geom) {
	r := len(g.in)
	in, ohw, kk := numel(g.in), numel(g.out), numel(g.k)
	var kidx, oidx [8]int
	row := 0
	for ch := range c {
		img := x[ch*in : (ch+1)*in]
		for kf := range kk {
			// kernel multi-index of kf
			t := kf
			for i := r - 1; i >= 0; i-- {
				kidx[i] = t % g.k[i]
				t /= g.k[i]
			}
			dst := col[row*ohw : (row+1)*ohw]
			row++
			clear(oidx[:r])
			for p := range ohw {
				off, ok := 0, true
				for i := range r {
					v := oidx[i]*g.s[i] - g.pb[i] + kidx[i]*g.d[i]
					if v < 0 || v >= g.in[i] {
						ok = false
						break
					}
					off = off*g.in[i] + v
				}
				if ok {
					dst[p] = img[off]
				} else {
					dst[p] = 0
				}
				for i := r - 1; i >= 0; i-- {
					oidx[i]++
					if oidx[i] < g.out[i] {
						break
					}
					oidx[i] = 0
				}
			}
		}
	}
}

// convDepthwise computes a 2-D convolution with one input channel per
// group (output channel o reads input channel o / (M/C)) by sliding the
// window over the channel itself, rather than as C one-row GEMMs. The
// channel is first copied into a zero-padded plane (one pass over the
// input, against KH·KW multiply-adds per output), so that no tap needs a
// bounds test. With a column stride s each padded row is stored as its s
// phases (columns j ≡ p mod s, p = 0..s−1, one after the other), so that
// every tap of a row of outputs reads consecutive floats: output q's tap
// at column q·s + c is element q + c/s of phase c mod s. The kernel
// (dwRun: vector assembly where there is one) sums each output's taps with
// the bias and applies a clamping activation before it stores; a residual
// or another activation follows per channel while it is in cache.
// Channels run in parallel when there is enough work.
func convDepthwise[T real](k *convKernel, a act, g geom, n, c, m int, x, w, bias, res, y []T) {
	if xf, ok := any(x).([]float32); ok && dwC8Fits(g, c, m, k.group) {
		convDepthwiseC8(k, a, g, n, c, xf, any(w).([]float32), any(bias).([]float32), any(res).([]float32), any(y).([]float32))
		return
	}
	j := getDwJob[T](k)
	defer k.jobs.put(j)
	H, W, OH, OW := g.in[0], g.in[1], g.out[0], g.out[1]
	KH, KW := g.k[0], g.k[1]
	sw, dh, dw := g.s[1], g.d[0], g.d[1]
	PH, PW := H+g.pb[0]+g.pe[0], W+g.pb[1]+g.pe[1]
	cg := c / k.group
	*j = dwJob[T]{run: j.run, k: k, a: a, x: x, w: w, bias: bias, res: res, y: y, c: c, m: m, cg: cg, mg: m / k.group,
		H: H, W: W, OH: OH, OW: OW, sh: g.s[0], sw: sw, ph: g.pb[0], pw: g.pb[1], PH: PH, PW: PW, kk: cg * KH * KW,
		phStart: j.phStart[:0], offs: j.offs[:0]}
	// phase p of a padded row starts at phStart[p]; padded column j is at
	// phStart[j%sw] + j/sw.
	for p, at := 0, 0; p < sw; p++ {
		j.phStart = append(j.phStart, at)
		at += (PW - p + sw - 1) / sw
	}
	// The taps in W's order: input channel (of the group), then window.
	for ci := range cg {
		for kh := range KH {
			for kw := range KW {
				cc := kw * dw
				j.offs = append(j.offs, ci*PH*PW+kh*dh*PW+j.phStart[cc%sw]+cc/sw)
			}
		}
	}
	lo, hi, clamps := clampOf[T](a)
	if res != nil || !clamps {
		lo, hi = T(math.Inf(-1)), T(math.Inf(1))
	}
	j.lo, j.hi, j.after = lo, hi, res != nil || !clamps
	total := n * m
	ohw, kk := OH*OW, j.kk
	if total*ohw*kk < dwParallelWork && !forceParallel || parallel.Threads() == 1 {
		j.body(0, total)
		return
	}
	parallel.For(total, max(1, dwGrainWork/(ohw*kk+cg*PH*PW)), j.run)
}

// directTaps is the largest C/group·KH·KW for which a convolution with
// more than one input channel per group slides its window directly
// (convDepthwise's kernel over the group's planes) rather than running
// as a GEMM over patches: a product that shallow (MobileNetV2's and
// PaddleOCR's first layer: 3·3·3) runs GEMM far below its peak. Not for
// 1×1 windows: each output channel rereads every plane, and MobileNetV2's
// 1×1 layers of 16 and 24 channels took 2-3× the GEMM's time that way.
const directTaps = 27

// convNoDirect turns the direct path off for channels per group above
// one, for the tests that compare it with the GEMM.
var convNoDirect = false

// dwJob is one depthwise convolution's arguments, kept by the kernel
// between runs (with the closure that parallel.For calls) so that a run
// allocates nothing.
type dwJob[T real] struct {
	run                  func(lo, hi int) // j.body, bound once
	k                    *convKernel
	a                    act
	x, w, bias, res, y   []T
	c, m, kk, cg, mg     int
	H, W, OH, OW, sh, sw int
	ph, pw, PH, PW       int
	phStart, offs        []int
	lo, hi               T
	after                bool // a residual or activation follows the kernel
}

func getDwJob[T real](k *convKernel) *dwJob[T] {
	if j, ok := takeJob[*dwJob[T]](&k.jobs); ok {
		return j
	}
	j := &dwJob[T]{phStart: make([]int, 0, 4), offs: make([]int, 0, 25)}
	j.run = j.body
	return j
}

// body computes output channels [o0, o1) (over the batch).
func (j *dwJob[T]) body(o0, o1 int) {
	k, x, y, res, bias := j.k, j.x, j.y, j.res, j.bias
	H, W, OH, OW, PW, sw, pw, ph := j.H, j.W, j.OH, j.OW, j.PW, j.sw, j.pw, j.ph
	c, m, kk, cg, mg := j.c, j.m, j.kk, j.cg, j.mg
	hw, ohw, psz := H*W, OH*OW, j.PH*PW
	pp := getScratch[T](&k.buffer, cg*psz+dwSlack+kk+3)
	defer putScratch(&k.buffer, pp)
	planes := (*pp)[:cg*psz+dwSlack]
	wb := (*pp)[cg*psz+dwSlack:]
	clear(planes)
	last := -1
	for o := o0; o < o1; o++ {
		i, ch := o/m, o%m
		src := i*c + ch/mg*cg // the group's first input channel
		if src != last {
			// Padding stays zero: only the interior is rewritten.
			for ci := range cg {
				xc := x[(src+ci)*hw : (src+ci+1)*hw]
				plane := planes[ci*psz : (ci+1)*psz]
				if sw == 1 && W < 8 {
					copyRows(plane[ph*PW+pw:], xc, H, W, PW)
					continue
				}
				for r := range H {
					row := plane[(r+ph)*PW : (r+ph+1)*PW]
					xr := xc[r*W : (r+1)*W]
					switch sw {
					case 1:
						copy(row[pw:pw+W], xr)
					case 2:
						deinterleave(row[:j.phStart[1]], row[j.phStart[1]:], xr, pw)
					default:
						for q, v := range xr {
							cc := q + pw
							row[j.phStart[cc%sw]+cc/sw] = v
						}
					}
				}
			}
			last = src
		}
		yc := y[o*ohw : (o+1)*ohw]
		var b0 T
		if bias != nil {
			b0 = bias[ch]
		}
		dwRun(yc, planes, j.w[ch*kk:(ch+1)*kk], wb, j.offs, OH, OW, OW, j.sh*PW, b0, j.lo, j.hi)
		if j.after {
			var rc []T
			if res != nil {
				rc = res[o*ohw : (o+1)*ohw]
			}
			epilogue(j.a, yc, rc, 0)
		}
	}
}

// copyRows copies the h rows of w values of x, one after the other, to
// rows pitch apart from dst[0], value by value: for rows under 8 values
// (MobileNetV2's 7) that beats memmove's call and size dispatch (the
// depthwise 3×3 of 960 planes of 7×7: 112 against 126 µs, best of 400;
// blocks of 8 values lost to memmove at 14 and 28).
func copyRows[T real](dst, x []T, h, w, pitch int) {
	for r := range h {
		d, s := dst[r*pitch:r*pitch+w], x[r*w:r*w+w]
		for i, v := range s {
			d[i] = v
		}
	}
}

// deinterleave stores row x, placed at column pw of a padded row, as the
// padded row's even columns (in e) and odd ones (in o): column c goes to
// e[c/2] or o[c/2].
func deinterleave[T real](e, o, x []T, pw int) {
	h := len(x) / 2
	off := pw / 2
	a, b := e[off:], o[off:]
	if pw%2 == 1 {
		a, b = o[off:], e[off+1:]
	}
	a, b = a[:h+len(x)%2], b[:h]
	if unsafe.Sizeof(x[0]) == 4 {
		n := deintAsm(f32s(a), f32s(b), f32s(x))
		a, b, x = a[n:], b[n:], x[2*n:]
	}
	for i := range b {
		a[i] = x[2*i]
		b[i] = x[2*i+1]
	}
	if len(x)%2 == 1 {
		a[len(b)] = x[len(x)-1]
	}
}

// dwParallelWork is the number of multiply-adds below which a depthwise
// convolution runs on one thread, and dwGrainWork the least a thread is
// handed (docs/onnx-vs-ort.md has the measurements).
const (
	dwParallelWork = 1 << 16
	dwGrainWork    = 1 << 14
)

// forceParallel makes the convolution and pooling loops parallel however
// small, for the tests of their parallel paths.
var forceParallel = false

// ---------------------------------------------------------------- ConvTranspose

type convTransposeKernel struct {
	node     *Node
	win      window
	group    int
	outPad   []int
	outShape []int
	buffer   scratch
}

func newConvTranspose(n *Node) (Kernel, error) {
	w, err := readWindow(n)
	if err != nil {
		return nil, err
	}
	k := &convTransposeKernel{node: n, win: w, group: int(n.Int("group", 1)),
		outPad: n.IntsAsInt("output_padding"), outShape: n.IntsAsInt("output_shape")}
	if k.group < 1 {
		return nil, n.Errorf("group %d < 1", k.group)
	}
	for _, v := range k.outPad {
		if v < 0 {
			return nil, n.Errorf("output_padding %v has a negative value", k.outPad)
		}
	}
	if len(n.Inputs) < 2 {
		return nil, n.Errorf("needs inputs X and W, has %d", len(n.Inputs))
	}
	return k, n.Err()
}

// geometry returns the transposed convolution's geometry: g.in is the
// output's spatial size (the image the forward convolution would read),
// g.out the input's, with pads, strides and dilations as given.
func (k *convTransposeKernel) geometry(xin, kern []int) (geom, error) {
	r := len(xin)
	w := k.win
	if w.strides != nil && len(w.strides) != r || w.dilations != nil && len(w.dilations) != r ||
		w.pads != nil && len(w.pads) != 2*r || k.outPad != nil && len(k.outPad) != r {
		return geom{}, fmt.Errorf("strides %v, dilations %v, pads %v or output_padding %v do not fit %d spatial dimensions",
			w.strides, w.dilations, w.pads, k.outPad, r)
	}
	os := k.outShape
	if os != nil && len(os) == r+2 {
		os = os[2:]
	}
	if os != nil && len(os) != r {
		return geom{}, fmt.Errorf("output_shape %v does not fit %d spatial dimensions", k.outShape, r)
	}
	g := geom{in: make([]int, r), k: append([]int(nil), kern...), s: make([]int, r), d: make([]int, r),
		pb: make([]int, r), pe: make([]int, r), out: append([]int(nil), xin...)}
	for i := range r {
		g.s[i], g.d[i] = 1, 1
		if w.strides != nil {
			g.s[i] = w.strides[i]
		}
		if w.dilations != nil {
			g.d[i] = w.dilations[i]
		}
		op := 0
		if k.outPad != nil {
			op = k.outPad[i]
		}
		dk := g.d[i]*(kern[i]-1) + 1
		full := g.s[i]*(xin[i]-1) + op + dk
		switch {
		case os != nil:
			// As ONNX Runtime: an output larger than the full product
			// pads nothing and leaves the extra pixels at the end (bias
			// only); an odd total pads more at the end.
			total := max(0, full-os[i])
			g.pb[i] = total / 2
			g.pe[i] = total - total/2
			g.in[i] = os[i]
		case w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER":
			g.in[i] = xin[i] * g.s[i]
			total := full - g.in[i]
			if w.autoPad == "SAME_UPPER" {
				g.pb[i] = total / 2
				g.pe[i] = total - total/2
			} else {
				g.pb[i] = total - total/2
				g.pe[i] = total / 2
			}
		default:
			if w.pads != nil && w.autoPad != "VALID" {
				g.pb[i], g.pe[i] = w.pads[i], w.pads[r+i]
			}
			g.in[i] = full - g.pb[i] - g.pe[i]
		}
		if g.in[i] < 0 {
			return geom{}, fmt.Errorf("output size %d < 0 in dimension %d", g.in[i], i)
		}
	}
	return g, nil
}

func (k *convTransposeKernel) Run(in, out []*Tensor) error {
	x, w, b := in[0], in[1], Input(in, 2)
	if x.DType != w.DType || b != nil && b.DType != x.DType {
		return fmt.Errorf("ConvTranspose: element types differ: X %v, W %v", x.DType, w.DType)
	}
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("ConvTranspose: element type %v: %w", x.DType, ErrUnsupported)
	}
	if x.Rank() < 3 || w.Rank() != x.Rank() {
		return fmt.Errorf("ConvTranspose: X shape %v and W shape %v: want N×C×D… and C×M/group×k… of one rank ≥ 3", x.Shape, w.Shape)
	}
	n, c := x.Shape[0], x.Shape[1]
	if w.Shape[0] != c || c%k.group != 0 {
		return fmt.Errorf("ConvTranspose: X shape %v, W shape %v and group %d do not fit", x.Shape, w.Shape, k.group)
	}
	m := w.Shape[1] * k.group
	if k.win.kernel != nil && !eqInts(k.win.kernel, w.Shape[2:]) {
		return fmt.Errorf("ConvTranspose: kernel_shape %v differs from W shape %v", k.win.kernel, w.Shape)
	}
	if b != nil && (b.Rank() != 1 || b.Shape[0] != m) {
		return fmt.Errorf("ConvTranspose: B shape %v, want [%d]", b.Shape, m)
	}
	g, err := k.geometry(x.Shape[2:], w.Shape[2:])
	if err != nil {
		return fmt.Errorf("ConvTranspose: X shape %v, W shape %v: %v", x.Shape, w.Shape, err)
	}
	y := out[0]
	y.Reset(x.DType, g.outShapeT(n, m))
	if f32 {
		convTransposeRun(k, g, n, c, m, floatsOf[float32](x), floatsOf[float32](w), biasOf[float32](b), floatsOf[float32](y))
	} else {
		convTransposeRun(k, g, n, c, m, floatsOf[float64](x), floatsOf[float64](w), biasOf[float64](b), floatsOf[float64](y))
	}
	return nil
}

// outShapeT returns [n, m, in...]: a transposed convolution's output has
// the size of the forward convolution's input.
func (g geom) outShapeT(n, m int) []int {
	return append([]int{n, m}, g.in...)
}

func convTransposeRun[T real](k *convTransposeKernel, g geom, n, c, m int, x, w, bias, y []T) {
	cg, mg := c/k.group, m/k.group
	xin, yout, kk := numel(g.out), numel(g.in), numel(g.k)
	if n == 0 || m == 0 || yout == 0 {
		return
	}
	col := getScratch[T](&k.buffer, mg*kk*xin)
	defer putScratch(&k.buffer, col)
	for i := range n {
		for gr := range k.group {
			xg := x[(i*c+gr*cg)*xin : (i*c+(gr+1)*cg)*xin]
			wg := w[gr*cg*mg*kk : (gr+1)*cg*mg*kk]
			yg := y[(i*m+gr*mg)*yout : (i*m+(gr+1)*mg)*yout]
			// col = W_gᵀ·X_g: (mg·kk) × xin.
			gemmT(true, false, mg*kk, xin, cg, 1, wg, mg*kk, xg, xin, 0, *col, xin)
			for o := range mg {
				var b0 T
				if bias != nil {
					b0 = bias[gr*mg+o]
				}
				fill(yg[o*yout:(o+1)*yout], b0)
			}
			col2imND(yg, *col, mg, g)
		}
	}
}

// col2imND adds each element of the patch matrix col (rows (ch, kernel
// offset), columns the positions of g.out) into the image pixel of y
// (c channels of g.in) that the window reads there, dropping padding.
func col2imND[T real](y, col []T, c int, g geom) {
	r := len(g.in)
	in, np, kk := numel(g.in), numel(g.out), numel(g.k)
	var kidx, oidx [8]int
	row := 0
	for ch := range c {
		img := y[ch*in : (ch+1)*in]
		for kf := range kk {
			t := kf
			for i := r - 1; i >= 0; i-- {
				kidx[i] = t % g.k[i]
				t /= g.k[i]
			}
			src := col[row*np : (row+1)*np]
			row++
			clear(oidx[:r])
			for p := range np {
				off, ok := 0, true
				for i := range r {
					v := oidx[i]*g.s[i] - g.pb[i] + kidx[i]*g.d[i]
					if v < 0 || v >= g.in[i] {
						ok = false
						break
					}
					off = off*g.in[i] + v
				}
				if ok {
					img[off] += src[p]
				}
				for i := r - 1; i >= 0; i-- {
					oidx[i]++
					if oidx[i] < g.out[i] {
						break
					}
					oidx[i] = 0
				}
			}
		}
	}
}
