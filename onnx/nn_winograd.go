package onnx

import (
	"math"
	"os"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/parallel"
)

// Winograd convolution F(4×4, 3×3) for float32 3×3 convolutions at stride
// 1, dilation 1, one group, with a constant weight (ResNet's 3×3 layers:
// four fifths of its multiply-adds). Each 4×4 block of outputs (a tile)
// is computed from the 6×6 block of input under it as
//
//	Y = Aᵀ [ Σ_c (G g_kc Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
// (Lavin & Gray 2015, interpolation points 0, ±1, ±2, ∞): the sum over
// input channels c of the elementwise products is, for each of the 36
// positions ξ of the 6×6 transformed tile, one GEMM over channels,
// M[ξ] = V[ξ]·U[ξ] with V[ξ] tiles × C and U[ξ] C × K: 36·C·K multiply-
// adds per tile against im2col's 16·9·C·K, 4× fewer.
//
// U (the weight's transform) is computed once, in float64 and rounded,
// and packed into GEMM panels; it is cached on the kernel, keyed on the
// weight tensor (only a constant initializer is transformed: a weight
// computed at run time takes the im2col path). Tiles are processed in
// blocks of whole tile rows: a block's input transform, its 36 products
// and its output transform run while the block's V and M are in cache.
// The blocks run in parallel, each with its own V and M, or, where there
// are fewer blocks than threads, each block runs each of its three phases
// in parallel (over channel groups, over ξ, over channel groups). The output
// transform adds the bias and the fused residual and applies a clamping
// activation (Relu, Clip) as it stores; another activation follows per
// tile row while it is in cache.
//
// Error: the transforms have entries up to 5 (Bᵀ) and 8 (Aᵀ), so rounding
// errors grow by a small constant factor over the direct sum; the tests
// bound it against a float64 direct convolution, and ResNet-18's outputs
// stay within 1e-4 of ONNX Runtime's (nn_models_test.go).

// convNoWinograd turns the Winograd path off (ADJOINT_WINOGRAD=off), for
// the tests and benchmarks that compare it with im2col.
var convNoWinograd = os.Getenv("ADJOINT_WINOGRAD") == "off"

// winoWeights is a constant weight W [K, C, 3, 3] transformed: u holds
// U[ξ] (C × K padded to multiples of 8, row-major) for ξ = 0..35, packed
// in pb. With w nil it records that the kernel's weight is not a
// constant, so that later runs skip the look-up.
type winoWeights struct {
	w    *Tensor // the weight it was made from
	c, m int
	u    []float32
	pb   [36]*gemm.PackedB[float32]
}

// winoNotConst is the winoWeights of a kernel whose weight is computed.
var winoNotConst = &winoWeights{}

// winograd runs the convolution with Winograd's algorithm and reports
// true, or reports false (nothing written) where it does not apply or
// does not pay: then the caller takes the im2col path.
func (k *convKernel) winograd(g geom, n, c, m int, x, w, b, r, y *Tensor) bool {
	if convNoWinograd || k.group != 1 || x.DType != Float || len(g.in) != 2 ||
		g.k[0] != 3 || g.k[1] != 3 || g.s[0] != 1 || g.s[1] != 1 || g.d[0] != 1 || g.d[1] != 1 {
		return false
	}
	if n == 0 || m == 0 || c == 0 || g.out[0] == 0 || g.out[1] == 0 || !winoPays(n, c, m, g.out[0], g.out[1]) {
		return false
	}
	ww := k.wino.Load()
	if ww == winoNotConst {
		return false
	}
	if ww == nil || ww.w != w || ww.c != c || ww.m != m {
		if k.node == nil || k.node.ConstInput(1) == nil {
			k.wino.Store(winoNotConst)
			return false
		}
		if k.node.ConstInput(1) != w {
			return false
		}
		ww = newWinoWeights(w, c, m)
		k.wino.Store(ww)
	}
	winoRun(k, ww, k.act, g, n, c, m, x.F32, biasOf[float32](b), biasOf[float32](r), y.F32)
	return true
}

