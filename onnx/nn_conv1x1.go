package onnx

import (
	"sync"
	"unsafe"

	"github.com/adjoint-go/adjoint/parallel"
)

// The direct 1×1 convolution (pointwise: group 1, stride 1, no padding,
// float32, constant weights, no activation or a clamp): y[o][p] =
// clamp(b[o] + Σ_c W[o][c]·x[c][p] (+ r[o][p])), with the AVX2 kernels
// c1x1R<mr>[Res]AVX2 that keep a tile of 6 channels × 16 pixels in
// registers from the bias to the store, the residual and clamp applied
// before it. GEMM instead writes the product, then an epilogue pass reads
// and rewrites it, and its macro loop packs and blocks for depths that
// MobileNetV2's shallow layers (16 to 96 input channels over 112×112 and
// 56×56 planes) never have. The weights are packed once into panels of
// c1MR channels, interleaved (c1x1Pack); the image is read in place, in
// column blocks whose strip (all channels of nb pixels) stays in L2 while
// every panel passes over it.

// c1MR is the panel height: the kernels' tile is c1MR channels × 16
// pixels (12 accumulators, two image vectors and a broadcast weight: the
// 15 of AVX2's 16 registers).
const c1MR = 6

// c1x1Pack is a Conv's constant weights packed for the kernels, on the
// first run: panel j (channels [6j, 6j+mr)) at 6j·C, C·mr floats, the mr
// weights of input channel c at c·mr; 8 floats of zeros after the last.
type c1x1Pack struct {
	once sync.Once
	w    []float32
}

// packC1x1 packs the m×kc weights w into panels.
func packC1x1(w []float32, m, kc int) []float32 {
	p := make([]float32, m*kc+8) // the tail reads 8 floats of a panel's row
	for j0 := 0; j0 < m; j0 += c1MR {
		mr := min(c1MR, m-j0)
		panel := p[j0*kc : (j0+mr)*kc]
		for c := range kc {
			for i := range mr {
				panel[c*mr+i] = w[(j0+i)*kc+c]
			}
		}
	}
	return p
}

// c1x1Off turns the direct path off, for the tests and benchmarks that
// compare it with GEMM.
var c1x1Off = false

// c1Strip is the most floats of image (all kc channels of a column
// block) that one column block reads: 32K floats, 128 KB, in L2 with
// the block's output rows passing through. 8K and 64K measured the same
// on MobileNetV2's shapes, 1K (a tile of 16 pixels a block, its strip in
// L1 for all the panels) 5-25% slower; two input channels per step of the
// kernels' loop made no difference either.
const c1Strip = 1 << 15

// c1x1Pays says whether the direct kernel beats GEMM on a kc→m
// convolution over hw pixels. On every 1×1 shape of MobileNetV2 it did or
// tied (BenchmarkConv1x1: up to 1.8× on the shallow layers at 112², ties
// at depths 144 and 192 over 56² and 28², 10-20% at 7²). It reads all the
// weights once per column block, though, where GEMM blocks the depth:
// beyond c1WeightReads floats so read (ResNet-50's 2048→512 at 7², 4 MB
// of weights read 4 times), unmeasured, GEMM keeps them.
func c1x1Pays(kc, m, hw int) bool {
	nb := min(hw, max(16, c1Strip/kc&^15))
	return m*kc*((hw+nb-1)/nb) <= c1WeightReads
}

// c1WeightReads bounds the weights c1x1Pays lets the direct kernel read
// per image: 1M floats (MobileNetV2's largest is 960→320 at 7², 307K
// floats twice).
const c1WeightReads = 1 << 20

var c1Zero [c1MR]float32

