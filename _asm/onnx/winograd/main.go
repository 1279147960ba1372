// Command winograd generates winograd_amd64.s, the AVX2+FMA transforms of
// package onnx's Winograd convolution F(4×4, 3×3) (nn_winograd.go), and
// winograd_amd64_stubs.go, their Go prototypes, with avo. Each transform
// works on 8 channels at once, one per vector lane, so it needs no
// shuffles until the output's stores.
//
// Run it through go generate in the onnx package (see
// nn_winograd_amd64.go). The output is committed; nobody edits it by hand.
package main

import (
	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// consts holds 4, 5, 2, 8 (float32).
var consts Mem

func main() {
	avoutil.Start()
	consts = GLOBL("winoConsts", RODATA|NOPTR)
	for i, v := range []float32{4, 5, 2, 8} {
		DATA(4*i, F32(v))
	}
	pack()
	input()
	output()
	Generate()
}

// in1D emits t = Bᵀ d for F(4×4, 3×3) on vectors (d unchanged; four, five,
// two hold the constants; tmp is clobbered):
//
//	t0 = 4d0 − 5d2 + d4        t1 = (d3 + d4) − 4(d1 + d2)
//	t2 = (d4 − d3) + 4(d1 − d2) t3 = (d4 − d2) + 2(d3 − d1)
//	t4 = (d4 − d2) − 2(d3 − d1) t5 = 4d1 − 5d3 + d5
func in1D(d, t [6]VecPhysical, tmp, four, five, two VecPhysical) {
	VMOVAPS(d[4], t[0])
	VFMADD231PS(d[0], four, t[0])
	VFNMADD231PS(d[2], five, t[0])
	VMOVAPS(d[5], t[5])
	VFMADD231PS(d[1], four, t[5])
	VFNMADD231PS(d[3], five, t[5])
	VADDPS(d[3], d[4], t[1])
	VADDPS(d[1], d[2], tmp)
	VFNMADD231PS(tmp, four, t[1])
	VSUBPS(d[3], d[4], t[2])
	VSUBPS(d[2], d[1], tmp)
	VFMADD231PS(tmp, four, t[2])
	VSUBPS(d[2], d[4], t[3])
	VSUBPS(d[1], d[3], tmp)
	VMOVAPS(t[3], t[4])
	VFMADD231PS(tmp, two, t[3])
	VFNMADD231PS(tmp, two, t[4])
}

// input emits winoInAVX2(v, x, tmp *float32, xrs, vs int):
//
//	for each lane (channel) l of 8, with d[i][j] = x[(i*xrs + j)*8 + l]
//	(a 6×6 window of an image stored with its 8 channels interleaved,
//	rows xrs pixels apart):
//		V = Bᵀ d B; v[(i*6 + j)*vs + l] = V[i][j]
//
// tmp holds 36·8 floats of working space.
func input() {
	avoutil.TEXT("winoInAVX2", "func(v, x, tmp *float32, xrs, vs int)")
	Doc("winoInAVX2 is Winograd's input transform of 8 channels of one tile (see nn_winograd_amd64.go).")
	d := [6]VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5}
	t := [6]VecPhysical{Y6, Y7, Y8, Y9, Y10, Y11}
	tmp, four, five, two := Y12, Y13, Y14, Y15
	v, x, w, rs, vs, s6, s18, p, q := RAX, RBX, RCX, RDX, RSI, RDI, R8, R9, R10
	VBROADCASTSS(consts, four)
	VBROADCASTSS(consts.Offset(4), five)
	VBROADCASTSS(consts.Offset(8), two)
	Load(Param("v"), v)
	Load(Param("x"), x)
	Load(Param("tmp"), w)
	Load(Param("xrs"), rs)
	SHLQ(U8(5), rs) // bytes per row: 8 floats a pixel
	Load(Param("vs"), vs)
	SHLQ(U8(2), vs)
	// d B, row by row, into tmp.
	for i := range 6 {
		for j := range 6 {
			VMOVUPS(Mem{Base: x, Disp: 32 * j}, d[j])
		}
		in1D(d, t, tmp, four, five, two)
		for j := range 6 {
			VMOVUPS(t[j], Mem{Base: w, Disp: 32 * (i*6 + j)})
		}
		if i < 5 {
			ADDQ(rs, x)
		}
	}
	// Bᵀ (d B), column by column, stored at v + (i*6 + j)·vs.
	LEAQ(Mem{Base: vs, Index: vs, Scale: 2}, s6) // 3vs
	ADDQ(s6, s6)                                 // 6vs
	LEAQ(Mem{Base: s6, Index: s6, Scale: 2}, s18)
	MOVQ(v, p)
	for j := range 6 {
		for i := range 6 {
			VMOVUPS(Mem{Base: w, Disp: 32 * (i*6 + j)}, d[i])
		}
		in1D(d, t, tmp, four, five, two)
		LEAQ(Mem{Base: p, Index: s18, Scale: 1}, q)
		VMOVUPS(t[0], Mem{Base: p})
		VMOVUPS(t[1], Mem{Base: p, Index: s6, Scale: 1})
		VMOVUPS(t[2], Mem{Base: p, Index: s6, Scale: 2})
		VMOVUPS(t[3], Mem{Base: q})
		VMOVUPS(t[4], Mem{Base: q, Index: s6, Scale: 1})
		VMOVUPS(t[5], Mem{Base: q, Index: s6, Scale: 2})
		if j < 5 {
			ADDQ(vs, p)
		}
	}
	VZEROUPPER()
	RET()
}

