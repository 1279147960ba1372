package onnx

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/parallel"
)

// Pooling: MaxPool (with its optional Indices output), AveragePool,
// GlobalAveragePool and GlobalMaxPool over any number of spatial
// dimensions. Windows follow nn_util.go's geometry (pads, auto_pad,
// strides, dilations, ceil_mode). Each (image, channel) plane is pooled
// independently, planes in parallel; 1-D and 2-D windows take a direct
// loop, other ranks a general one.

func init() {
	Register("", "MaxPool", 1, Latest, newMaxPool)
	Register("", "AveragePool", 1, Latest, newAvgPool)
	Register("", "GlobalAveragePool", 1, Latest, newGlobalPool(false))
	Register("", "GlobalMaxPool", 1, Latest, newGlobalPool(true))
}

type poolKernel struct {
	node         *Node
	max          bool
	win          window
	includePad   bool
	storageOrder int
	cache        atomic.Pointer[geomCache]
	jobs         jobList
}

func newMaxPool(n *Node) (Kernel, error) { return newPool(n, true) }
func newAvgPool(n *Node) (Kernel, error) { return newPool(n, false) }

func newPool(n *Node, isMax bool) (Kernel, error) {
	w, err := readWindow(n)
	if err != nil {
		return nil, err
	}
	if w.kernel == nil {
		return nil, n.Errorf("kernel_shape is required")
	}
	if len(w.kernel) > 6 {
		return nil, n.Errorf("%d spatial dimensions: %w", len(w.kernel), ErrUnsupported)
	}
	k := &poolKernel{node: n, max: isMax, win: w,
		includePad: n.Int("count_include_pad", 0) != 0, storageOrder: int(n.Int("storage_order", 0))}
	if !isMax && len(n.Outputs) > 1 {
		return nil, n.Errorf("AveragePool has one output, node names %d", len(n.Outputs))
	}
	return k, n.Err()
}

func (k *poolKernel) Run(in, out []*Tensor) error {
	x := in[0]
	op := "AveragePool"
	if k.max {
		op = "MaxPool"
	}
	if x.Rank() != len(k.win.kernel)+2 {
		return fmt.Errorf("%s: X shape %v does not fit kernel_shape %v", op, x.Shape, k.win.kernel)
	}
	g, err := resolveCached(&k.cache, k.win, x.Shape[2:], k.win.kernel)
	if err != nil {
		return fmt.Errorf("%s: X shape %v: %v", op, x.Shape, err)
	}
	n, c := x.Shape[0], x.Shape[1]
	var shape [8]int
	s := append(append(shape[:0], n, c), g.out...)
	y := out[0]
	y.Reset(x.DType, s)
	var idx []int64
	if k.max && len(out) > 1 && out[1] != nil {
		out[1].Reset(Int64, s)
		idx = out[1].I64
	}
	switch x.DType.Storage() {
	case StoreF32:
		poolRun(k, g, n*c, x.F32, y.F32, idx)
	case StoreF64:
		poolRun(k, g, n*c, x.F64, y.F64, idx)
	case StoreI64:
		if !k.max {
			return fmt.Errorf("%s: element type %v: %w", op, x.DType, ErrUnsupported)
		}
		poolRun(k, g, n*c, x.I64, y.I64, idx)
	default:
		return fmt.Errorf("%s: element type %v: %w", op, x.DType, ErrUnsupported)
	}
	return nil
}

type poolElem interface{ float32 | float64 | int64 }

func lowest[T poolElem]() T {
	var z T
	switch p := any(&z).(type) {
	case *float32:
		*p = float32(math.Inf(-1))
	case *float64:
		*p = math.Inf(-1)
	case *int64:
		*p = math.MinInt64
	}
	return z
}

