package onnx

import (
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
// blocks of whole tile rows (the blocks run in parallel, each with its own
// V and M): a block's input transform, its 36 products and its output
// transform run while the block's V and M are in cache. The output
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
// U[ξ] (C × K, row-major) for ξ = 0..35, packed in pb.
type winoWeights struct {
	w    *Tensor // the weight it was made from
	c, m int
	u    []float32
	pb   [36]*gemm.PackedB[float32]
}

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
	if ww == nil || ww.w != w || ww.c != c || ww.m != m {
		if k.node == nil || k.node.ConstInput(1) != w {
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

// newWinoWeights transforms w (K×C×3×3): U[ξ][c][k] = (G w_kc Gᵀ)[ξ].
func newWinoWeights(w *Tensor, c, m int) *winoWeights {
	ww := &winoWeights{w: w, c: c, m: m, u: make([]float32, 36*c*m)}
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
					ww.u[(i*6+j)*c*m+ci*m+o] = float32(v)
				}
			}
		}
	}
	for xi := range 36 {
		ww.pb[xi] = gemm.PackB(gemm.NoTrans, c, m, ww.u[xi*c*m:(xi+1)*c*m], m)
	}
	return ww
}

// winoBlockTiles is the number of tiles a block aims at (whole tile rows,
// at least one).
var winoBlockTiles = 96

// winoRun computes y = a(conv(x, w) + bias + res) with ww's transformed
// weights.
func winoRun(k *convKernel, ww *winoWeights, a act, g geom, n, c, m int, x, bias, res, y []float32) {
	oh, ow := g.out[0], g.out[1]
	th, tw := (oh+3)/4, (ow+3)/4
	rows := n * th
	br := min(rows, max(1, winoBlockTiles/tw))
	if t := parallel.Threads(); t > 1 {
		// Enough blocks for every thread, where there are tile rows enough.
		br = min(br, max(1, rows/t))
	}
	nb := (rows + br - 1) / br
	args := winoArgs{k: k, ww: ww, a: a, x: x, bias: bias, res: res, y: y,
		n: n, c: c, m: m, h: g.in[0], w: g.in[1], ph: g.pb[0], pw: g.pb[1], oh: oh, ow: ow, th: th, tw: tw, br: br, rows: rows}
	if nb == 1 || parallel.Threads() == 1 {
		args.block(0, nb)
		return
	}
	forArgs(&k.jobs, nb, 1, args)
}

type winoArgs struct {
	k               *convKernel
	ww              *winoWeights
	a               act
	x, bias, res, y []float32
	n, c, m, h, w   int
	ph, pw, oh, ow  int
	th, tw, br      int
	rows            int
}

// block runs blocks [lo, hi) of br tile rows each.
func (p winoArgs) block(lo, hi int) {
	c, m := p.c, p.m
	tb := p.br * p.tw
	// ξ's matrices lie vs (ms) floats apart: a multiple of 4 KB apart, the
	// 36 streams that the transforms read or write would share L1 sets.
	vs, ms := tb*c+16, tb*m+16
	buf := getScratch[float32](&p.k.buffer, 36*(vs+ms))
	defer putScratch(&p.k.buffer, buf)
	v, mm := (*buf)[:36*vs], (*buf)[36*vs:]
	for b := lo; b < hi; b++ {
		r0 := b * p.br
		r1 := min(r0+p.br, p.rows)
		nt := (r1 - r0) * p.tw
		p.input(v, vs, r0, nt)
		for xi := range 36 {
			gemm.GemmPacked(gemm.NoTrans, nt, m, c, 1, v[xi*vs:], c, p.ww.pb[xi], 0, mm[xi*ms:], m)
		}
		p.output(mm, ms, r0, nt)
	}
}

