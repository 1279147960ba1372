package onnx

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/parallel"
)

// convDirect computes a 2-D convolution with a few input channels per
// group and a small window (1 < C/group, C/group·KH·KW ≤ directTaps:
// MobileNetV2's and PaddleOCR's first layer, 3 channels, 3×3, stride 2)
// by sliding the window over the group's planes, as convDepthwise does,
// but a tile of up to 4 output channels at once (convDirectAsm): each tap
// loads the inputs once for all the tile's channels, and the tile's 12
// independent sums keep both FMA units busy, where one channel at a time
// waited on its few chains' latency.
//
// The output rows go in bands (convDirectBand): a band's padded input
// rows (each row stored as its column phases, as convDepthwise's planes,
// so that every tap of a row of outputs reads consecutive floats) are
// copied to a buffer small enough to stay in L1 while every channel tile
// of the group passes over it. Bands are independent, so they run in
// parallel, each thread copying its own rows (a band copies again the
// rows its window shares with the next band's).
//
// With that kernel the direct path also takes any window over at most
// directTileChannels input channels per group, where GEMM would multiply a
// patch matrix it first wrote out (ResNet-18's first layer, 3 channels,
// 7×7, stride 2: 4.5 ms with im2col and GEMM, 2.55 ms here; best of two
// alternated runs of TestOpTimes, one thread, load 4.5; BenchmarkConvDirect
// compares the two).
//
// It reports false, computing nothing, where there is no kernel (float64,
// no AVX2, purego): convDepthwise runs then, or GEMM above directTaps.
func convDirect[T real](k *convKernel, a act, g geom, n, c, m int, x, w, bias, res, y []T) bool {
	var z T
	if unsafe.Sizeof(z) != 4 || !useAVX2 || convNoTiles {
		return false
	}
	j := getCdJob(k)
	defer k.jobs.put(j)
	j.set(k, a, g, n, c, m, f32s(x), f32s(w), f32s(bias), f32s(res), f32s(y))
	units := n * k.group * j.bands
	work := n * m * j.OH * j.OW * j.kk // multiply-adds
	if work < cdParallelWork && !forceParallel || parallel.Threads() == 1 {
		j.body(0, units)
	} else {
		parallel.For(units, max(1, cdGrainWork*units/work), j.run)
	}
	*j = cdJob{run: j.run, offs: j.offs, phStart: j.phStart, wp: j.wp} // drop the call's slices
	return true
}

// cdParallelWork is the number of multiply-adds below which a direct
// convolution runs on one thread, and cdGrainWork the least a thread is
// handed: convDepthwise's cut-offs (dwParallelWork, dwGrainWork) scaled
// by this kernel's speed (about 2.5× its per-channel one on MobileNetV2's
// first layer), so that a thread's share is again worth the hand-off, some
// microseconds; not measured on their own.
const (
	cdParallelWork = 1 << 18
	cdGrainWork    = 1 << 16
)

// directTileChannels is the most input channels per group for which a
// convolution with any window takes the direct path when its kernel is
// there: images' first layers (gray, RGB, RGBA) and narrow groups
// (ResNeXt's 4). A bound chosen, not measured: wider groups stay with GEMM,
// whose products are then deeper.
const directTileChannels = 4

// convNoTiles turns the tiled direct kernel off, for the tests and
// measurements that compare it with convDepthwise's.
var convNoTiles = false

// convDirectBand is the most bytes of padded input rows (all the group's
// channels) a band of output rows reads.
const convDirectBand = 24 << 10

// cdJob is one direct convolution's arguments, kept by the kernel between
// runs (with the closure parallel.For calls) so that a run allocates
// nothing.
type cdJob struct {
	run                  func(lo, hi int) // j.body, bound once
	k                    *convKernel
	a                    act
	x, bias, res, y      []float32
	c, m, cg, mg, kk     int
	H, W, OH, OW, sh, sw int
	ph, pw, PW, KH, dh   int
	rows, bands, band    int // padded rows a band holds; bands per plane; output rows a band
	after                bool
	phStart, offs        []int
	taps                 tapOffsets // offs and their largest
	wp                   []float32  // per group, its tiles' biases, clamp and weights
}

func getCdJob(k *convKernel) *cdJob {
	if j, ok := takeJob[*cdJob](&k.jobs); ok {
		return j
	}
	j := &cdJob{}
	j.run = j.body
	return j
}

// tileLen is the length of a tile of nc channels' packed weights.
func (j *cdJob) tileLen(nc int) int { return nc + 2 + j.kk*nc }

