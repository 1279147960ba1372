package main

import (
	"fmt"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// conv1x1 emits the direct 1×1 convolution kernels, one per panel height
// mr (1..6 output channels) and with or without a residual:
//
//	c1x1R<mr>[Res]AVX2(y, x, w, b[, r] *float32, kc, n, ldx, xt, ldy int, lohi *float32):
//	for i := range mr {
//		for p := range n {
//			s := b[i]
//			for k := range kc {
//				s += w[k*mr+i] * x[p/16*xt+k*ldx+p%16]
//			}
//			s += r[i*ldy+p] // Res
//			y[i*ldy+p] = min(max(s, lohi[0]), lohi[1])
//		}
//	}
//
// except the last n%8 pixels: tb[8q+i] = Σ_k w[k*mr+i]·x[...+n−n%8+q],
// without bias, residual or clamp, for the caller to finish.
//
// w is the panel's weights interleaved (mr of them per k). x is the
// image in place (xt = 16) or packed in tiles of 16 pixels (ldx = 16,
// xt = 16·kc: c1x1Pack). A tile of mr
// channels × 16 pixels sums in 2·mr registers, started from the bias; the
// residual and the clamp are applied in registers before the one store.
// Pixel tails: a tile of 8, then 1..7 pixels into tb (x is never read
// past n; w is read up to 8−mr floats past its panel's end).
func conv1x1() {
	for mr := 1; mr <= 6; mr++ {
		for _, res := range []bool{false, true} {
			c1x1(mr, res)
		}
	}
	c1x1Pack()
}

func c1x1(mr int, res bool) {
	name := fmt.Sprintf("c1x1R%d", mr)
	sig := "func(y, x, w, b *float32, kc, n, ldx, xt, ldy int, lohi, tb *float32)"
	if res {
		name += "Res"
		sig = "func(y, x, w, b, r *float32, kc, n, ldx, xt, ldy int, lohi, tb *float32)"
	}
	name += "AVX2"
	avoutil.TEXT(name, sig)
	Doc(name + " is a 1×1 convolution of one panel of output channels with its bias, residual and clamp (see nn_conv1x1_amd64.go).")
	y, x, ld, ldx, n, kq := RAX, RBX, RCX, RDX, RSI, RDI
	xp, wp, y3, r, r3, t, xt := R8, R9, R10, R11, R12, R13, R14
	xv := []VecPhysical{Y12, Y13}
	bc := Y15
	lo, hi := Y12, Y13

	Load(Param("y"), y)
	Load(Param("x"), x)
	if res {
		Load(Param("r"), r)
	}
	Load(Param("n"), n)
	Load(Param("ldy"), ld)
	SHLQ(U8(2), ld)
	Load(Param("ldx"), ldx)
	SHLQ(U8(2), ldx)
	Load(Param("xt"), xt)
	SHLQ(U8(2), xt)

	// row is row i of the tile at base (rows 3..5 from base3 = base+3ld).
	row := func(base, base3 GPPhysical, i, disp int) Mem {
		switch {
		case i == 0:
			return Mem{Base: base, Disp: disp}
		case i < 3:
			return Mem{Base: base, Index: ld, Scale: uint8(i), Disp: disp}
		case i == 3:
			return Mem{Base: base3, Disp: disp}
		default:
			return Mem{Base: base3, Index: ld, Scale: uint8(i - 3), Disp: disp}
		}
	}

	// tile computes mr×(8·nv) outputs at x, y (and r).
	tile := func(pfx string, nv int) {
		acc := make([][]VecPhysical, mr)
		for i := range mr {
			for j := range nv {
				acc[i] = append(acc[i], []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}[i*nv+j])
			}
		}
		Load(Param("b"), t)
		for i := range mr {
			VBROADCASTSS(Mem{Base: t, Disp: 4 * i}, acc[i][0])
			for j := 1; j < nv; j++ {
				VMOVAPS(acc[i][0], acc[i][j])
			}
		}
		MOVQ(x, xp)
		Load(Param("w"), wp)
		Load(Param("kc"), kq)
		Label(pfx + "_k")
		for j := range nv {
			VMOVUPS(Mem{Base: xp, Disp: 32 * j}, xv[j])
		}
		for i := range mr {
			VBROADCASTSS(Mem{Base: wp, Disp: 4 * i}, bc)
			for j := range nv {
				VFMADD231PS(xv[j], bc, acc[i][j])
			}
		}
		ADDQ(ldx, xp)
		ADDQ(U8(4*mr), wp)
		DECQ(kq)
		JNZ(LabelRef(pfx + "_k"))

		if mr > 3 {
			LEAQ(Mem{Base: y, Index: ld, Scale: 2}, y3)
			ADDQ(ld, y3)
		}
		if res {
			if mr > 3 {
				LEAQ(Mem{Base: r, Index: ld, Scale: 2}, r3)
				ADDQ(ld, r3)
			}
			for i := range mr {
				for j := range nv {
					VADDPS(row(r, r3, i, 32*j), acc[i][j], acc[i][j])
				}
			}
		}
		Load(Param("lohi"), t)
		VBROADCASTSS(Mem{Base: t}, lo)
		VBROADCASTSS(Mem{Base: t, Disp: 4}, hi)
		for i := range mr {
			for j := range nv {
				clamp(acc[i][j], lo, hi)
				VMOVUPS(acc[i][j], row(y, y3, i, 32*j))
			}
		}
	}
	advance := func(bytes int) {
		if bytes == 64 {
			ADDQ(xt, x)
		} else {
			ADDQ(U8(bytes), x)
		}
		ADDQ(U8(bytes), y)
		if res {
			ADDQ(U8(bytes), r)
		}
	}

	Label(name + "_16")
	CMPQ(n, U8(16))
	JL(LabelRef(name + "_8"))
	tile(name+"_a", 2)
	advance(64)
	SUBQ(U8(16), n)
	JMP(LabelRef(name + "_16"))

	Label(name + "_8")
	CMPQ(n, U8(8))
	JL(LabelRef(name + "_tail"))
	tile(name+"_b", 1)
	advance(32)
	SUBQ(U8(8), n)

	// The last n%8 pixels, two at a time: each pixel's mr outputs in the
	// lanes of one vector (a row of w, 8 floats read), summed in four
	// chains, stored without bias to tb[8q:8q+mr] (c1x1Panel finishes
	// them): ⌈n/2⌉·kc cycles rather than the 4·kc of a masked tile, whose
	// mr accumulators wait on the FMA latency.
	ttile := func(pfx string, np int) {
		acc := [][]VecPhysical{{Y0, Y1, Y2, Y3}, {Y4, Y5, Y6, Y7}}[:np]
		wv, xb := Y8, []VecPhysical{Y9, Y10}
		for _, a := range acc {
			for _, v := range a {
				VXORPS(v, v, v)
			}
		}
		MOVQ(x, xp)
		Load(Param("w"), wp)
		Load(Param("kc"), kq)
		kstep := func(c int) {
			VMOVUPS(Mem{Base: wp}, wv)
			for q := range np {
				VBROADCASTSS(Mem{Base: xp, Disp: 4 * q}, xb[q])
				VFMADD231PS(xb[q], wv, acc[q][c])
			}
			ADDQ(ldx, xp)
			ADDQ(U8(4*mr), wp)
		}
		Label(pfx + "_k4")
		CMPQ(kq, U8(4))
		JL(LabelRef(pfx + "_k1"))
		for c := range 4 {
			kstep(c)
		}
		SUBQ(U8(4), kq)
		JMP(LabelRef(pfx + "_k4"))
		Label(pfx + "_k1")
		TESTQ(kq, kq)
		JZ(LabelRef(pfx + "_sum"))
		kstep(0)
		DECQ(kq)
		JMP(LabelRef(pfx + "_k1"))
		Label(pfx + "_sum")
		for q, a := range acc {
			VADDPS(a[1], a[0], a[0])
			VADDPS(a[3], a[2], a[2])
			VADDPS(a[2], a[0], a[0])
			VMOVUPS(a[0], Mem{Base: t, Disp: 32 * q})
		}
	}

	Label(name + "_tail")
	Load(Param("tb"), t)
	Label(name + "_t2")
	CMPQ(n, U8(2))
	JL(LabelRef(name + "_t1"))
	ttile(name+"_c", 2)
	ADDQ(U8(8), x)
	ADDQ(U8(64), t)
	SUBQ(U8(2), n)
	JMP(LabelRef(name + "_t2"))
	Label(name + "_t1")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	ttile(name+"_d", 1)

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// c1x1Pack emits c1x1PackAVX2(dst, x *float32, kc, nt, ldx int):
//
//	for t := range nt {
//		for k := range kc {
//			copy(dst[(t*kc+k)*16:][:16], x[k*ldx+16*t:][:16])
//		}
//	}
//
// The image's strip of nt·16 pixels in tiles of 16 pixels × kc channels,
// each contiguous, for the kernels above (xt = 16·kc).
func c1x1Pack() {
	avoutil.TEXT("c1x1PackAVX2", "func(dst, x *float32, kc, nt, ldx int)")
	Doc("c1x1PackAVX2 packs an image strip into tiles for c1x1R<mr>AVX2 (see nn_conv1x1_amd64.go).")
	d, x, kc, nt, ldx, xp, k := RAX, RBX, RCX, RDX, RSI, RDI, R8
	Load(Param("dst"), d)
	Load(Param("x"), x)
	Load(Param("kc"), kc)
	Load(Param("nt"), nt)
	Load(Param("ldx"), ldx)
	SHLQ(U8(2), ldx)
	Label("c1p_tile")
	TESTQ(nt, nt)
	JZ(LabelRef("c1p_done"))
	MOVQ(x, xp)
	MOVQ(kc, k)
	Label("c1p_k")
	VMOVUPS(Mem{Base: xp}, Y0)
	VMOVUPS(Mem{Base: xp, Disp: 32}, Y1)
	VMOVUPS(Y0, Mem{Base: d})
	VMOVUPS(Y1, Mem{Base: d, Disp: 32})
	ADDQ(ldx, xp)
	ADDQ(U8(64), d)
	DECQ(k)
	JNZ(LabelRef("c1p_k"))
	ADDQ(U8(64), x)
	DECQ(nt)
	JMP(LabelRef("c1p_tile"))
	Label("c1p_done")
	VZEROUPPER()
	RET()
}