// poolRun pools planes [0, planes) of x into y (and the argmax into idx,
// when not nil).
func poolRun[T poolElem](k *poolKernel, g geom, planes int, x, y []T, idx []int64) {
	in, out := numel(g.in), numel(g.out)
	if planes == 0 || out == 0 {
		return
	}
	kk := numel(g.k)
	args := poolArgs[T]{k, g, lowest[T](), x, y, idx, in, out}
	if planes*out*kk < 1<<14 && !forceParallel || parallel.Threads() == 1 {
		args.block(0, planes)
		return
	}
	forArgs(&k.jobs, planes, max(1, (1<<14)/(out*kk+1)), args)
}

type poolArgs[T poolElem] struct {
	k       *poolKernel
	g       geom
	low     T
	x, y    []T
	idx     []int64
	in, out int
}

// block pools planes [lo, hi).
func (a poolArgs[T]) block(lo, hi int) {
	in, out, x, y, idx := a.in, a.out, a.x, a.y, a.idx
	for p := lo; p < hi; p++ {
		xp, yp := x[p*in:(p+1)*in], y[p*out:(p+1)*out]
		var ip []int64
		if idx != nil {
			ip = idx[p*out : (p+1)*out]
		}
		if len(a.g.in) <= 2 {
			pool2D(a.k, a.g, p, a.low, xp, yp, ip)
		} else {
			poolND(a.k, a.g, p, a.low, xp, yp, ip)
		}
	}
}

// pool2D pools one plane with a 1-D or 2-D window.
func pool2D[T poolElem](k *poolKernel, g geom, plane int, lo T, x, y []T, idx []int64) {
	H, W, OH, OW := 1, g.in[0], 1, g.out[0]
	KH, KW, sh, sw, dh, dw, ph, pw, peh, pew := 1, g.k[0], 1, g.s[0], 1, g.d[0], 0, g.pb[0], 0, g.pe[0]
	if len(g.in) == 2 {
		H, W, OH, OW = g.in[0], g.in[1], g.out[0], g.out[1]
		KH, KW, sh, sw, dh, dw = g.k[0], g.k[1], g.s[0], g.s[1], g.d[0], g.d[1]
		ph, pw, peh, pew = g.pb[0], g.pb[1], g.pe[0], g.pe[1]
	}
	if k.max && idx == nil {
		maxPool2D(x, y, lo, H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw)
		return
	}
	base := int64(plane) * int64(H*W)
	for oh := range OH {
		hs := oh*sh - ph
		for ow := range OW {
			ws := ow*sw - pw
			if k.max {
				m, at := lo, -1
				for kh := range KH {
					ih := hs + kh*dh
					if ih < 0 || ih >= H {
						continue
					}
					row := x[ih*W : (ih+1)*W]
					for kw := range KW {
						iw := ws + kw*dw
						if iw < 0 || iw >= W {
							continue
						}
						if v := row[iw]; v > m || at < 0 {
							m, at = v, ih*W+iw
						}
					}
				}
				y[oh*OW+ow] = m
				if idx != nil {
					if k.storageOrder == 1 {
						at = at%W*H + at/W
					}
					idx[oh*OW+ow] = base + int64(at)
				}
				continue
			}
			var s T
			cnt := 0
			for kh := range KH {
				ih := hs + kh*dh
				if ih < 0 || ih >= H {
					continue
				}
				row := x[ih*W : (ih+1)*W]
				for kw := range KW {
					iw := ws + kw*dw
					if iw < 0 || iw >= W {
						continue
					}
					s += row[iw]
					cnt++
				}
			}
			if k.includePad {
				// Every tap inside the padded image counts, as PyTorch and
				// ONNX Runtime divide (not those past the end padding that
				// ceil_mode adds).
				cnt = taps(hs, KH, dh, H+peh, -ph) * taps(ws, KW, dw, W+pew, -pw)
			}
			if cnt > 0 {
				y[oh*OW+ow] = s / T(cnt)
			} else {
				y[oh*OW+ow] = 0
			}
		}
	}
}

