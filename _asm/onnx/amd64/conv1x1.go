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
//	c1x1R<mr>[Res]AVX2(y, x, w, b[, r] *float32, kc, n, ldx, ldy int, lohi *float32):
//	for i := range mr {
//		for p := range n {
//			s := b[i]
//			for k := range kc {
//				s += w[k*mr+i] * x[k*ldx+p]
//			}
//			s += r[i*ldy+p] // Res
//			y[i*ldy+p] = min(max(s, lohi[0]), lohi[1])
//		}
//	}
//
// w is the panel's weights interleaved (mr of them per k). A tile of mr
// channels × 16 pixels sums in 2·mr registers, started from the bias; the
// residual and the clamp are applied in registers before the one store.
// Pixel tails: a tile of 8, then 1..7 with masked loads and stores (x, r
// and y are never touched past n).
func conv1x1() {
	for mr := 1; mr <= 6; mr++ {
		for _, res := range []bool{false, true} {
			c1x1(mr, res)
		}
	}
}

func c1x1(mr int, res bool) {
	name := fmt.Sprintf("c1x1R%d", mr)
	sig := "func(y, x, w, b *float32, kc, n, ldx, ldy int, lohi *float32)"
	if res {
		name += "Res"
		sig = "func(y, x, w, b, r *float32, kc, n, ldx, ldy int, lohi *float32)"
	}
	name += "AVX2"
	avoutil.TEXT(name, sig)
	Doc(name + " is a 1×1 convolution of one panel of output channels with its bias, residual and clamp (see nn_conv1x1_amd64.go).")
	y, x, ld, ldx, n, kq := RAX, RBX, RCX, RDX, RSI, RDI
	xp, wp, y3, r, r3, t := R8, R9, R10, R11, R12, R13
	xv := []VecPhysical{Y12, Y13}
	bc, mreg := Y15, Y14
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

	// tile computes mr×(8·nv) outputs at x, y (and r); masked: the first
	// n (1..7) lanes of one vector.
	tile := func(pfx string, nv int, masked bool) {
		acc := make([][]VecPhysical, mr)
		for i := range mr {
			for j := range nv {
				acc[i] = append(acc[i], []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}[i*nv+j])
			}
		}
		if masked {
			LEAQ(mask.Offset(32), t)
			MOVQ(n, kq)
			SHLQ(U8(2), kq)
			SUBQ(kq, t)
			VMOVDQU(Mem{Base: t}, mreg)
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
			if masked {
				VMASKMOVPS(Mem{Base: xp}, mreg, xv[j])
			} else {
				VMOVUPS(Mem{Base: xp, Disp: 32 * j}, xv[j])
			}
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
					m := row(r, r3, i, 32*j)
					if masked {
						VMASKMOVPS(m, mreg, bc)
						VADDPS(bc, acc[i][j], acc[i][j])
					} else {
						VADDPS(m, acc[i][j], acc[i][j])
					}
				}
			}
		}
		Load(Param("lohi"), t)
		VBROADCASTSS(Mem{Base: t}, lo)
		VBROADCASTSS(Mem{Base: t, Disp: 4}, hi)
		for i := range mr {
			for j := range nv {
				clamp(acc[i][j], lo, hi)
				m := row(y, y3, i, 32*j)
				if masked {
					VMASKMOVPS(acc[i][j], mreg, m)
				} else {
					VMOVUPS(acc[i][j], m)
				}
			}
		}
	}
	advance := func(bytes int) {
		ADDQ(U8(bytes), x)
		ADDQ(U8(bytes), y)
		if res {
			ADDQ(U8(bytes), r)
		}
	}

	Label(name + "_16")
	CMPQ(n, U8(16))
	JL(LabelRef(name + "_8"))
	tile(name+"_a", 2, false)
	advance(64)
	SUBQ(U8(16), n)
	JMP(LabelRef(name + "_16"))

	Label(name + "_8")
	CMPQ(n, U8(8))
	JL(LabelRef(name + "_tail"))
	tile(name+"_b", 1, false)
	advance(32)
	SUBQ(U8(8), n)

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	tile(name+"_c", 1, true)

	Label(name + "_done")
	VZEROUPPER()
	RET()
}