// winoPays says whether Winograd beats im2col for an n×c×oh×ow → m
// convolution (measured on ResNet-18's layers, docs/winograd.md).
func winoPays(n, c, m, oh, ow int) bool {
	tiles := n * ((oh + 3) / 4) * ((ow + 3) / 4)
	return tiles >= winoMinTiles && c >= 8 && m >= 8
}

// winoMinTiles is the least number of tiles (over the batch) for which
// Winograd is used.
var winoMinTiles = 16

// The transform matrices of F(4×4, 3×3).
var (
	winoG = [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
)

// newWinoWeights transforms w (K×C×3×3): U[ξ][c][k] = (G w_kc Gᵀ)[ξ],
// C and K padded with zeros to multiples of 8 (the transforms work on 8
// channels at once).
func newWinoWeights(w *Tensor, c, m int) *winoWeights {
	cp, kp := (c+7)&^7, (m+7)&^7
	ww := &winoWeights{w: w, c: c, m: m, u: make([]float32, 36*cp*kp)}
	src := w.F32
	for o := range m {
		for ci := range c {
			f := src[(o*c+ci)*9 : (o*c+ci)*9+9]
			// t = G f (6×3), u = t Gᵀ (6×6), in float64.
			var t [6][3]float64
			for i := range 6 {
				for j := range 3 {
					t[i][j] = winoG[i][0]*float64(f[j]) + winoG[i][1]*float64(f[3+j]) + winoG[i][2]*float64(f[6+j])
				}
			}
			for i := range 6 {
				for j := range 6 {
					v := t[i][0]*winoG[j][0] + t[i][1]*winoG[j][1] + t[i][2]*winoG[j][2]
					ww.u[(i*6+j)*cp*kp+ci*kp+o] = float32(v)
				}
			}
		}
	}
	for xi := range 36 {
		ww.pb[xi] = gemm.PackB(gemm.NoTrans, cp, kp, ww.u[xi*cp*kp:(xi+1)*cp*kp], kp)
	}
	return ww
}

// winoBlockTiles is the number of tiles a block aims at (whole tile rows,
// at least one). Blocks whose V and M fit in L2 (32 tiles at 64
// channels) measured no faster on Zen 3 than whole 56×56 images (196
// tiles, 4% faster than 96; docs/winograd.md).
var winoBlockTiles = 200

// winoNoSplit turns the parallel phases off (blocks of tile rows for the
// threads instead), for the tests and benchmarks that compare the two.
var winoNoSplit = false

// winoTmp is the transforms' working space, in floats.
const winoTmp = 40 * 8

// winoRun computes y = a(conv(x, w) + bias + res) with ww's transformed
// weights.
func winoRun(k *convKernel, ww *winoWeights, a act, g geom, n, c, m int, x, bias, res, y []float32) {
	oh, ow := g.out[0], g.out[1]
	th, tw := (oh+3)/4, (ow+3)/4
	// per blocks to an image, of th/per tile rows (rounded either way).
	per := (th + max(1, winoBlockTiles/tw) - 1) / max(1, winoBlockTiles/tw)
	t := parallel.Threads()
	split := false
	if t > 1 && n*per < t && !winoNoSplit {
		// Fewer blocks than threads: each block runs its transforms (over
		// channel groups) and its 36 products in parallel instead.
		split = true
	} else if t > 1 && n == 1 {
		per = min((per+t-1)/t*t, th) // a multiple of the threads
	}
	nb := n * per
	br := (th + per - 1) / per // the most tile rows in a block
	args := winoArgs{k: k, ww: ww, a: a, x: x, bias: bias, res: res, y: y,
		c: c, m: m, cp: (c + 7) &^ 7, kp: (m + 7) &^ 7, h: g.in[0], w: g.in[1], ph: g.pb[0], pw: g.pb[1],
		oh: oh, ow: ow, th: th, tw: tw, br: br, per: per, split: split}
	if nb == 1 || t == 1 || split {
		args.block(0, nb)
		return
	}
	// One chunk of blocks per thread: at most that many blocks (and
	// scratch buffers) at once.
	forArgs(&k.jobs, nb, (nb+t-1)/t, args)
}

type winoArgs struct {
	k               *convKernel
	ww              *winoWeights
	a               act
	x, bias, res, y []float32
	c, m, cp, kp    int
	h, w            int
	ph, pw, oh, ow  int
	th, tw, br, per int
	split           bool // run each block's phases in parallel
}

// block runs blocks [lo, hi): block b is tile rows [j·th/per,
// (j+1)·th/per) of image b / per, j = b % per (br rows at most). A
// block's input (its tile rows and the two rows under them, with the
// padding) is first copied with its channels interleaved in eights,
// xp[g][row][col][8] for channel 8g + lane, so that each transform reads
// 8 channels' pixel as one vector.
func (p winoArgs) block(lo, hi int) {
	cp, kp := p.cp, p.kp
	tb := p.br * p.tw
	// ξ's matrices lie vs (ms) floats apart: a multiple of 4 KB apart, the
	// 36 streams that the transforms read or write would share L1 sets.
	vs, ms := tb*cp+16, tb*kp+16
	xrs := 4*p.tw + 2
	xgs := (4*p.br + 2) * xrs * 8
	buf := getScratch[float32](&p.k.buffer, 36*(vs+ms)+cp/8*xgs)
	defer putScratch(&p.k.buffer, buf)
	v, mm, xp := (*buf)[:36*vs], (*buf)[36*vs:36*(vs+ms)], (*buf)[36*(vs+ms):]
	for b := lo; b < hi; b++ {
		img, j := b/p.per, b%p.per
		r0, r1 := j*p.th/p.per, (j+1)*p.th/p.per
		ph := winoPhase{p: p, v: v, mm: mm, xp: xp, vs: vs, ms: ms, xgs: xgs, xrs: xrs, img: img, r0: r0, r1: r1}
		if !p.split {
			for ph.phase = range 3 {
				ph.block(0, ph.count())
			}
			continue
		}
		for ph.phase = range 3 {
			forArgs(&p.k.jobs, ph.count(), 1, ph)
		}
	}
}

// winoPhase is one phase of a block: 0 packs and transforms the input
// (over channel groups), 1 runs the products (over ξ), 2 transforms the
// output (over channel groups).
type winoPhase struct {
	p                winoArgs
	phase            int
	v, mm, xp        []float32
	vs, ms, xgs, xrs int
	img, r0, r1      int
}

func (q winoPhase) count() int {
	switch q.phase {
	case 0:
		return q.p.cp / 8
	case 1:
		return 36
	}
	return q.p.kp / 8
}

// block runs the phase's items [lo, hi).
func (q winoPhase) block(lo, hi int) {
	p := q.p
	cp, kp := p.cp, p.kp
	nt := (q.r1 - q.r0) * p.tw
	var tmp [winoTmp]float32
	switch q.phase {
	case 0:
		p.pack(q.xp, q.xgs, q.xrs, q.img, q.r0, q.r1, lo, hi)
		for t := range nt {
			lr, tc := t/p.tw, t%p.tw
			xo := (lr*4*q.xrs + tc*4) * 8
			for g := lo; g < hi; g++ {
				winoIn(q.v[t*cp+g*8:], q.xp[g*q.xgs+xo:], &tmp, q.xrs, q.vs)
			}
		}
	case 1:
		for xi := lo; xi < hi; xi++ {
			gemm.GemmPacked(gemm.NoTrans, nt, kp, cp, 1, q.v[xi*q.vs:], cp, p.ww.pb[xi], 0, q.mm[xi*q.ms:], kp)
		}
	case 2:
		p.output(q.mm, q.ms, q.img, q.r0, nt, lo, hi, &tmp)
	}
}

// pack copies tile rows [r0, r1) of image img (with the 2 rows below
// them) into xp, channel groups [g0, g1) interleaved in eights, padding
// and channels past C as zeros.
func (p winoArgs) pack(xp []float32, xgs, xrs, img, r0, r1, g0, g1 int) {
	h, w := p.h, p.w
	rows := (r1-r0)*4 + 2
	// Columns [c0, c1) of a packed row read the image's columns c − pw.
	c0, c1 := min(max(p.pw, 0), xrs), min(max(p.pw+w, 0), xrs)
	hw := h * w
	for g := g0; g < g1; g++ {
		if g*8+8 <= p.c && c0 < c1 {
			// A full group: rows inside the image as 8×8 transposes.
			for rr := range rows {
				d := xp[g*xgs+rr*xrs*8 : g*xgs+(rr+1)*xrs*8]
				ih := r0*4 - p.ph + rr
				if ih < 0 || ih >= h {
					clear(d)
					continue
				}
				clear(d[:c0*8])
				clear(d[c1*8:])
				src := p.x[((img*p.c+g*8)*h+ih)*w+c0-p.pw:]
				q := winoPack(d[c0*8:], src, hw, c1-c0)
				for ; q < c1-c0; q++ {
					for l := range 8 {
						d[(c0+q)*8+l] = src[l*hw+q]
					}
				}
			}
			continue
		}
		for l := range 8 {
			ch := g*8 + l
			for rr := range rows {
				d := xp[g*xgs+rr*xrs*8+l:]
				ih := r0*4 - p.ph + rr
				if ch >= p.c || ih < 0 || ih >= h || c0 >= c1 {
					for col := range xrs {
						d[col*8] = 0
					}
					continue
				}
				src := p.x[((img*p.c+ch)*h+ih)*w:]
				for col := range c0 {
					d[col*8] = 0
				}
				src = src[c0-p.pw : c1-p.pw]
				dd := d[c0*8 : (c1-1)*8+1]
				for i, v := range src {
					dd[i*8] = v
				}
				for col := c1; col < xrs; col++ {
					d[col*8] = 0
				}
			}
		}
	}
}

// output transforms M (M[ξ][t][k] at mm[ξ·ms + t·kp + k]) of tile rows
// r0… of image img (nt tiles), channel groups [g0, g1), into y, with the
// bias, residual and activation.
func (p winoArgs) output(mm []float32, ms, img, r0, nt, g0, g1 int, tmp *[winoTmp]float32) {
	m, oh, ow := p.m, p.oh, p.ow
	ohw := oh * ow
	lo, hi, clamps := clampOf[float32](p.a)
	var pr [10]float32 // bias of 8 channels, lo, hi
	var edge [8 * 16]float32
	for g := g0; g < g1; g++ {
		k0 := g * 8
		nk := min(8, m-k0)
		clear(pr[:8])
		if p.bias != nil {
			copy(pr[:8], p.bias[k0:k0+nk])
		}
		for t := range nt {
			tr, tc := r0+t/p.tw, t%p.tw
			i0, j0 := tr*4, tc*4
			base := (img*m+k0)*ohw + i0*ow + j0
			mt := mm[t*p.kp+k0:]
			if nk == 8 && i0+4 <= oh && j0+4 <= ow {
				pr[8], pr[9] = lo, hi
				var res []float32
				if p.res != nil {
					res = p.res[base:]
				}
				winoOut(p.y[base:], mt, res, tmp, &pr, ms, ow, ohw)
				continue
			}
			// An edge tile: into edge, then the part inside the output.
			pr[8], pr[9] = float32(math.Inf(-1)), float32(math.Inf(1))
			winoOut(edge[:], mt, nil, tmp, &pr, ms, 4, 16)
			ni, nj := min(4, oh-i0), min(4, ow-j0)
			for l := range nk {
				for i := range ni {
					o := base + l*ohw + i*ow
					yr := p.y[o : o+nj]
					er := edge[l*16+i*4 : l*16+i*4+nj]
					if p.res != nil {
						rr := p.res[o : o+nj]
						for j := range yr {
							yr[j] = min(max(er[j]+rr[j], lo), hi)
						}
					} else {
						for j := range yr {
							yr[j] = min(max(er[j], lo), hi)
						}
					}
				}
			}
		}
	}
	if clamps {
		return
	}
	// Another activation: over the block's output rows, still in cache.
	i0, i1 := r0*4, min(r0*4+nt/p.tw*4, oh)
	for o := g0 * 8; o < min(g1*8, m); o++ {
		base := (img*m + o) * ohw
		applyAct(p.a, p.y[base+i0*ow:base+i1*ow])
	}
}

// winoInGo is winoIn in Go: for each lane l of 8, the input tile
// d[i][j] = x[(i·xrs + j)·8 + l] is transformed, V = Bᵀ d B, and stored at
// v[(i·6 + j)·vs + l].
func winoInGo(v, x []float32, xrs, vs int) {
	_, _ = v[35*vs+7], x[5*xrs*8+47]
	for l := range 8 {
		var d, e [6][6]float32
		for i := range 6 {
			for j := range 6 {
				d[i][j] = x[(i*xrs+j)*8+l]
			}
		}
		// Bᵀ d: the columns.
		for j := range 6 {
			d0, d1, d2, d3, d4, d5 := d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]
			e[0][j] = 4*d0 - 5*d2 + d4
			e[1][j] = (d3 + d4) - 4*(d1+d2)
			e[2][j] = (d4 - d3) + 4*(d1-d2)
			e[3][j] = (d4 - d2) + 2*(d3-d1)
			e[4][j] = (d4 - d2) - 2*(d3-d1)
			e[5][j] = 4*d1 - 5*d3 + d5
		}
		// (Bᵀ d) B: the rows, stored.
		for i := range 6 {
			d0, d1, d2, d3, d4, d5 := e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5]
			o := i*6*vs + l
			v[o] = 4*d0 - 5*d2 + d4
			v[o+vs] = (d3 + d4) - 4*(d1+d2)
			v[o+2*vs] = (d4 - d3) + 4*(d1-d2)
			v[o+3*vs] = (d4 - d2) + 2*(d3-d1)
			v[o+4*vs] = (d4 - d2) - 2*(d3-d1)
			v[o+5*vs] = 4*d1 - 5*d3 + d5
		}
	}
}