// set resolves the geometry and packs the weights.
func (j *cdJob) set(k *convKernel, a act, g geom, n, c, m int, x, w, bias, res, y []float32) {
	H, W, OH, OW := g.in[0], g.in[1], g.out[0], g.out[1]
	KH, KW := g.k[0], g.k[1]
	sh, sw, dh, dw := g.s[0], g.s[1], g.d[0], g.d[1]
	PW := W + g.pb[1] + g.pe[1]
	cg := c / k.group
	*j = cdJob{run: j.run, k: k, a: a, x: x, bias: bias, res: res, y: y, c: c, m: m, cg: cg, mg: m / k.group,
		kk: cg * KH * KW, H: H, W: W, OH: OH, OW: OW, sh: sh, sw: sw, ph: g.pb[0], pw: g.pb[1], PW: PW, KH: KH, dh: dh,
		phStart: j.phStart[:0], offs: j.offs[:0], wp: j.wp[:0]}
	// A band of b output rows reads (b−1)·sh + (KH−1)·dh + 1 padded rows.
	span := (KH-1)*dh + 1
	// At least span/sh output rows, so that no input row is copied more
	// than twice.
	b := max((convDirectBand/(4*cg*PW)-span)/sh+1, (span+sh-1)/sh, 1)
	j.band = min(b, OH)
	j.bands = (OH + j.band - 1) / j.band
	j.rows = (j.band-1)*sh + span
	for p, at := 0, 0; p < sw; p++ {
		j.phStart = append(j.phStart, at)
		at += (PW - p + sw - 1) / sw
	}
	for ci := range cg {
		for kh := range KH {
			for kw := range KW {
				cc := kw * dw
				j.offs = append(j.offs, (ci*j.rows+kh*dh)*PW+j.phStart[cc%sw]+cc/sw)
			}
		}
	}
	j.taps = newTapOffsets(j.offs)
	lo, hi, clamps := clampOf[float32](a)
	if res != nil || !clamps {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	j.after = res != nil || !clamps
	// Each group's tiles of 4 channels (the last one of fewer), packed:
	// biases, lo, hi, then the weights tap by tap.
	kk, mg := j.kk, j.mg
	for gr := range k.group {
		for o0 := 0; o0 < mg; o0 += 4 {
			nc := min(4, mg-o0)
			for c := range nc {
				var b float32
				if bias != nil {
					b = bias[gr*mg+o0+c]
				}
				j.wp = append(j.wp, b)
			}
			j.wp = append(j.wp, lo, hi)
			for t := range kk {
				for c := range nc {
					j.wp = append(j.wp, w[(gr*mg+o0+c)*kk+t])
				}
			}
		}
	}
}

// body computes bands [u0, u1) of every image and group (band u is band
// u % bands of group u / bands % group of image u / (bands·group)).
func (j *cdJob) body(u0, u1 int) {
	k := j.k
	cg, PW, rows := j.cg, j.PW, j.rows
	psz := rows * PW
	pp := getScratch[float32](&k.buffer, cg*psz+dwSlack)
	defer putScratch(&k.buffer, pp)
	planes := *pp
	hw, ohw, OW := j.H*j.W, j.OH*j.OW, j.OW
	for u := u0; u < u1; u++ {
		b := u % j.bands
		gr := u / j.bands % k.group
		i := u / (j.bands * k.group)
		r0 := b * j.band
		r1 := min(r0+j.band, j.OH)
		p0 := r0 * j.sh
		np := (r1-1-r0)*j.sh + (j.KH-1)*j.dh + 1
		for ci := range cg {
			xc := j.x[(i*j.c+gr*cg+ci)*hw : (i*j.c+gr*cg+ci+1)*hw]
			for pr := range np {
				row := planes[ci*psz+pr*PW : ci*psz+(pr+1)*PW]
				j.fillRow(row, xc, p0+pr-j.ph)
			}
		}
		// Each tile of the group's channels over the band.
		wp := j.wp[gr*j.groupLen():]
		for o0 := 0; o0 < j.mg; o0 += 4 {
			nc := min(4, j.mg-o0)
			o := i*j.m + gr*j.mg + o0 // the tile's first output channel
			tl := j.tileLen(nc)
			yt := j.y[o*ohw+r0*OW : (o+nc-1)*ohw+r1*OW]
			convDirectAsm(yt, planes, wp[:tl], j.taps, nc, r1-r0, OW, OW, ohw, j.sh*PW)
			wp = wp[tl:]
			if j.after {
				for c := range nc {
					var rc []float32
					if j.res != nil {
						rc = j.res[(o+c)*ohw+r0*OW : (o+c)*ohw+r1*OW]
					}
					epilogue(j.a, j.y[(o+c)*ohw+r0*OW:(o+c)*ohw+r1*OW], rc, 0)
				}
			}
		}
	}
}

// tapOffsets is a kernel's tap offsets with the largest, found once so
// that the kernel's bounds check does not scan them on every call.
type tapOffsets struct {
	offs []int
	max  int
}

// newTapOffsets panics if an offset is negative.
func newTapOffsets(offs []int) tapOffsets {
	t := tapOffsets{offs: offs}
	for _, o := range offs {
		if o < 0 {
			panic(fmt.Sprintf("onnx: newTapOffsets: negative tap offset %d", o))
		}
		t.max = max(t.max, o)
	}
	return t
}

// groupLen is the length of a group's packed weights.
func (j *cdJob) groupLen() int {
	mg := j.mg
	return mg/4*j.tileLen(4) + min(mg%4, 1)*j.tileLen(mg%4)
}

// fillRow stores input row r of channel xc (zeros for a padding row) as a
// padded row in phases.
func (j *cdJob) fillRow(row, xc []float32, r int) {
	if r < 0 || r >= j.H {
		clear(row)
		return
	}
	W, PW, pw, sw := j.W, j.PW, j.pw, j.sw
	xr := xc[r*W : (r+1)*W]
	switch sw {
	case 1:
		clear(row[:pw])
		copy(row[pw:pw+W], xr)
		clear(row[pw+W:])
		return
	case 2:
		deinterleave(row[:j.phStart[1]], row[j.phStart[1]:], xr, pw)
	default:
		for q, v := range xr {
			cc := q + pw
			row[j.phStart[cc%sw]+cc/sw] = v
		}
	}
	for cc := range pw {
		row[j.phStart[cc%sw]+cc/sw] = 0
	}
	for cc := pw + W; cc < PW; cc++ {
		row[j.phStart[cc%sw]+cc/sw] = 0
	}
}
