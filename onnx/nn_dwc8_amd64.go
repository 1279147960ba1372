//go:build amd64 && gc && !purego

package onnx

// The blocked depthwise kernels (generated: _asm/onnx/amd64/dwc8.go), in
// Go:
//
//	dwC8s<sw>AVX2(y, p, w, oh, ow, xs, pitch):
//		for r < oh, q < ow, c < 8:
//			y[8(r·ow+q)+c] = min(max(w[72+c] + Σ_{kh,kw<3} w[8(3kh+kw)+c]·
//				p[r·xs + kh·pitch + 8(q·sw+kw) + c], w[80+c]), w[88+c])
//	dwC8Tapss<sw>AVX2(y, p, w, offs, ntaps, oh, ow, xs): the same for any
//		window: tap t < ntaps at offs[t] with weights w[8t+c], then bias,
//		lo and hi at w[8·ntaps+c], w[8·ntaps+8+c], w[8·ntaps+16+c]
//	pack8AVX2(dst, src, n, stride):   dst[8i+c] = src[c·stride+i], i < n, c < 8
//	unpack8AVX2(dst, src, n, stride): dst[c·stride+i] = src[8i+c]
//
// The callers in nn_dwc8.go check the bounds.

func dwC8Asm(o, p, wb []float32, oh, ow, xs, pitch, sw int) {
	if sw == 1 {
		dwC8s1AVX2(&o[0], &p[0], &wb[0], oh, ow, xs, pitch)
	} else {
		dwC8s2AVX2(&o[0], &p[0], &wb[0], oh, ow, xs, pitch)
	}
}

func dwC8TapsAsm(o, p, wb []float32, offs []int, oh, ow, xs, sw int) {
	if sw == 1 {
		dwC8Tapss1AVX2(&o[0], &p[0], &wb[0], &offs[0], len(offs), oh, ow, xs)
	} else {
		dwC8Tapss2AVX2(&o[0], &p[0], &wb[0], &offs[0], len(offs), oh, ow, xs)
	}
}

func pack8Asm(dst, src []float32, n, stride int)   { pack8AVX2(&dst[0], &src[0], n, stride) }
func unpack8Asm(dst, src []float32, n, stride int) { unpack8AVX2(&dst[0], &src[0], n, stride) }
