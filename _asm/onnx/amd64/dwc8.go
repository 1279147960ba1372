package main

import (
	"fmt"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The depthwise convolution over channels in blocks of eight: a block's
// planes are interleaved (pixel-major, the block's eight channels in one
// vector) so that one output vector is eight channels of one pixel and
// every tap one vector load, whatever the plane's width or the stride.

// dwC8 emits dwC8s<sw>AVX2(y, p, w *float32, oh, ow, xs, pitch int):
//
//	for r := range oh {
//		for q := range ow {
//			for c := range 8 {
//				s := w[72+c]
//				for kh := range 3 {
//					for kw := range 3 {
//						s += w[8*(3*kh+kw)+c] * p[r*xs+kh*pitch+8*(q*sw+kw)+c]
//					}
//				}
//				y[8*(r*ow+q)+c] = min(max(s, w[80+c]), w[88+c])
//			}
//		}
//	}
//
// a 3×3 window at column stride sw (1 or 2) over an interleaved padded
// plane p (rows pitch floats apart, output rows xs apart), into the
// interleaved output y. The nine weight vectors stay in registers; six
// outputs a step, each one chain of nine FMAs with the input as the
// memory operand.
func dwC8(sw int) {
	name := fmt.Sprintf("dwC8s%dAVX2", sw)
	avoutil.TEXT(name, "func(y, p, w *float32, oh, ow, xs, pitch int)")
	Doc(name + " is a 3×3 depthwise convolution of eight interleaved channels (see nn_dwc8.go).")
	wr := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8}
	acc := []VecPhysical{Y9, Y10, Y11, Y12, Y13, Y14}
	tmp := Y15
	pr, yr, rows, w, pitch := RAX, RBX, RCX, RDX, RSI
	r0, r1, r2, yp, n := R8, R9, R10, R11, R12
	Load(Param("w"), w)
	for i, r := range wr {
		VMOVUPS(Mem{Base: w, Disp: 32 * i}, r)
	}
	Load(Param("p"), pr)
	Load(Param("y"), yr)
	Load(Param("oh"), rows)
	Load(Param("pitch"), pitch)
	SHLQ(U8(2), pitch)

	block := func(nb int) {
		for i := range nb {
			VMOVUPS(Mem{Base: w, Disp: 32 * 9}, acc[i])
		}
		rp := []GPPhysical{r0, r1, r2}
		for kh := range 3 {
			for kw := range 3 {
				for i := range nb {
					VFMADD231PS(Mem{Base: rp[kh], Disp: 32 * (i*sw + kw)}, wr[3*kh+kw], acc[i])
				}
			}
		}
		VMOVUPS(Mem{Base: w, Disp: 32 * 10}, tmp)
		for i := range nb {
			VMAXPS(acc[i], tmp, acc[i])
		}
		VMOVUPS(Mem{Base: w, Disp: 32 * 11}, tmp)
		for i := range nb {
			VMINPS(acc[i], tmp, acc[i])
			VMOVUPS(acc[i], Mem{Base: yp, Disp: 32 * i})
		}
		for _, p := range rp {
			ADDQ(U32(32*nb*sw), p)
		}
		ADDQ(U32(32*nb), yp)
		SUBQ(U8(nb), n)
	}

	rowLoop(name, pr, yr, yp, rows, n, func() {
		MOVQ(pr, r0)
		LEAQ(Mem{Base: pr, Index: pitch, Scale: 1}, r1)
		LEAQ(Mem{Base: pr, Index: pitch, Scale: 2}, r2)
	}, block)
}