// conv1x1 runs a 1×1 convolution of n images of c channels of hw pixels
// to m channels with the direct kernels and reports true, or returns false
// (nothing written) where they do not apply.
func conv1x1[T real](k *convKernel, a act, n, c, m, hw int, x, w, bias, res, y []T) bool {
	var z T
	if unsafe.Sizeof(z) != 4 || !useAVX2 || c1x1Off || k.pack == nil || k.group != 1 || c < 1 {
		return false
	}
	lo, hi, ok := clampOf[float32](a)
	if !ok || !c1x1Pays(c, m, hw) {
		return false
	}
	p := &k.pack.c1
	ws := f32s(w)
	p.once.Do(func() { p.w = packC1x1(ws, m, c) })
	args := c1x1Args{k: k, w: p.w, m: m, kc: c, hw: hw, lohi: [2]float32{lo, hi}, pack: c1x1PacksX(c, m, hw)}
	if bias != nil {
		args.b = f32s(bias)
	}
	np := (m + c1MR - 1) / c1MR
	nb := max(16, c1Strip/c&^15)
	if nb >= hw {
		nb = hw
	}
	nblk := (hw + nb - 1) / nb
	args.npg, args.ppg = 1, np
	th := parallel.Threads()
	if th > 1 && m*c*hw >= c1ParMin {
		if nblk >= th {
			// Whole column blocks to each thread, as many blocks as a
			// multiple of the threads, 16 pixels apart.
			nblk = (nblk + th - 1) / th * th
			nb = ((hw+nblk-1)/nblk + 15) &^ 15
			nblk = (hw + nb - 1) / nb
		} else {
			// Too few pixels: the threads share the panels.
			args.ppg = (np + th - 1) / th
			args.npg = (np + args.ppg - 1) / args.ppg
		}
	}
	args.nb = nb
	for i := range n {
		args.x = f32s(x[i*c*hw : (i+1)*c*hw])
		args.y = f32s(y[i*m*hw : (i+1)*m*hw])
		if res != nil {
			args.r = f32s(res[i*m*hw : (i+1)*m*hw])
		}
		forArgs(&k.jobs, nblk*args.npg, 1, args)
	}
	return true
}

// c1ParMin is the least number of multiply-adds a convolution splits
// between threads.
const c1ParMin = 1 << 18

// c1x1Args is one image's 1×1 convolution for forArgs: item i is column
// block i/npg (pixels [nb·blk, nb·blk+nb)) of panels [ppg·g, ppg·g+ppg),
// g = i%npg.
type c1x1Args struct {
	k                       *convKernel
	pack                    bool // pack each block's strip (c1x1PackStrip)
	y, x, w, b, r           []float32
	m, kc, hw, nb, npg, ppg int
	lohi                    [2]float32
}

func (c c1x1Args) block(lo, hi int) {
	np := (c.m + c1MR - 1) / c1MR
	var buf *[]float32
	if c.pack {
		buf = getScratch[float32](&c.k.buffer, c.kc*((c.nb+15)&^15))
		defer putScratch(&c.k.buffer, buf)
	}
	for it := lo; it < hi; it++ {
		blk, g := it/c.npg, it%c.npg
		p0 := blk * c.nb
		p1 := min(p0+c.nb, c.hw)
		if p0 >= p1 {
			continue
		}
		x, ldx, xt := c.x[p0:], c.hw, 16
		if c.pack {
			c1x1PackStrip(*buf, x, c.kc, p1-p0, c.hw)
			x, ldx, xt = *buf, 16, 16*c.kc
		}
		for j := g * c.ppg; j < min((g+1)*c.ppg, np); j++ {
			j0 := j * c1MR
			mr := min(c1MR, c.m-j0)
			b := c1Zero[:mr]
			if c.b != nil {
				b = c.b[j0 : j0+mr]
			}
			var r []float32
			if c.r != nil {
				r = c.r[j0*c.hw+p0:]
			}
			c1x1Panel(c.y[j0*c.hw+p0:], x, c.w[j0*c.kc:], b, r, mr, c.kc, p1-p0, ldx, xt, c.hw, &c.lohi)
		}
	}
}

// c1x1PacksX says whether the kernels read a kc-channel image of hw
// pixels packed into tiles (c1x1PackStrip) rather than in place, for m
// output channels: packed where the rows are short (below 1024 pixels:
// a 16-pixel load of a row straddles cache lines, and the tiles make one
// stream for the prefetcher) or where m/6 panels share each packed strip
// (BenchmarkConv1x1 on MobileNetV2's shapes, Zen 3, one thread, CPU time:
// packed 469, 241, 398 µs against 517, 261, 449 in place for 16→96 at
// 112², 24→144 at 56², 960→320 at 7²; in place 164, 173 against 185, 183
// for 32→16 at 112², 96→24 at 56²).
func c1x1PacksX(kc, m, hw int) bool {
	if c1x1PackMode != 0 {
		return c1x1PackMode > 0
	}
	return hw < 1024 || m >= 96
}

// c1x1PackMode forces packing on (1) or off (−1), for the benchmarks.
var c1x1PackMode = 0

// c1x1PackStrip packs n pixels of the kc channels of x (rows ld apart)
// into dst in tiles of 16 pixels × kc channels (the last tile zero-padded
// to 16), tile t at 16·kc·t.
func c1x1PackStrip(dst, x []float32, kc, n, ld int) {
	nt := n / 16
	c1x1PackTiles(dst, x, kc, nt, ld)
	if r := n - 16*nt; r > 0 {
		d := dst[16*kc*nt : 16*kc*(nt+1)]
		for k := range kc {
			row := d[16*k : 16*k+16]
			copy(row, x[k*ld+16*nt:k*ld+16*nt+r])
			clear(row[r:])
		}
	}
}