// maxPool2D is MaxPool without indices over one plane: the window's
// rows and columns inside the image are found once per output row and
// pixel, so the inner loops test nothing but the values.
func maxPool2D[T poolElem](x, y []T, lo T, H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw int) {
	if ph == 0 && pw == 0 && dh == 1 && dw == 1 && OH > 0 && OW > 0 &&
		(OH-1)*sh+KH <= H && (OW-1)*sw+KW <= W {
		// Every window inside the image: no bounds per tap.
		for oh := range OH {
			yr := y[oh*OW : (oh+1)*OW]
			if KH == 2 && KW == 2 && sw == 2 {
				r0, r1 := x[oh*sh*W:(oh*sh+1)*W], x[(oh*sh+1)*W:(oh*sh+2)*W]
				for ow := range yr {
					a, b := r0[2*ow:2*ow+2:2*ow+2], r1[2*ow:2*ow+2:2*ow+2]
					yr[ow] = max(lo, max(max(a[0], a[1]), max(b[0], b[1])))
				}
				continue
			}
			for ow := range yr {
				m := lo
				for kh := range KH {
					row := x[(oh*sh+kh)*W+ow*sw : (oh*sh+kh)*W+ow*sw+KW]
					for _, v := range row {
						m = max(m, v)
					}
				}
				yr[ow] = m
			}
		}
		return
	}
	if dh == 1 && dw == 1 && W <= maxPoolRow {
		maxPoolSeparable(x, y, lo, H, W, OH, OW, KH, KW, sh, sw, ph, pw)
		return
	}
	// span returns the taps [k0, k1) of a window starting at s that fall in [0, n).
	span := func(s, k, d, n int) (int, int) {
		k0 := 0
		if s < 0 {
			k0 = (-s + d - 1) / d
		}
		k1 := k
		if last := s + (k-1)*d; last >= n {
			k1 = (n-1-s)/d + 1
		}
		return k0, max(k0, k1)
	}
	for oh := range OH {
		hs := oh*sh - ph
		h0, h1 := span(hs, KH, dh, H)
		yr := y[oh*OW : (oh+1)*OW]
		for ow := range yr {
			ws := ow*sw - pw
			w0, w1 := span(ws, KW, dw, W)
			m := lo
			for kh := h0; kh < h1; kh++ {
				row := x[(hs+kh*dh)*W : (hs+kh*dh+1)*W]
				for kw := w0; kw < w1; kw++ {
					// max, not a compare and branch: a branch per tap
					// mispredicts on random data (3× slower measured). A
					// NaN in the window gives NaN, as numpy's max does
					// (the compare used to skip it).
					m = max(m, row[ws+kw*dw])
				}
			}
			yr[ow] = m
		}
	}
}

// maxPoolRow is the widest image maxPoolSeparable takes (its row buffer
// is on the stack).
const maxPoolRow = 1024

// maxPoolSeparable is maxPool2D for undilated windows with padding
// (ResNet's 3×3, stride 2, pad 1): a window's maximum is the maximum over
// its columns of the column maxima, so each output row first takes the
// maximum down the window's rows, column by column (contiguous, no
// bounds per tap), then slides the window along that row.
func maxPoolSeparable[T poolElem](x, y []T, lo T, H, W, OH, OW, KH, KW, sh, sw, ph, pw int) {
	var buf [maxPoolRow]T
	v := buf[:W]
	for oh := range OH {
		h0, h1 := max(oh*sh-ph, 0), min(oh*sh-ph+KH, H)
		for c := range v {
			v[c] = lo
		}
		for h := h0; h < h1; h++ {
			row := x[h*W : (h+1)*W]
			for c, e := range row {
				v[c] = max(v[c], e)
			}
		}
		yr := y[oh*OW : (oh+1)*OW]
		for ow := range yr {
			w0, w1 := max(ow*sw-pw, 0), min(ow*sw-pw+KW, W)
			m := lo
			for _, e := range v[w0:max(w0, w1)] {
				m = max(m, e)
			}
			yr[ow] = m
		}
	}
}

// taps counts the window positions start + j·d, j < k, inside [lo, hi).
func taps(start, k, d, hi, lo int) int {
	n := 0
	for j := range k {
		if v := start + j*d; v >= lo && v < hi {
			n++
		}
	}
	return n
}