// winoOutGo is winoOut in Go: for each lane l of 8, with
// s[i][j] = m[(i·6 + j)·ms + l], Y = Aᵀ s A + p[l] and, for i, j < 4,
// y[l·ohw + i·ow + j] = min(max(Y[i][j] + r, p[8]), p[9]) with r the
// same element of res, or 0 where res is nil.
func winoOutGo(y, m, res []float32, p *[10]float32, ms, ow, ohw int) {
	_, _ = y[7*ohw+3*ow+3], m[35*ms+7]
	lo, hi := p[8], p[9]
	for l := range 8 {
		var s [6][6]float32
		for xi := range 36 {
			s[xi/6][xi%6] = m[xi*ms+l]
		}
		// Aᵀ s: the columns.
		var e [4][6]float32
		for j := range 6 {
			m0, m1, m2, m3, m4, m5 := s[0][j], s[1][j], s[2][j], s[3][j], s[4][j], s[5][j]
			a12, s12, a34, s34 := m1+m2, m1-m2, m3+m4, m3-m4
			e[0][j] = m0 + a12 + a34
			e[1][j] = s12 + 2*s34
			e[2][j] = a12 + 4*a34
			e[3][j] = s12 + 8*s34 + m5
		}
		bv := p[l]
		for i := range 4 {
			m0, m1, m2, m3, m4, m5 := e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5]
			a12, s12, a34, s34 := m1+m2, m1-m2, m3+m4, m3-m4
			r := [4]float32{m0 + a12 + a34 + bv, s12 + 2*s34 + bv, a12 + 4*a34 + bv, s12 + 8*s34 + m5 + bv}
			o := l*ohw + i*ow
			if res != nil {
				for j := range 4 {
					r[j] += res[o+j]
				}
			}
			for j := range 4 {
				y[o+j] = min(max(r[j], lo), hi)
			}
		}
	}
}
