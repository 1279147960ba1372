package onnx

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/adjoint-go/adjoint/gemm"
)

// Helpers shared by the neural-network op families (nn_conv.go,
// nn_pool.go, nn_norm.go, nn_gemm.go, nn_softmax.go): float slices of
// either width, one GEMM entry point for both, per-kernel scratch and the
// spatial geometry of convolution and pooling windows.

// real is the element type of the float kernels: float32 (which also holds
// float16 and bfloat16 values) or float64.
type real interface{ float32 | float64 }

// floatsOf returns t's elements as []T, which must match t's storage.
func floatsOf[T real](t *Tensor) []T {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(t.F32))), len(t.F32))
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(t.F64))), len(t.F64))
}

// floatKind reports whether dt is held as float32 (false: float64) and
// whether it is a float type at all.
func floatKind(dt DataType) (f32, ok bool) {
	switch dt.Storage() {
	case StoreF32:
		return true, true
	case StoreF64:
		return false, true
	}
	return false, false
}

// gemmT is gemm.Gemm with transposes as booleans.
// Products with a zero dimension are handled here (C scaled by beta where
// k is 0), so that gemm's leading-dimension checks never see them.
func gemmT[T real](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				if beta == 0 {
					row[j] = 0
				} else {
					row[j] *= beta
				}
			}
		}
		return
	}
	gemm.Gemm(transFlag(tA), transFlag(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// transFlag is gemm's flag for a transposed (t) or plain operand.
func transFlag(t bool) gemm.Transpose {
	if t {
		return gemm.Trans
	}
	return gemm.NoTrans
}

// gemmStridedT is gemm.GemmStrided with transposes as booleans.
func gemmStridedT[T real](tA, tB bool, m, n, k int, alpha T, a []T, lda, sa int, b []T, ldb, sb int, beta T, c []T, ldc, sc, batch int) {
	if batch == 1 {
		gemmT(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m == 0 || n == 0 || batch == 0 {
		return
	}
	if k == 0 {
		for i := range batch {
			gemmT(tA, tB, m, n, k, alpha, nil, lda, nil, ldb, beta, c[i*sc:], ldc)
		}
		return
	}
	gemm.GemmStrided(transFlag(tA), transFlag(tB), m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch)
}

func as32[T real](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func as64[T real](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// scratch hands out per-run working buffers (patch matrices, padded
// images) to a kernel that may run on several goroutines at once: a buffer
// is borrowed for one Run and returned. A small free list under a mutex
// rather than a sync.Pool, which the garbage collector empties every other
// cycle: with megabyte patch matrices that meant reallocating them (and
// collecting more often) in steady state.
type scratch struct {
	mu  sync.Mutex
	f32 []*[]float32
	f64 []*[]float64
}

// scratchKeep bounds the buffers a kernel keeps: one per concurrent Run.
const scratchKeep = 8

func getScratch[T real](s *scratch, n int) *[]T {
	var z T
	var b *[]T
	s.mu.Lock()
	if unsafe.Sizeof(z) == 4 {
		if k := len(s.f32); k > 0 {
			b = (*[]T)(unsafe.Pointer(s.f32[k-1]))
			s.f32 = s.f32[:k-1]
		}
	} else if k := len(s.f64); k > 0 {
		b = (*[]T)(unsafe.Pointer(s.f64[k-1]))
		s.f64 = s.f64[:k-1]
	}
	s.mu.Unlock()
	if b == nil {
		b = new([]T)
	}
	if cap(*b) < n {
		*b = make([]T, n)
	}
	*b = (*b)[:n]
	return b
}

func putScratch[T real](s *scratch, b *[]T) {
	var z T
	s.mu.Lock()
	defer s.mu.Unlock()
	if unsafe.Sizeof(z) == 4 {
		if len(s.f32) < scratchKeep {
			s.f32 = append(s.f32, (*[]float32)(unsafe.Pointer(b)))
		}
		return
	}
	if len(s.f64) < scratchKeep {
		s.f64 = append(s.f64, (*[]float64)(unsafe.Pointer(b)))
	}
}

// window is the geometry of a convolution or pooling window over the
// spatial dimensions of an N×C×D1×…×Dk tensor, as ONNX's Conv, ConvTranspose
// and the pools describe it: kernel, strides, dilations and pads (begin and
// end per dimension), from attributes, with auto_pad resolved per run
// against the input's size.
type window struct {
	kernel, strides, dilations []int
	pads                       []int // [b1..bk, e1..ek] as ONNX writes them; nil: zeros
	autoPad                    string
	ceil                       bool // pools' ceil_mode
}

// readWindow reads kernel_shape, strides, dilations, pads and auto_pad.
// kernel_shape may be absent (Conv infers it from the weights: nil here).
func readWindow(n *Node) (window, error) {
	w := window{
		kernel:    n.IntsAsInt("kernel_shape"),
		strides:   n.IntsAsInt("strides"),
		dilations: n.IntsAsInt("dilations"),
		pads:      n.IntsAsInt("pads"),
		autoPad:   n.String("auto_pad", "NOTSET"),
		ceil:      n.Int("ceil_mode", 0) != 0,
	}
	switch w.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "":
	default:
		return w, n.Errorf("auto_pad %q: %w", w.autoPad, ErrUnsupported)
	}
	k := len(w.kernel)
	for _, c := range []struct {
		name string
		v    []int
		min  int
		bad  string
	}{
		{"kernel_shape", w.kernel, 1, "a dimension < 1"},
		{"strides", w.strides, 1, "a value < 1"},
		{"dilations", w.dilations, 1, "a value < 1"},
		{"pads", w.pads, 0, "a negative value"},
	} {
		for _, v := range c.v {
			if v < c.min {
				return w, n.Errorf("%s %v has %s", c.name, c.v, c.bad)
			}
		}
	}
	if k > 0 {
		if w.strides != nil && len(w.strides) != k {
			return w, n.Errorf("strides %v do not match kernel_shape %v", w.strides, w.kernel)
		}
		if w.dilations != nil && len(w.dilations) != k {
			return w, n.Errorf("dilations %v do not match kernel_shape %v", w.dilations, w.kernel)
		}
		if w.pads != nil && len(w.pads) != 2*k {
			return w, n.Errorf("pads %v do not match kernel_shape %v", w.pads, w.kernel)
		}
	}
	return w, n.Err()
}

// geom is a window resolved against one input: per spatial dimension i,
// input size in[i], kernel k[i], stride s[i], dilation d[i], pads pb[i]
// before and pe[i] after, and the output size out[i].
type geom struct {
	in, k, s, d, pb, pe, out []int
}

// resolve computes the output geometry of w over spatial input sizes in
// (with kernel from the weights where w has none). Conv, the pools and
// ONNX Runtime agree on these rules: NOTSET uses pads and floor (ceil with
// ceil_mode, dropping a last window that would start in the end padding);
// SAME_UPPER/SAME_LOWER give out = ⌈in/s⌉ with the padding split evenly
// and the odd one at the end (UPPER) or the beginning (LOWER); VALID pads
// nothing. It returns an error for a window larger than the padded input.
func (w window) resolve(in, kernel []int) (geom, error) {
	r := len(in)
	if kernel == nil {
		kernel = w.kernel
	}
	if len(kernel) != r {
		return geom{}, fmt.Errorf("kernel %v does not fit %d spatial dimensions", kernel, r)
	}
	if w.strides != nil && len(w.strides) != r || w.dilations != nil && len(w.dilations) != r || w.pads != nil && len(w.pads) != 2*r {
		return geom{}, fmt.Errorf("strides %v, dilations %v or pads %v do not fit %d spatial dimensions", w.strides, w.dilations, w.pads, r)
	}
	buf := make([]int, 7*r)
	g := geom{in: buf[:r:r], k: buf[r : 2*r : 2*r], s: buf[2*r : 3*r : 3*r], d: buf[3*r : 4*r : 4*r],
		pb: buf[4*r : 5*r : 5*r], pe: buf[5*r : 6*r : 6*r], out: buf[6*r:]}
	for i := range r {
		g.in[i], g.k[i], g.s[i], g.d[i] = in[i], kernel[i], 1, 1
		if w.strides != nil {
			g.s[i] = w.strides[i]
		}
		if w.dilations != nil {
			g.d[i] = w.dilations[i]
		}
		dk := g.d[i]*(g.k[i]-1) + 1
		switch w.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			g.out[i] = (in[i] + g.s[i] - 1) / g.s[i]
			total := max(0, (g.out[i]-1)*g.s[i]+dk-in[i])
			if w.autoPad == "SAME_UPPER" {
				g.pb[i] = total / 2
			} else {
				g.pb[i] = total - total/2
			}
			g.pe[i] = total - g.pb[i]
			continue
		case "VALID":
		default:
			if w.pads != nil {
				g.pb[i], g.pe[i] = w.pads[i], w.pads[r+i]
			}
		}
		span := in[i] + g.pb[i] + g.pe[i] - dk
		if span < 0 {
			return geom{}, fmt.Errorf("window %d (dilated) is larger than the padded input %d in dimension %d",
				dk, in[i]+g.pb[i]+g.pe[i], i)
		}
		if w.ceil {
			g.out[i] = (span+g.s[i]-1)/g.s[i] + 1
			if (g.out[i]-1)*g.s[i] >= in[i]+g.pb[i] {
				g.out[i]--
			}
		} else {
			g.out[i] = span/g.s[i] + 1
		}
	}
	return g, nil
}

// symmetric reports whether every dimension has equal pads at both ends.
func (g geom) symmetric() bool {
	for i := range g.pb {
		if g.pb[i] != g.pe[i] {
			return false
		}
	}
	return true
}

// outShape returns [n, c, out...].
func (g geom) outShape(n, c int) []int {
	s := make([]int, 0, 2+len(g.out))
	return append(append(s, n, c), g.out...)
}