// poolND pools one plane with a window of any rank.
func poolND[T poolElem](k *poolKernel, g geom, plane int, lo T, x, y []T, idx []int64) {
	r := len(g.in)
	in, out, kk := numel(g.in), numel(g.out), numel(g.k)
	var oidx, kidx [8]int
	for p := range out {
		t := p
		for i := r - 1; i >= 0; i-- {
			oidx[i] = t % g.out[i]
			t /= g.out[i]
		}
		m, at := lo, -1
		var s T
		cnt, padCnt := 0, 0
		for kf := range kk {
			t := kf
			for i := r - 1; i >= 0; i-- {
				kidx[i] = t % g.k[i]
				t /= g.k[i]
			}
			off, inside, inPad := 0, true, true
			for i := range r {
				v := oidx[i]*g.s[i] - g.pb[i] + kidx[i]*g.d[i]
				if v < -g.pb[i] || v >= g.in[i]+g.pe[i] {
					inPad = false
				}
				if v < 0 || v >= g.in[i] {
					inside = false
				}
				off = off*g.in[i] + v
			}
			if inPad {
				padCnt++
			}
			if !inside {
				continue
			}
			v := x[off]
			if v > m || at < 0 {
				m, at = v, off
			}
			s += v
			cnt++
		}
		if k.max {
			y[p] = m
			if idx != nil {
				if k.storageOrder == 1 {
					// Column-major: reverse the order of the dimensions.
					a, mul, t := 0, 1, at
					var c [8]int
					for i := r - 1; i >= 0; i-- {
						c[i] = t % g.in[i]
						t /= g.in[i]
					}
					for i := range r {
						a += c[i] * mul
						mul *= g.in[i]
					}
					at = a
				}
				idx[p] = int64(plane)*int64(in) + int64(at)
			}
			continue
		}
		if k.includePad {
			cnt = padCnt
		}
		if cnt > 0 {
			y[p] = s / T(cnt)
		} else {
			y[p] = 0
		}
	}
}

// ---------------------------------------------------------------- global pools

type globalPool struct{ max bool }

func newGlobalPool(isMax bool) Constructor {
	return func(n *Node) (Kernel, error) { return globalPool{isMax}, n.Err() }
}

func (k globalPool) Run(in, out []*Tensor) error {
	x := in[0]
	op := "GlobalAveragePool"
	if k.max {
		op = "GlobalMaxPool"
	}
	if x.Rank() < 2 || x.Rank() > 8 {
		return fmt.Errorf("%s: X shape %v: want N×C×D…", op, x.Shape)
	}
	var shape [8]int
	s := append(shape[:0], x.Shape[:2]...)
	for range x.Rank() - 2 {
		s = append(s, 1)
	}
	planes, size := x.Shape[0]*x.Shape[1], numel(x.Shape[2:])
	out[0].Reset(x.DType, s)
	switch x.DType.Storage() {
	case StoreF32:
		globalPoolRun(k.max, planes, size, x.F32, out[0].F32)
	case StoreF64:
		globalPoolRun(k.max, planes, size, x.F64, out[0].F64)
	default:
		return fmt.Errorf("%s: element type %v: %w", op, x.DType, ErrUnsupported)
	}
	return nil
}

func globalPoolRun[T real](isMax bool, planes, in int, x, y []T) {
	for p := range planes {
		xp := x[p*in : (p+1)*in]
		if isMax {
			m := T(math.Inf(-1))
			for _, v := range xp {
				m = max(m, v) // branch-free, as maxPool2D
			}
			y[p] = m
			continue
		}
		if x32, ok := any(xp).([]float32); ok {
			// math32's vector sum: MobileNetV2's 1280 planes of 49 took
			// 26 µs with the scalar one.
			y[p] = T(math32.Sum(x32)) / T(in)
			continue
		}
		y[p] = mathx.Sum(xp) / T(in)
	}
}
