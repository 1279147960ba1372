package onnx

import (
	"sync"

	"github.com/adjoint-go/adjoint/gemm"
)

// packedW is a Conv's constant weights, packed per group into GEMM's row
// panels (gemm.PackA) on the first run that multiplies them (by whichever
// of concurrent runs gets there first) and read by every run after. Each
// run then packs only the patches (or the image): MobileNetV2 spent about
// a tenth of its time repacking weights, once per column block of every
// 1×1 convolution.
type packedW struct {
	once sync.Once
	f32  []*gemm.PackedA[float32]
	f64  []*gemm.PackedA[float64]
	// For convShift: group gr's weights of window row t at gr·KH + t.
	shiftOnce sync.Once
	s32       []*gemm.PackedA[float32]
	s64       []*gemm.PackedA[float64]
	c1        c1x1Pack // the direct 1×1 kernels' panels (nn_conv1x1.go)
	dw        dwC8Pack // the blocked depthwise kernels' weights (nn_dwc8.go)
}

// markConstW gives every Conv whose W is a float constant a packedW (a
// last rewrite, after BatchNormalization is folded into W). Convolutions
// that never reach the GEMM (depthwise, direct) never pack.
func markConstW(g *Graph, order []*Node) []*Node {
	for _, n := range order {
		k, ok := n.kernel.(*convKernel)
		if !ok || n.OpType != "Conv" || n.Domain != "" {
			continue
		}
		if w := n.ConstInput(1); w != nil && w.Rank() >= 3 && (w.DType == Float || w.DType == Double) {
			k.pack = &packedW{}
		}
	}
	return order
}

// packGroups packs each group's mg×kc rows of w.
func packGroups[T float32 | float64](w []T, groups, mg, kc int) []*gemm.PackedA[T] {
	ps := make([]*gemm.PackedA[T], groups)
	for gr := range ps {
		ps[gr] = gemm.PackA(gemm.NoTrans, mg, kc, w[gr*mg*kc:(gr+1)*mg*kc], kc)
	}
	return ps
}

// convGemm computes y = W_g·b for group gr (mg×kc weights, n columns of b,
// beta 0): from the packed weights when the kernel has them, bitwise as
// the plain GEMM.
func convGemm[T real](k *convKernel, w []T, gr, mg, n, kc int, b []T, ldb int, y []T, ldc int) {
	if p := k.pack; p != nil && n > 0 {
		switch ws := any(w).(type) {
		case []float32:
			p.once.Do(func() { p.f32 = packGroups(ws, k.group, mg, kc) })
			gemm.GemmPackedA(gemm.NoTrans, mg, n, kc, 1, p.f32[gr], any(b).([]float32), ldb, 0, any(y).([]float32), ldc)
			return
		case []float64:
			p.once.Do(func() { p.f64 = packGroups(ws, k.group, mg, kc) })
			gemm.GemmPackedA(gemm.NoTrans, mg, n, kc, 1, p.f64[gr], any(b).([]float64), ldb, 0, any(y).([]float64), ldc)
			return
		}
	}
	gemmT(false, false, mg, n, kc, 1, w[gr*mg*kc:(gr+1)*mg*kc], kc, b, ldb, 0, y, ldc)
}

// convShift describes a KH×1 convolution at stride 1 without padding run
// as KH products reading the image in place: output column p (row-major
// over OH×W) of window row t reads column p + t·rowOff of each input
// channel, channels ld apart. kh is 0 when the convolution is not one.
type convShift struct {
	kh, rowOff, ld int
}

// convNoShift turns convShift off, for the tests that compare it with
// im2col.
var convNoShift = false

// packShift packs, per group and window row t, the mg×cg weights
// W[o, c, t] (gathered: they lie KH apart in W).
func packShift[T float32 | float64](w []T, groups, mg, cg, kh int) []*gemm.PackedA[T] {
	ps := make([]*gemm.PackedA[T], groups*kh)
	wt := make([]T, mg*cg)
	for gr := range groups {
		wg := w[gr*mg*cg*kh : (gr+1)*mg*cg*kh]
		for t := range kh {
			for i := range wt {
				wt[i] = wg[i*kh+t]
			}
			ps[gr*kh+t] = gemm.PackA(gemm.NoTrans, mg, cg, append([]T(nil), wt...), cg)
		}
	}
	return ps
}

// convGemmShift computes y = Σ_t W_g[:, :, t]·X_g(shifted t rows) for n
// output columns from b (the group's image from the first column) into y
// (row stride ldc), beta 0: KH products accumulating in y. Requires k.pack.
func convGemmShift[T real](k *convKernel, w []T, sh convShift, gr, mg, n, cg int, b, y []T, ldc int) {
	if n == 0 {
		return
	}
	p := k.pack
	for t := range sh.kh {
		beta := T(1)
		if t == 0 {
			beta = 0
		}
		bt := b[t*sh.rowOff:]
		switch ws := any(w).(type) {
		case []float32:
			p.shiftOnce.Do(func() { p.s32 = packShift(ws, k.group, mg, cg, sh.kh) })
			gemm.GemmPackedA(gemm.NoTrans, mg, n, cg, 1, p.s32[gr*sh.kh+t], any(bt).([]float32), sh.ld, float32(beta), any(y).([]float32), ldc)
		case []float64:
			p.shiftOnce.Do(func() { p.s64 = packShift(ws, k.group, mg, cg, sh.kh) })
			gemm.GemmPackedA(gemm.NoTrans, mg, n, cg, 1, p.s64[gr*sh.kh+t], any(bt).([]float64), sh.ld, float64(beta), any(y).([]float64), ldc)
		}
	}
}