// input writes the transformed input tiles of tile rows r0… (nt tiles)
// into v: V[ξ][t][ci] at v[ξ·vs + t·c + ci].
func (p winoArgs) input(v []float32, vs, r0, nt int) {
	c, h, w := p.c, p.h, p.w
	hw := h * w
	var d [6][6]float32
	for t := range nt {
		gr := r0 + t/p.tw
		img, tr, tc := gr/p.th, gr%p.th, t%p.tw
		i0, j0 := tr*4-p.ph, tc*4-p.pw
		inside := i0 >= 0 && j0 >= 0 && i0+6 <= h && j0+6 <= w
		for ci := range c {
			xc := p.x[(img*c+ci)*hw : (img*c+ci+1)*hw]
			if inside {
				for i := range 6 {
					row := xc[(i0+i)*w+j0 : (i0+i)*w+j0+6]
					d[i] = [6]float32(row)
				}
			} else {
				for i := range 6 {
					ii := i0 + i
					if ii < 0 || ii >= h {
						d[i] = [6]float32{}
						continue
					}
					for j := range 6 {
						jj := j0 + j
						if jj < 0 || jj >= w {
							d[i][j] = 0
						} else {
							d[i][j] = xc[ii*w+jj]
						}
					}
				}
			}
			// Bᵀ d: the columns.
			var e [6][6]float32
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
			o := t*c + ci
			for i := range 6 {
				d0, d1, d2, d3, d4, d5 := e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5]
				base := i*6*vs + o
				v[base] = 4*d0 - 5*d2 + d4
				v[base+vs] = (d3 + d4) - 4*(d1+d2)
				v[base+2*vs] = (d4 - d3) + 4*(d1-d2)
				v[base+3*vs] = (d4 - d2) + 2*(d3-d1)
				v[base+4*vs] = (d4 - d2) - 2*(d3-d1)
				v[base+5*vs] = 4*d1 - 5*d3 + d5
			}
		}
	}
}

// output transforms M (M[ξ][t][k] at mm[ξ·ms + t·m + k]) of tile rows r0…
// (nt tiles) into y, with the bias, residual and activation.
func (p winoArgs) output(mm []float32, ms, r0, nt int) {
	m, oh, ow := p.m, p.oh, p.ow
	ohw := oh * ow
	lo, hi, clamps := clampOf[float32](p.a)
	var s [6][6]float32
	for t := range nt {
		gr := r0 + t/p.tw
		img, tr, tc := gr/p.th, gr%p.th, t%p.tw
		i0, j0 := tr*4, tc*4
		ni, nj := min(4, oh-i0), min(4, ow-j0)
		for o := range m {
			at := t*m + o
			for xi := range 36 {
				s[xi/6][xi%6] = mm[xi*ms+at]
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
			var bv float32
			if p.bias != nil {
				bv = p.bias[o]
			}
			base := (img*m+o)*ohw + i0*ow + j0
			for i := range ni {
				m0, m1, m2, m3, m4, m5 := e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5]
				a12, s12, a34, s34 := m1+m2, m1-m2, m3+m4, m3-m4
				r := [4]float32{m0 + a12 + a34 + bv, s12 + 2*s34 + bv, a12 + 4*a34 + bv, s12 + 8*s34 + m5 + bv}
				yr := p.y[base+i*ow : base+i*ow+nj]
				if p.res != nil {
					rr := p.res[base+i*ow : base+i*ow+nj]
					for j := range yr {
						r[j] += rr[j]
					}
				}
				if clamps {
					for j := range yr {
						yr[j] = min(max(r[j], lo), hi)
					}
				} else {
					copy(yr, r[:nj])
				}
			}
		}
	}
	if clamps {
		return
	}
	// Another activation: over the block's output rows, still in cache.
	for gr := r0; gr < r0+nt/p.tw; gr++ {
		img, tr := gr/p.th, gr%p.th
		i0, i1 := tr*4, min(tr*4+4, oh)
		for o := range m {
			base := (img*m + o) * ohw
			applyAct(p.a, p.y[base+i0*ow:base+i1*ow])
		}
	}
}