// out1D emits o = Aᵀ m for F(4×4, 3×3) on vectors (m clobbered):
//
//	o0 = m0 + (m1 + m2) + (m3 + m4)   o1 = (m1 − m2) + 2(m3 − m4)
//	o2 = (m1 + m2) + 4(m3 + m4)       o3 = (m1 − m2) + 8(m3 − m4) + m5
func out1D(m [6]VecPhysical, o [4]VecPhysical, four, two, eight VecPhysical) {
	a12, s12, a34, s34 := o[2], o[3], m[3], m[0]
	VADDPS(m[1], m[2], a12)
	VSUBPS(m[2], m[1], s12)
	VADDPS(a12, m[0], o[0])
	VSUBPS(m[4], m[3], s34) // m0 is free now
	VADDPS(m[4], m[3], a34)
	VADDPS(a34, o[0], o[0])
	VMOVAPS(s12, o[1])
	VFMADD231PS(s34, two, o[1])
	VFMADD231PS(a34, four, o[2]) // a12 + 4a34
	VFMADD231PS(s34, eight, o[3])
	VADDPS(m[5], o[3], o[3])
}

// output emits winoOutAVX2(y, m, tmp, res, p *float32, ms, ow, ohw int):
//
//	for each lane (output channel) l of 8, with s[i][j] = m[(i*6 + j)*ms + l]:
//		Y = Aᵀ s A + p[l]
//		for i, j < 4: y[l*ohw + i*ow + j] = min(max(Y[i][j] + r, p[8]), p[9])
//		(r = res[l*ohw + i*ow + j], or 0 where res is nil)
//
// tmp holds 40·8 floats of working space. The stores transpose 4×8 blocks
// in registers: row i of the tile is 4 vectors over the channels, stored as
// 8 rows of 4 outputs, one into each channel's plane.
func output() {
	avoutil.TEXT("winoOutAVX2", "func(y, m, tmp, res, p *float32, ms, ow, ohw int)")
	Doc("winoOutAVX2 is Winograd's output transform of 8 channels of one tile, with bias, residual and clamp (see nn_winograd_amd64.go).")
	mv := [6]VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5}
	o := [4]VecPhysical{Y6, Y7, Y8, Y9}
	bias, four, two, eight, lo, hi := Y10, Y11, Y12, Y13, Y14, Y15
	m, w, ms, ms3, p, q, pp := RAX, RBX, RCX, RDX, RSI, RDI, R8
	VBROADCASTSS(consts, four)
	VBROADCASTSS(consts.Offset(8), two)
	VBROADCASTSS(consts.Offset(12), eight)
	Load(Param("p"), pp)
	VMOVUPS(Mem{Base: pp}, bias)
	VBROADCASTSS(Mem{Base: pp, Disp: 32}, lo)
	VBROADCASTSS(Mem{Base: pp, Disp: 36}, hi)
	Load(Param("m"), m)
	Load(Param("tmp"), w)
	Load(Param("ms"), ms)
	SHLQ(U8(2), ms)
	LEAQ(Mem{Base: ms, Index: ms, Scale: 2}, ms3)
	// s A, row by row (row i starts at m + 6i·ms), into tmp[i*4 + j].
	MOVQ(m, p)
	for i := range 6 {
		LEAQ(Mem{Base: p, Index: ms3, Scale: 1}, q)
		VMOVUPS(Mem{Base: p}, mv[0])
		VMOVUPS(Mem{Base: p, Index: ms, Scale: 1}, mv[1])
		VMOVUPS(Mem{Base: p, Index: ms, Scale: 2}, mv[2])
		VMOVUPS(Mem{Base: q}, mv[3])
		VMOVUPS(Mem{Base: q, Index: ms, Scale: 1}, mv[4])
		VMOVUPS(Mem{Base: q, Index: ms, Scale: 2}, mv[5])
		out1D(mv, o, four, two, eight)
		for j := range 4 {
			VMOVUPS(o[j], Mem{Base: w, Disp: 32 * (i*4 + j)})
		}
		if i < 5 {
			LEAQ(Mem{Base: q, Index: ms3, Scale: 1}, p)
		}
	}
	// Aᵀ (s A) + bias, column by column, into tmp[24 + i*4 + j].
	for j := range 4 {
		for i := range 6 {
			VMOVUPS(Mem{Base: w, Disp: 32 * (i*4 + j)}, mv[i])
		}
		out1D(mv, o, four, two, eight)
		for i := range 4 {
			VADDPS(bias, o[i], o[i])
			VMOVUPS(o[i], Mem{Base: w, Disp: 32 * (24 + i*4 + j)})
		}
	}
	// Row i: transpose, add the residual, clamp, store.
	yp, yp4, pl, pl3, row, rp, rp4 := RAX, RCX, RDX, RSI, RDI, R8, R9
	Load(Param("y"), yp)
	Load(Param("ohw"), pl)
	SHLQ(U8(2), pl)
	LEAQ(Mem{Base: pl, Index: pl, Scale: 2}, pl3)
	LEAQ(Mem{Base: yp, Index: pl, Scale: 4}, yp4)
	Load(Param("ow"), row)
	SHLQ(U8(2), row)
	Load(Param("res"), rp)
	LEAQ(Mem{Base: rp, Index: pl, Scale: 4}, rp4)
	a := [4]VecPhysical{Y0, Y1, Y2, Y3}
	t := [4]VecPhysical{Y4, Y5, Y6, Y7}
	u := [4]VecPhysical{Y8, Y9, Y10, Y11}
	dst := func(base, base4 GPPhysical, ch int) Mem {
		b := base
		if ch >= 4 {
			b = base4
		}
		switch ch % 4 {
		case 1:
			return Mem{Base: b, Index: pl, Scale: 1}
		case 2:
			return Mem{Base: b, Index: pl, Scale: 2}
		case 3:
			return Mem{Base: b, Index: pl3, Scale: 1}
		}
		return Mem{Base: b}
	}
	rows := func(withRes bool) {
		for i := range 4 {
			for j := range 4 {
				VMOVUPS(Mem{Base: w, Disp: 32 * (24 + i*4 + j)}, a[j])
			}
			VUNPCKLPS(a[1], a[0], t[0])
			VUNPCKHPS(a[1], a[0], t[1])
			VUNPCKLPS(a[3], a[2], t[2])
			VUNPCKHPS(a[3], a[2], t[3])
			VSHUFPS(U8(0x44), t[2], t[0], u[0])
			VSHUFPS(U8(0xee), t[2], t[0], u[1])
			VSHUFPS(U8(0x44), t[3], t[1], u[2])
			VSHUFPS(U8(0xee), t[3], t[1], u[3])
			for c := range 4 {
				// u[c]: channel c's row in the low half, c+4's in the high.
				if withRes {
					VMOVUPS(dst(rp, rp4, c), t[c].AsX())
					VINSERTF128(U8(1), dst(rp, rp4, c+4), t[c], t[c])
					VADDPS(t[c], u[c], u[c])
				}
				VMAXPS(u[c], lo, u[c])
				VMINPS(u[c], hi, u[c])
				VMOVUPS(u[c].AsX(), dst(yp, yp4, c))
				VEXTRACTF128(U8(1), u[c], dst(yp, yp4, c+4))
			}
			if i < 3 {
				ADDQ(row, yp)
				ADDQ(row, yp4)
				if withRes {
					ADDQ(row, rp)
					ADDQ(row, rp4)
				}
			}
		}
	}
	TESTQ(rp, rp)
	JZ(LabelRef("winoOut_nores"))
	rows(true)
	VZEROUPPER()
	RET()
	Label("winoOut_nores")
	rows(false)
	VZEROUPPER()
	RET()
}

