// Command amd64 generates kernels_amd64.s, the AVX2+FMA kernels of package
// onnx's convolutions (the depthwise convolution and the bias/residual/
// activation epilogue), and kernels_amd64_stubs.go, their Go prototypes,
// with avo.
//
// Run it through go generate in the onnx package (see kernels_amd64.go).
// The output is committed; nobody edits it by hand.
//
// Every clamp is max(v, lo) then min(·, hi) with v as the operand that
// VMAXPS/VMINPS return when either is NaN, so a NaN passes through as Go's
// min and max let it.
package main

import (
	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// mask is the tail-mask table: 8 int32 of −1, then 8 of 0. The 32 bytes at
// mask+32−4r are a VMASKMOVPS mask whose first r lanes are selected.
var mask Mem

func maskTable() {
	mask = GLOBL("dwMask", RODATA|NOPTR)
	for i := range 16 {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
}

func main() {
	avoutil.Start()
	maskTable()
	dw3x3()
	dwTaps()
	convDirect()
	deint()
	for _, sw := range []int{1, 2} {
		dwC8(sw)
		dwC8Taps(sw)
	}
	pack8()
	unpack8()
	for _, op := range []arith{{"add", VADDPS}, {"sub", VSUBPS}, {"mul", VMULPS}, {"div", VDIVPS}} {
		vv(op)
	}
	for _, res := range []bool{false, true} {
		for _, kind := range []int{epiClamp, epiLeaky, epiHardSwish} {
			epilogue(res, kind)
		}
	}
	conv1x1()
	Generate()
}

// clampStore clamps acc to [lo, hi] and stores it at dst.
func clamp(acc, lo, hi VecPhysical) {
	VMAXPS(acc, lo, acc)
	VMINPS(acc, hi, acc)
}

// tailStore stores the first n (1..7, in register n) lanes of acc at dst,
// using tmp for the mask and t for its address.
func tailStore(acc VecPhysical, dst Mem, n, t GPPhysical, tmp VecPhysical) {
	LEAQ(mask.Offset(32), t)
	SHLQ(U8(2), n)
	SUBQ(n, t)
	VMOVDQU(Mem{Base: t}, tmp)
	VMASKMOVPS(acc, tmp, dst)
}

// dw3x3 emits dw3x3AVX2(y, x, w *float32, oh, ow, ys, xs, pw, offB, offC int):
//
//	for r := range oh {
//		for q := range ow {
//			a := x[r*xs+q:]
//			s := w[9]
//			for kh := range 3 {
//				s += w[3*kh]*a[kh*pw] + w[3*kh+1]*a[kh*pw+offB] + w[3*kh+2]*a[kh*pw+offC]
//			}
//			y[r*ys+q] = min(max(s, w[10]), w[11])
//		}
//	}
//
// A 3×3 window over a padded plane of rows pw apart whose columns are
// stored so that a window's three columns are at 0, offB and offC from its
// start (1 and 2 for stride 1; a row split into its even and odd columns
// for stride 2). The nine weights stay in registers; each output vector
// sums its taps in two chains. x must be readable 7 floats past the last
// tap of each row (the tail's loads are not masked; its store is).
func dw3x3() {
	avoutil.TEXT("dw3x3AVX2", "func(y, x, w *float32, oh, ow, ys, xs, pw, offB, offC int)")
	Doc("dw3x3AVX2 is a 3×3 depthwise convolution of one channel (see kernels_amd64.go).")
	wr := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8}
	bias, lo, hi := Y9, Y10, Y11
	xr, yr, rows, pw4, offB, offC := RAX, RBX, RCX, RDX, RSI, RDI
	cA, cB, cC, yp, n, t := R8, R9, R10, R11, R12, R13
	Load(Param("w"), t)
	for i, r := range wr {
		VBROADCASTSS(Mem{Base: t, Disp: 4 * i}, r)
	}
	VBROADCASTSS(Mem{Base: t, Disp: 36}, bias)
	VBROADCASTSS(Mem{Base: t, Disp: 40}, lo)
	VBROADCASTSS(Mem{Base: t, Disp: 44}, hi)
	Load(Param("x"), xr)
	Load(Param("y"), yr)
	Load(Param("oh"), rows)
	Load(Param("pw"), pw4)
	SHLQ(U8(2), pw4)
	Load(Param("offB"), offB)
	SHLQ(U8(2), offB)
	Load(Param("offC"), offC)
	SHLQ(U8(2), offC)

	block := func(d int, a, b VecPhysical) {
		cols := []GPPhysical{cA, cB, cC}
		VMOVAPS(bias, a)
		acc := []VecPhysical{b, a}
		for k := range 9 {
			kh, kw := k/3, k%3
			m := Mem{Base: cols[kw], Disp: d}
			if kh > 0 {
				m = Mem{Base: cols[kw], Index: pw4, Scale: uint8(kh), Disp: d}
			}
			if k == 0 {
				VMULPS(m, wr[k], b)
				continue
			}
			VFMADD231PS(m, wr[k], acc[k%2])
		}
		VADDPS(b, a, a)
		clamp(a, lo, hi)
	}

	Label("dw3_row")
	TESTQ(rows, rows)
	JZ(LabelRef("dw3_done"))
	MOVQ(xr, cA)
	LEAQ(Mem{Base: xr, Index: offB, Scale: 1}, cB)
	LEAQ(Mem{Base: xr, Index: offC, Scale: 1}, cC)
	MOVQ(yr, yp)
	Load(Param("ow"), n)

	Label("dw3_16")
	CMPQ(n, U8(16))
	JL(LabelRef("dw3_8"))
	block(0, Y12, Y13)
	block(32, Y14, Y15)
	VMOVUPS(Y12, Mem{Base: yp})
	VMOVUPS(Y14, Mem{Base: yp, Disp: 32})
	for _, p := range []GPPhysical{cA, cB, cC, yp} {
		ADDQ(U8(64), p)
	}
	SUBQ(U8(16), n)
	JMP(LabelRef("dw3_16"))

	Label("dw3_8")
	CMPQ(n, U8(8))
	JL(LabelRef("dw3_tail"))
	block(0, Y12, Y13)
	VMOVUPS(Y12, Mem{Base: yp})
	for _, p := range []GPPhysical{cA, cB, cC, yp} {
		ADDQ(U8(32), p)
	}
	SUBQ(U8(8), n)

	Label("dw3_tail")
	TESTQ(n, n)
	JZ(LabelRef("dw3_next"))
	block(0, Y12, Y13)
	tailStore(Y12, Mem{Base: yp}, n, t, Y14)

	Label("dw3_next")
	Load(Param("xs"), n)
	LEAQ(Mem{Base: xr, Index: n, Scale: 4}, xr)
	Load(Param("ys"), n)
	LEAQ(Mem{Base: yr, Index: n, Scale: 4}, yr)
	DECQ(rows)
	JMP(LabelRef("dw3_row"))

	Label("dw3_done")
	VZEROUPPER()
	RET()
}

type arith struct {
	name string
	ins  func(...Op)
}

// vv emits <op>VVAVX2(d, a, b *float32, n int): d[i] = a[i] op b[i] for
// i < n, n a multiple of 8; four vectors a step.
func vv(op arith) {
	name := op.name + "VVAVX2"
	avoutil.TEXT(name, "func(d, a, b *float32, n int)")
	Doc(name + " is elementwise " + op.name + " of two float32 vectors (see kernels_amd64.go).")
	d, a, b, n := RAX, RBX, RCX, RDX
	Load(Param("d"), d)
	Load(Param("a"), a)
	Load(Param("b"), b)
	Load(Param("n"), n)
	regs := []VecPhysical{Y0, Y1, Y2, Y3}
	body := func(k int) {
		for i := range k {
			VMOVUPS(Mem{Base: a, Disp: 32 * i}, regs[i])
		}
		for i := range k {
			op.ins(Mem{Base: b, Disp: 32 * i}, regs[i], regs[i])
		}
		for i := range k {
			VMOVUPS(regs[i], Mem{Base: d, Disp: 32 * i})
		}
		for _, p := range []GPPhysical{d, a, b} {
			ADDQ(U32(32*k), p)
		}
		SUBQ(U8(8*k), n)
	}
	Label(name + "_32")
	CMPQ(n, U8(32))
	JL(LabelRef(name + "_8"))
	body(4)
	JMP(LabelRef(name + "_32"))
	Label(name + "_8")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	body(1)
	JMP(LabelRef(name + "_8"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// deint emits deintAVX2(a, b, x *float32, h int):
//
//	for i := range h {
//		a[i], b[i] = x[2*i], x[2*i+1]
//	}
//
// h a multiple of 8: a row split into its even and odd elements (the
// phases of a stride-2 depthwise plane), 16 elements a step: VSHUFPS picks
// the even (odd) elements of each 128-bit half of two vectors, VPERMPD
// puts the halves in order.
func deint() {
	avoutil.TEXT("deintAVX2", "func(a, b, x *float32, h int)")
	Doc("deintAVX2 splits x into its even elements (a) and odd ones (b) (see kernels_amd64.go).")
	a, b, x, h := RAX, RBX, RCX, RDX
	Load(Param("a"), a)
	Load(Param("b"), b)
	Load(Param("x"), x)
	Load(Param("h"), h)
	Label("deint_loop")
	TESTQ(h, h)
	JZ(LabelRef("deint_done"))
	VMOVUPS(Mem{Base: x}, Y0)
	VMOVUPS(Mem{Base: x, Disp: 32}, Y1)
	VSHUFPS(U8(0x88), Y1, Y0, Y2)
	VSHUFPS(U8(0xDD), Y1, Y0, Y3)
	VPERMPD(U8(0xD8), Y2, Y2)
	VPERMPD(U8(0xD8), Y3, Y3)
	VMOVUPS(Y2, Mem{Base: a})
	VMOVUPS(Y3, Mem{Base: b})
	ADDQ(U8(64), x)
	ADDQ(U8(32), a)
	ADDQ(U8(32), b)
	SUBQ(U8(8), h)
	JMP(LabelRef("deint_loop"))
	Label("deint_done")
	VZEROUPPER()
	RET()
}

// dwTaps emits dwTapsAVX2(y, x, w *float32, offs *int, ntaps, oh, ow, ys, xs int):
//
//	for r := range oh {
//		for q := range ow {
//			s := w[ntaps]
//			for t := range ntaps {
//				s += w[t] * x[r*xs+q+offs[t]]
//			}
//			y[r*ys+q] = min(max(s, w[ntaps+1]), w[ntaps+2])
//		}
//	}
//
// Any window: the taps' weights and offsets come from memory; 16 outputs
// a step, each vector summed in two chains. ntaps >= 1; x readable 7 floats past each row's last tap.
func dwTaps() {
	avoutil.TEXT("dwTapsAVX2", "func(y, x, w *float32, offs *int, ntaps, oh, ow, ys, xs int)")
	Doc("dwTapsAVX2 is a depthwise convolution of one channel with any window (see kernels_amd64.go).")
	bias, lo, hi := Y9, Y10, Y11
	xr, yr, rows, w, offs, ntaps := RAX, RBX, RCX, RDX, RSI, RDI
	xp, yp, n, t, wq, oq, off := R8, R9, R10, R11, R12, R13, R14
	Load(Param("w"), w)
	Load(Param("offs"), offs)
	Load(Param("ntaps"), ntaps)
	VBROADCASTSS(Mem{Base: w, Index: ntaps, Scale: 4}, bias)
	VBROADCASTSS(Mem{Base: w, Index: ntaps, Scale: 4, Disp: 4}, lo)
	VBROADCASTSS(Mem{Base: w, Index: ntaps, Scale: 4, Disp: 8}, hi)
	Load(Param("x"), xr)
	Load(Param("y"), yr)
	Load(Param("oh"), rows)

	// block sums nb (1 or 2) vectors of outputs at xp into Y12 (and Y14),
	// each in two chains (even and odd taps).
	block := func(pfx string, nb int) {
		accs := [][2]VecPhysical{{Y12, Y13}, {Y14, Y15}}[:nb]
		for _, a := range accs {
			VMOVAPS(bias, a[0])
			VXORPS(a[1], a[1], a[1])
		}
		MOVQ(w, wq)
		MOVQ(offs, oq)
		MOVQ(ntaps, t)
		Label(pfx + "_pair")
		CMPQ(t, U8(2))
		JL(LabelRef(pfx + "_one"))
		for i := range 2 {
			VBROADCASTSS(Mem{Base: wq, Disp: 4 * i}, Y8)
			MOVQ(Mem{Base: oq, Disp: 8 * i}, off)
			for v, a := range accs {
				VFMADD231PS(Mem{Base: xp, Index: off, Scale: 4, Disp: 32 * v}, Y8, a[i])
			}
		}
		ADDQ(U8(8), wq)
		ADDQ(U8(16), oq)
		SUBQ(U8(2), t)
		JMP(LabelRef(pfx + "_pair"))
		Label(pfx + "_one")
		TESTQ(t, t)
		JZ(LabelRef(pfx + "_sum"))
		VBROADCASTSS(Mem{Base: wq}, Y8)
		MOVQ(Mem{Base: oq}, off)
		for v, a := range accs {
			VFMADD231PS(Mem{Base: xp, Index: off, Scale: 4, Disp: 32 * v}, Y8, a[0])
		}
		Label(pfx + "_sum")
		for _, a := range accs {
			VADDPS(a[1], a[0], a[0])
			clamp(a[0], lo, hi)
		}
	}

	Label("dwt_row")
	TESTQ(rows, rows)
	JZ(LabelRef("dwt_done"))
	MOVQ(xr, xp)
	MOVQ(yr, yp)
	Load(Param("ow"), n)

	Label("dwt_16")
	CMPQ(n, U8(16))
	JL(LabelRef("dwt_8"))
	block("dwt_a", 2)
	VMOVUPS(Y12, Mem{Base: yp})
	VMOVUPS(Y14, Mem{Base: yp, Disp: 32})
	ADDQ(U8(64), xp)
	ADDQ(U8(64), yp)
	SUBQ(U8(16), n)
	JMP(LabelRef("dwt_16"))

	Label("dwt_8")
	CMPQ(n, U8(8))
	JL(LabelRef("dwt_tail"))
	block("dwt_c", 1)
	VMOVUPS(Y12, Mem{Base: yp})
	ADDQ(U8(32), xp)
	ADDQ(U8(32), yp)
	SUBQ(U8(8), n)

	Label("dwt_tail")
	TESTQ(n, n)
	JZ(LabelRef("dwt_next"))
	block("dwt_b", 1)
	tailStore(Y12, Mem{Base: yp}, n, t, Y14)

	Label("dwt_next")
	Load(Param("xs"), n)
	LEAQ(Mem{Base: xr, Index: n, Scale: 4}, xr)
	Load(Param("ys"), n)
	LEAQ(Mem{Base: yr, Index: n, Scale: 4}, yr)
	DECQ(rows)
	JMP(LabelRef("dwt_row"))

	Label("dwt_done")
	VZEROUPPER()
	RET()
}

// The epilogue's activations.
const (
	epiClamp     = iota // min(max(v, p[1]), p[2])
	epiLeaky            // the clamp of max(v, 0) + p[3]·min(v, 0)
	epiHardSwish        // v·min(max(v + p[1], 0), p[2])/p[2] (p[1] = 3, p[2] = 6)
)

// epilogue emits epi[Res][Leaky|HardSwish]AVX2(y[, r] *float32, n int, p *float32):
//
//	for i := range n {
//		v := y[i] + p[0] // + r[i] (Res)
//		y[i] = act(v)    // as the kind above says
//	}
//
// n a multiple of 8: the bias, residual and activation of a convolution's
// output in one pass, four vectors a step.
func epilogue(res bool, kind int) {
	name := "epi"
	sig := "func(y *float32, n int, p *float32)"
	if res {
		name += "Res"
		sig = "func(y, r *float32, n int, p *float32)"
	}
	name += [...]string{"", "Leaky", "HardSwish"}[kind]
	name += "AVX2"
	avoutil.TEXT(name, sig)
	Doc(name + " is a convolution's epilogue: bias, residual, activation (see kernels_amd64.go).")
	b, lo, hi, al, zero := Y11, Y12, Y13, Y14, Y15
	y, r, n, p := RAX, RBX, RCX, RDX
	Load(Param("p"), p)
	VBROADCASTSS(Mem{Base: p}, b)
	VBROADCASTSS(Mem{Base: p, Disp: 4}, lo)
	VBROADCASTSS(Mem{Base: p, Disp: 8}, hi)
	if kind == epiLeaky {
		VBROADCASTSS(Mem{Base: p, Disp: 12}, al)
	}
	if kind != epiClamp {
		VXORPS(zero, zero, zero)
	}
	Load(Param("y"), y)
	if res {
		Load(Param("r"), r)
	}
	Load(Param("n"), n)
	acc := []VecPhysical{Y0, Y1, Y2, Y3}
	tmp := []VecPhysical{Y4, Y5, Y6, Y7}
	body := func(k int) {
		for i := range k {
			VADDPS(Mem{Base: y, Disp: 32 * i}, b, acc[i])
		}
		if res {
			for i := range k {
				VADDPS(Mem{Base: r, Disp: 32 * i}, acc[i], acc[i])
			}
		}
		switch kind {
		case epiLeaky:
			for i := range k {
				VMINPS(acc[i], zero, tmp[i])
				VMAXPS(acc[i], zero, acc[i])
				VFMADD231PS(tmp[i], al, acc[i])
			}
		case epiHardSwish:
			for i := range k {
				VADDPS(acc[i], lo, tmp[i])
				VMAXPS(tmp[i], zero, tmp[i])
				VMINPS(tmp[i], hi, tmp[i])
				VMULPS(tmp[i], acc[i], acc[i])
				VDIVPS(hi, acc[i], acc[i])
			}
		}
		for i := range k {
			if kind != epiHardSwish {
				clamp(acc[i], lo, hi)
			}
			VMOVUPS(acc[i], Mem{Base: y, Disp: 32 * i})
		}
		ADDQ(U32(32*k), y)
		if res {
			ADDQ(U32(32*k), r)
		}
		SUBQ(U8(8*k), n)
	}
	Label(name + "_32")
	CMPQ(n, U8(32))
	JL(LabelRef(name + "_8"))
	body(4)
	JMP(LabelRef(name + "_32"))
	Label(name + "_8")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	body(1)
	JMP(LabelRef(name + "_8"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
