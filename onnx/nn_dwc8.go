package onnx

import (
	"fmt"
	"math"
	"sync"
)

// The depthwise convolution in blocks of eight channels (windows up to
// 7×7, column stride 1 or 2, float32, with the AVX2 kernels). The per-channel
// path (convDepthwise's dwJob) pays per plane and per row: a call per row
// to copy or split it into phases, a masked tail vector per row. On
// MobileNetV2's small planes (14×14, 7×7) and at stride 2 that cost
// 2–11× ONNX Runtime's time. Here a block's eight planes are interleaved
// into one zero-padded plane of vectors (pack8AVX2: an 8×8 transpose per
// eight pixels of a row), the kernel (dwC8s1AVX2, dwC8s2AVX2) computes
// each output pixel's eight channels as one vector (nine FMAs whose
// memory operand is the input, whatever the plane's width or the stride),
// and unpack8AVX2 transposes the block's output back to its eight planes.
// docs/onnx-vs-ort.md has the measurements.

// dwC8Off turns the blocked path off, for the tests that compare it with
// the per-channel one and for measurements.
var dwC8Off = false

// dwC8Fits says whether the blocked path computes this depthwise
// convolution: one input and one output channel per group, a multiple of
// 8 of them, a 2-D window of at most dwC8MaxTaps taps, column stride 1
// or 2.
func dwC8Fits(g geom, c, m, group int) bool {
	return useAVX2 && !dwC8Off && c == group && m == group && c%8 == 0 && len(g.k) == 2 &&
		g.k[0]*g.k[1] <= dwC8MaxTaps && (g.s[1] == 1 || g.s[1] == 2)
}

// dwC8MaxTaps is the largest window the blocked path takes (7×7).
const dwC8MaxTaps = 49

// dwC8Pack is a constant W interleaved once for the blocked kernels:
// block b's taps at w[b·8·kk:], tap t's eight weights at 8t (as the
// kernels read them). Rearranging them per block per run took a tenth of
// MobileNetV2's depthwise time.
type dwC8Pack struct {
	once sync.Once
	w    []float32
}

// interleaveC8 returns W (c channels of kk taps) as dwC8Pack holds it.
func interleaveC8(w []float32, c, kk int) []float32 {
	out := make([]float32, c*kk)
	for b := range c / 8 {
		for i := range 8 {
			for t := range kk {
				out[(b*kk+t)*8+i] = w[(b*8+i)*kk+t]
			}
		}
	}
	return out
}

// dwC8Args is one blocked depthwise convolution, for forArgs: block i is
// channels [8i, 8i+8) of image i/(c/8).
type dwC8Args struct {
	k                  *convKernel
	a                  act
	x, w, bias, res, y []float32
	w8                 []float32 // W interleaved (dwC8Pack), or nil
	c                  int
	H, W, OH, OW       int
	KH, KW, dh, dw     int
	sh, sw, ph, pw, PW int
	lo, hi             float32
	after              bool
}