// rowLoop emits the kernels' loop over output rows: start (the row's
// input pointers from pr), then six outputs a step, three, one (block
// advances yp and counts n down), then the next row xs floats on.
func rowLoop(name string, pr, yr, yp, rows, n GPPhysical, start func(), block func(nb int)) {
	Label(name + "_row")
	TESTQ(rows, rows)
	JZ(LabelRef(name + "_done"))
	start()
	MOVQ(yr, yp)
	Load(Param("ow"), n)
	for _, nb := range []int{6, 3, 1} {
		l := fmt.Sprintf("%s_%d", name, nb)
		Label(l)
		CMPQ(n, U8(nb))
		JL(LabelRef(l + "_end"))
		block(nb)
		JMP(LabelRef(l))
		Label(l + "_end")
	}
	MOVQ(yp, yr)
	Load(Param("xs"), n)
	LEAQ(Mem{Base: pr, Index: n, Scale: 4}, pr)
	DECQ(rows)
	JMP(LabelRef(name + "_row"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// transpose8 transposes the 8×8 block in r (row i in r[i]) into r, using
// t as scratch: afterwards r[j] holds column j.
func transpose8(r, t []VecPhysical) {
	for i := 0; i < 8; i += 2 {
		VUNPCKLPS(r[i+1], r[i], t[i])
		VUNPCKHPS(r[i+1], r[i], t[i+1])
	}
	// t[0] = a0 b0 a1 b1 | a4 b4 a5 b5, t[1] = a2 b2 a3 b3 | a6 b6 a7 b7,
	// t[2], t[3] the same of c, d; t[4..7] of e..h.
	for h := 0; h < 8; h += 4 {
		VSHUFPS(U8(0x44), t[h+2], t[h], r[h])     // a0 b0 c0 d0 | a4 b4 c4 d4
		VSHUFPS(U8(0xEE), t[h+2], t[h], r[h+1])   // a1 b1 c1 d1 | a5 …
		VSHUFPS(U8(0x44), t[h+3], t[h+1], r[h+2]) // a2 … | a6 …
		VSHUFPS(U8(0xEE), t[h+3], t[h+1], r[h+3]) // a3 … | a7 …
	}
	for j := range 4 {
		VPERM2F128(U8(0x20), r[4+j], r[j], t[j])
		VPERM2F128(U8(0x31), r[4+j], r[j], t[4+j])
	}
	for j := range 8 {
		VMOVAPS(t[j], r[j])
	}
}

// rows8 returns the address of row i < 8 of a block whose rows are st
// bytes apart (st3 = 3·st): base for rows 0–3, base4 (= base + 4·st) for
// rows 4–7.
func rows8(base, base4, st, st3 GPPhysical) func(i int) Mem {
	return func(i int) Mem {
		b := base
		if i >= 4 {
			b = base4
		}
		switch i % 4 {
		case 0:
			return Mem{Base: b}
		case 1:
			return Mem{Base: b, Index: st, Scale: 1}
		case 2:
			return Mem{Base: b, Index: st, Scale: 2}
		}
		return Mem{Base: b, Index: st3, Scale: 1}
	}
}

// pack8 emits pack8AVX2(dst, src *float32, n, stride int):
//
//	for i := range n {
//		for c := range 8 {
//			dst[8*i+c] = src[c*stride+i]
//		}
//	}
//
// eight rows of src (stride apart) interleaved into dst, eight columns a
// step by an 8×8 transpose; the last n mod 8 by masked loads (nothing
// past a row's n is read) and as many stores.
func pack8() {
	avoutil.TEXT("pack8AVX2", "func(dst, src *float32, n, stride int)")
	Doc("pack8AVX2 interleaves eight rows of src into dst (see nn_dwc8.go).")
	r := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	t := []VecPhysical{Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	dst, src, n, st, st3, s4, k := RAX, RBX, RCX, RDX, RSI, RDI, R8
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("n"), n)
	Load(Param("stride"), st)
	SHLQ(U8(2), st)
	LEAQ(Mem{Base: st, Index: st, Scale: 2}, st3)
	rowAddr := rows8(src, s4, st, st3)
	Label("pack8_loop")
	CMPQ(n, U8(8))
	JL(LabelRef("pack8_tail"))
	LEAQ(Mem{Base: src, Index: st, Scale: 4}, s4)
	for i := range 8 {
		VMOVUPS(rowAddr(i), r[i])
	}
	transpose8(r, t)
	for j := range 8 {
		VMOVUPS(r[j], Mem{Base: dst, Disp: 32 * j})
	}
	ADDQ(U32(256), dst)
	ADDQ(U8(32), src)
	SUBQ(U8(8), n)
	JMP(LabelRef("pack8_loop"))

	Label("pack8_tail")
	TESTQ(n, n)
	JZ(LabelRef("pack8_done"))
	LEAQ(Mem{Base: src, Index: st, Scale: 4}, s4)
	LEAQ(mask.Offset(32), k)
	MOVQ(n, t0reg)
	SHLQ(U8(2), t0reg)
	SUBQ(t0reg, k)
	VMOVDQU(Mem{Base: k}, Y15)
	for i := range 8 {
		VMASKMOVPS(rowAddr(i), Y15, r[i])
	}
	transpose8(r, t)
	for j := range 8 {
		VMOVUPS(r[j], Mem{Base: dst, Disp: 32 * j})
		if j < 7 {
			CMPQ(n, U8(j+1))
			JE(LabelRef("pack8_done"))
		}
	}
	Label("pack8_done")
	VZEROUPPER()
	RET()
}

// t0reg is a scratch register pack8 and unpack8 leave free for the tail.
var t0reg = R9

// unpack8 emits unpack8AVX2(dst, src *float32, n, stride int):
//
//	for i := range n {
//		for c := range 8 {
//			dst[c*stride+i] = src[8*i+c]
//		}
//	}
//
// pack8's inverse: an interleaved block back to eight rows stride apart.
// The last n mod 8 columns load whole vectors (src must be readable to a
// multiple of 64 floats) and store masked.
func unpack8() {
	avoutil.TEXT("unpack8AVX2", "func(dst, src *float32, n, stride int)")
	Doc("unpack8AVX2 writes an interleaved block back to eight rows of dst (see nn_dwc8.go).")
	r := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	t := []VecPhysical{Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	dst, src, n, st, st3, d4, k := RAX, RBX, RCX, RDX, RSI, RDI, R8
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("n"), n)
	Load(Param("stride"), st)
	SHLQ(U8(2), st)
	LEAQ(Mem{Base: st, Index: st, Scale: 2}, st3)
	rowAddr := rows8(dst, d4, st, st3)
	Label("unpack8_loop")
	CMPQ(n, U8(8))
	JL(LabelRef("unpack8_tail"))
	LEAQ(Mem{Base: dst, Index: st, Scale: 4}, d4)
	for i := range 8 {
		VMOVUPS(Mem{Base: src, Disp: 32 * i}, r[i])
	}
	transpose8(r, t)
	for j := range 8 {
		VMOVUPS(r[j], rowAddr(j))
	}
	ADDQ(U32(256), src)
	ADDQ(U8(32), dst)
	SUBQ(U8(8), n)
	JMP(LabelRef("unpack8_loop"))

	Label("unpack8_tail")
	TESTQ(n, n)
	JZ(LabelRef("unpack8_done"))
	LEAQ(Mem{Base: dst, Index: st, Scale: 4}, d4)
	for i := range 8 {
		VMOVUPS(Mem{Base: src, Disp: 32 * i}, r[i])
	}
	transpose8(r, t)
	LEAQ(mask.Offset(32), k)
	MOVQ(n, t0reg)
	SHLQ(U8(2), t0reg)
	SUBQ(t0reg, k)
	VMOVDQU(Mem{Base: k}, Y15)
	for j := range 8 {
		VMASKMOVPS(r[j], Y15, rowAddr(j))
	}
	Label("unpack8_done")
	VZEROUPPER()
	RET()
}

// dwC8Taps emits dwC8Tapss<sw>AVX2(y, p, w *float32, offs *int, ntaps, oh, ow, xs int):
//
//	for r := range oh {
//		for q := range ow {
//			for c := range 8 {
//				s := w[8*ntaps+c]
//				for t := range ntaps {
//					s += w[8*t+c] * p[r*xs+offs[t]+8*q*sw+c]
//				}
//				y[8*(r*ow+q)+c] = min(max(s, w[8*ntaps+8+c]), w[8*ntaps+16+c])
//			}
//		}
//	}
//
// dwC8 for any window (5×5, dilated, …): the taps' weight vectors and
// offsets come from memory, one weight load a tap for six outputs.
func dwC8Taps(sw int) {
	name := fmt.Sprintf("dwC8Tapss%dAVX2", sw)
	avoutil.TEXT(name, "func(y, p, w *float32, offs *int, ntaps, oh, ow, xs int)")
	Doc(name + " is a depthwise convolution of eight interleaved channels with any window (see nn_dwc8.go).")
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5}
	wv, tmp := Y6, Y7
	pr, yr, rows, w, offs, ntaps := RAX, RBX, RCX, RDX, RSI, RDI
	xp, yp, n, t, wq, oq, off := R8, R9, R10, R11, R12, R13, R14
	Load(Param("w"), w)
	Load(Param("offs"), offs)
	Load(Param("ntaps"), ntaps)
	SHLQ(U8(5), ntaps) // bytes of weights: bias, lo and hi follow
	wb := func(v int) Mem { return Mem{Base: w, Index: ntaps, Scale: 1, Disp: 32 * v} }
	Load(Param("p"), pr)
	Load(Param("y"), yr)
	Load(Param("oh"), rows)

	block := func(nb int) {
		l := fmt.Sprintf("%s_taps%d", name, nb)
		for i := range nb {
			VMOVUPS(wb(0), acc[i])
		}
		MOVQ(w, wq)
		MOVQ(offs, oq)
		MOVQ(ntaps, t)
		Label(l)
		VMOVUPS(Mem{Base: wq}, wv)
		MOVQ(Mem{Base: oq}, off)
		for i := range nb {
			VFMADD231PS(Mem{Base: xp, Index: off, Scale: 4, Disp: 32 * i * sw}, wv, acc[i])
		}
		ADDQ(U8(32), wq)
		ADDQ(U8(8), oq)
		SUBQ(U8(32), t)
		JNZ(LabelRef(l))
		VMOVUPS(wb(1), tmp)
		for i := range nb {
			VMAXPS(acc[i], tmp, acc[i])
		}
		VMOVUPS(wb(2), tmp)
		for i := range nb {
			VMINPS(acc[i], tmp, acc[i])
			VMOVUPS(acc[i], Mem{Base: yp, Disp: 32 * i})
		}
		ADDQ(U32(32*nb*sw), xp)
		ADDQ(U32(32*nb), yp)
		SUBQ(U8(nb), n)
	}

	rowLoop(name, pr, yr, yp, rows, n, func() { MOVQ(pr, xp) }, block)
}