// pack emits winoPackAVX2(d, x *float32, hw, n int):
//
//	for q < n (a multiple of 8), for l < 8: d[q*8 + l] = x[l*hw + q]
//
// 8 channels' rows (hw floats apart) interleaved, in 8×8 transposes.
func pack() {
	avoutil.TEXT("winoPackAVX2", "func(d, x *float32, hw, n int)")
	Doc("winoPackAVX2 interleaves 8 channels' rows (see nn_winograd_amd64.go).")
	d, x, hw, hw3, n, x4 := RAX, RBX, RCX, RDX, RSI, RDI
	Load(Param("d"), d)
	Load(Param("x"), x)
	Load(Param("hw"), hw)
	SHLQ(U8(2), hw)
	LEAQ(Mem{Base: hw, Index: hw, Scale: 2}, hw3)
	Load(Param("n"), n)
	r := [8]VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	t := [8]VecPhysical{Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	Label("winoPack_loop")
	CMPQ(n, U8(8))
	JL(LabelRef("winoPack_done"))
	LEAQ(Mem{Base: x, Index: hw, Scale: 4}, x4)
	for l := range 8 {
		b := x
		if l >= 4 {
			b = x4
		}
		m := Mem{Base: b}
		switch l % 4 {
		case 1:
			m = Mem{Base: b, Index: hw, Scale: 1}
		case 2:
			m = Mem{Base: b, Index: hw, Scale: 2}
		case 3:
			m = Mem{Base: b, Index: hw3, Scale: 1}
		}
		VMOVUPS(m, r[l])
	}
	for h := 0; h < 8; h += 4 {
		VUNPCKLPS(r[h+1], r[h], t[h])
		VUNPCKHPS(r[h+1], r[h], t[h+1])
		VUNPCKLPS(r[h+3], r[h+2], t[h+2])
		VUNPCKHPS(r[h+3], r[h+2], t[h+3])
		// r[h+q]: column q of rows h..h+3 (low half), column q+4 (high).
		VSHUFPS(U8(0x44), t[h+2], t[h], r[h])
		VSHUFPS(U8(0xee), t[h+2], t[h], r[h+1])
		VSHUFPS(U8(0x44), t[h+3], t[h+1], r[h+2])
		VSHUFPS(U8(0xee), t[h+3], t[h+1], r[h+3])
	}
	for q := range 4 {
		VPERM2F128(U8(0x20), r[q+4], r[q], t[q])
		VPERM2F128(U8(0x31), r[q+4], r[q], t[q+4])
	}
	for q := range 8 {
		VMOVUPS(t[q], Mem{Base: d, Disp: 32 * q})
	}
	ADDQ(U32(256), d)
	ADDQ(U8(32), x)
	SUBQ(U8(8), n)
	JMP(LabelRef("winoPack_loop"))
	Label("winoPack_done")
	VZEROUPPER()
	RET()
}