// convDepthwiseC8 runs the blocked path (dwC8Fits holds).
func convDepthwiseC8(k *convKernel, a act, g geom, n, c int, x, w, bias, res, y []float32) {
	lo, hi, clamps := clampOf[float32](a)
	if res != nil || !clamps {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	args := dwC8Args{k: k, a: a, x: x, w: w, bias: bias, res: res, y: y, c: c,
		H: g.in[0], W: g.in[1], OH: g.out[0], OW: g.out[1], KH: g.k[0], KW: g.k[1], dh: g.d[0], dw: g.d[1], sh: g.s[0], sw: g.s[1], ph: g.pb[0], pw: g.pb[1],
		PW: g.in[1] + g.pb[1] + g.pe[1], lo: lo, hi: hi, after: res != nil || !clamps}
	if p := k.pack; p != nil {
		kk := g.k[0] * g.k[1]
		p.dw.once.Do(func() { p.dw.w = interleaveC8(w, c, kk) })
		args.w8 = p.dw.w
	}
	blocks := n * c / 8
	work := blocks * 8 * g.out[0] * g.out[1] * g.k[0] * g.k[1]
	if work < dwParallelWork && !forceParallel {
		args.block(0, blocks)
		return
	}
	per := 8 * (g.out[0]*g.out[1]*g.k[0]*g.k[1] + g.in[0]*g.in[1])
	forArgs(&k.jobs, blocks, max(1, dwGrainWork/per), args)
}

// dwC8Strip is the number of floats of interleaved plane a strip of
// output rows reads at most (docs/onnx-vs-ort.md): large planes run in
// strips of rows so that the plane stays in cache between the transpose
// and the kernel (a strip rereads the window's overlap rows).
var dwC8Strip = 1 << 14

func (j dwC8Args) block(b0, b1 int) {
	H, W, OH, OW, PW, sh := j.H, j.W, j.OH, j.OW, j.PW, j.sh
	hw, ohw, pitch, kk := H*W, OH*OW, PW*8, j.KH*j.KW
	// Output rows per strip and the padded rows they read.
	ext := (j.KH-1)*j.dh + 1
	so := min(OH, max(1, (dwC8Strip/pitch-ext)/sh+1))
	prows := (so-1)*sh + ext
	// The strip's padded plane, its output (readable to a whole number of
	// 8×8 blocks) and the weights (the taps', bias, lo, hi: a vector each).
	psz, osz, wsz := prows*pitch, (so*OW+7)&^7*8, (kk+3)*8
	buf := getScratch[float32](&j.k.buffer, psz+osz+wsz)
	defer putScratch(&j.k.buffer, buf)
	p, o, wb := (*buf)[:psz], (*buf)[psz:psz+osz], (*buf)[psz+osz:psz+osz+wsz]
	// The taps' offsets in the plane.
	var offs [dwC8MaxTaps]int
	for kh := range j.KH {
		for kw := range j.KW {
			offs[kh*j.KW+kw] = kh*j.dh*pitch + kw*j.dw*8
		}
	}
	taps := newTapOffsets(offs[:kk])
	// The left and right padding stay zero: only the interior of a row
	// is rewritten (a row of top or bottom padding is cleared whole).
	for r := range prows {
		row := p[r*pitch : (r+1)*pitch]
		clear(row[:j.pw*8])
		clear(row[(j.pw+W)*8:])
	}
	for i := range 8 {
		wb[8*(kk+1)+i], wb[8*(kk+2)+i] = j.lo, j.hi
	}
	cb := j.c / 8
	for b := b0; b < b1; b++ {
		img, c0 := b/cb, b%cb*8
		ch := img*j.c + c0 // the block's first plane
		if j.w8 != nil {
			copy(wb[:8*kk], j.w8[c0*kk:(c0+8)*kk])
		}
		for i := range 8 {
			if j.w8 == nil {
				for t := range kk {
					wb[8*t+i] = j.w[(c0+i)*kk+t]
				}
			}
			wb[8*kk+i] = 0
			if j.bias != nil {
				wb[8*kk+i] = j.bias[c0+i]
			}
		}
		xb := j.x[ch*hw : (ch+8)*hw]
		yb := j.y[ch*ohw : (ch+8)*ohw]
		for r0 := 0; r0 < OH; r0 += so {
			r1 := min(r0+so, OH)
			n := (r1-r0-1)*sh + ext
			for i := range n {
				row := p[i*pitch : (i+1)*pitch]
				if xr := r0*sh + i - j.ph; xr >= 0 && xr < H {
					pack8(row[j.pw*8:], xb[xr*W:], W, hw)
				} else {
					clear(row)
				}
			}
			dwC8(o, p, wb, taps, r1-r0, OW, sh, j.sw, n, PW)
			unpack8(yb[r0*OW:], o, (r1-r0)*OW, ohw)
		}
		if j.after {
			for i := range 8 {
				var rc []float32
				if j.res != nil {
					rc = j.res[(ch+i)*ohw : (ch+i+1)*ohw]
				}
				epilogue(j.a, yb[i*ohw:(i+1)*ohw], rc, 0)
			}
		}
	}
}

// dwC8 runs the kernel over the interleaved plane p (PH×PW pixels) into
// o (OH×OW), output rows sh and columns sw pixels apart, the taps at
// taps.offs (floats from a window's corner; newTapOffsets found the
// largest once per run), weights and epilogue in wb (a
// vector each: the taps', bias, lo, hi); it panics unless every read and
// write stays inside p, o and wb. A 3×3 window without dilation keeps its
// weights in registers (dwC8s*AVX2); any other reads them (dwC8Taps*).
func dwC8(o, p, wb []float32, taps tapOffsets, OH, OW, sh, sw, PH, PW int) {
	offs, last, pitch := taps.offs, taps.max, PW*8
	if OH <= 0 || OW <= 0 || len(offs) == 0 || len(offs) > dwC8MaxTaps || (OH-1)*sh*pitch+(OW-1)*sw*8+last+8 > PH*pitch ||
		len(p) < PH*pitch || len(o) < OH*OW*8 || len(wb) < (len(offs)+3)*8 {
		panic(fmt.Sprintf("onnx: dwC8: %d×%d outputs at stride %d,%d, last tap %d, from a %d×%d plane (%d floats), output %d, weights %d",
			OH, OW, sh, sw, last, PH, PW, len(p), len(o), len(wb)))
	}
	if len(offs) == 9 && offs[1] == 8 && offs[2] == 16 && offs[3] == pitch && offs[8] == 2*pitch+16 {
		dwC8Asm(o, p, wb, OH, OW, sh*pitch, pitch, sw)
		return
	}
	dwC8TapsAsm(o, p, wb, offs, OH, OW, sh*pitch, sw)
}

// pack8 sets dst[8i+c] = src[c·stride+i] for i < n, c < 8.
func pack8(dst, src []float32, n, stride int) {
	if n <= 0 {
		return
	}
	if len(dst) < 8*n || len(src) < 7*stride+n {
		panic(fmt.Sprintf("onnx: pack8: %d columns of stride %d from %d floats into %d", n, stride, len(src), len(dst)))
	}
	pack8Asm(dst, src, n, stride)
}

// unpack8 sets dst[c·stride+i] = src[8i+c] for i < n, c < 8 (src readable
// to a whole number of eight columns).
func unpack8(dst, src []float32, n, stride int) {
	if n <= 0 {
		return
	}
	if len(src) < (n+7)&^7*8 || len(dst) < 7*stride+n {
		panic(fmt.Sprintf("onnx: unpack8: %d columns of stride %d from %d floats into %d", n, stride, len(src), len(dst)))
	}
	unpack8Asm(dst, src, n, stride)
}
