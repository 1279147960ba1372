package main

import (
	"fmt"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// convDirectNV is the number of output vectors (of 8 columns) a direct
// convolution kernel sums at once for each of its channels.
const convDirectNV = 3

// convDirect emits convDirect1..4AVX2, one per tile of nc output channels.
func convDirect() {
	for nc := 1; nc <= 4; nc++ {
		convDirectTile(nc)
	}
}

// convDirectTile emits convDirect<nc>AVX2(y, x, w *float32, offs *int, ntaps, oh, ow, ys, ycs, xs int):
//
//	for c := range nc {
//		for r := range oh {
//			for q := range ow {
//				s := w[c]
//				for t := range ntaps {
//					s += w[nc+2+t*nc+c] * x[r*xs+q+offs[t]]
//				}
//				y[c*ycs+r*ys+q] = min(max(s, w[nc]), w[nc+1])
//			}
//		}
//	}
//
// A convolution with several input channels per group over padded planes
// (the taps' offsets span the group's planes), nc output channels at once:
// w holds their biases, the clamp, then the weights tap by tap. Each tap
// loads up to three vectors of inputs once and multiplies them by every
// channel's weight (broadcast once), so that a step keeps nc·3 independent
// sums going, enough to fill both FMA units, with fewer than one load per
// multiply-add. The row's last (partial) vector is stored masked; x must be
// readable 7 floats past each row's last tap. ntaps >= 1.
func convDirectTile(nc int) {
	name := fmt.Sprintf("convDirect%dAVX2", nc)
	avoutil.TEXT(name, "func(y, x, w *float32, offs *int, ntaps, oh, ow, ys, ycs, xs int)")
	Doc(name + " is a direct convolution, a tile of " + fmt.Sprint(nc) + " output channel(s) over several input planes (see nn_convdirect_amd64.go).")
	nv := convDirectNV
	acc := func(c, v int) VecPhysical {
		return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}[c*nv+v]
	}
	xv := []VecPhysical{Y12, Y13, Y14}
	wv := Y15
	xr, yr, rows, w, offs, ntaps := RAX, RBX, RCX, RDX, RSI, RDI
	xp, yp, n, t, wq, oq, off, ycs := R8, R9, R10, R11, R12, R13, R14, R15
	Load(Param("w"), w)
	Load(Param("offs"), offs)
	Load(Param("ntaps"), ntaps)
	Load(Param("x"), xr)
	Load(Param("y"), yr)
	Load(Param("oh"), rows)
	Load(Param("ycs"), ycs)
	SHLQ(U8(2), ycs)
	pfx := fmt.Sprintf("cd%d", nc)

	// dst is channel c's output at yp + d bytes (t holds yp + 2·ycs).
	dst := func(c, d int) Mem {
		switch c {
		case 0:
			return Mem{Base: yp, Disp: d}
		case 1:
			return Mem{Base: yp, Index: ycs, Scale: 1, Disp: d}
		case 2:
			return Mem{Base: yp, Index: ycs, Scale: 2, Disp: d}
		}
		return Mem{Base: t, Index: ycs, Scale: 1, Disp: d}
	}
	// block sums k vectors of outputs at xp for every channel and stores
	// them at yp; masked: the last one only in the lanes n says (1..8).
	block := func(lbl string, k int, masked bool) {
		for c := range nc {
			VBROADCASTSS(Mem{Base: w, Disp: 4 * c}, acc(c, 0))
			for v := 1; v < k; v++ {
				VMOVAPS(acc(c, 0), acc(c, v))
			}
		}
		LEAQ(Mem{Base: w, Disp: 4 * (nc + 2)}, wq)
		MOVQ(offs, oq)
		MOVQ(ntaps, t)
		Label(lbl)
		MOVQ(Mem{Base: oq}, off)
		for v := range k {
			VMOVUPS(Mem{Base: xp, Index: off, Scale: 4, Disp: 32 * v}, xv[v])
		}
		for c := range nc {
			VBROADCASTSS(Mem{Base: wq, Disp: 4 * c}, wv)
			for v := range k {
				VFMADD231PS(xv[v], wv, acc(c, v))
			}
		}
		ADDQ(U8(4*nc), wq)
		ADDQ(U8(8), oq)
		DECQ(t)
		JNZ(LabelRef(lbl))
		lo, hi, m := xv[0], xv[1], xv[2]
		VBROADCASTSS(Mem{Base: w, Disp: 4 * nc}, lo)
		VBROADCASTSS(Mem{Base: w, Disp: 4 * (nc + 1)}, hi)
		for c := range nc {
			for v := range k {
				clamp(acc(c, v), lo, hi)
			}
		}
		if masked {
			LEAQ(mask.Offset(32), off)
			SHLQ(U8(2), n)
			SUBQ(n, off)
			VMOVDQU(Mem{Base: off}, m)
		}
		if nc == 4 {
			LEAQ(Mem{Base: yp, Index: ycs, Scale: 2}, t)
		}
		for c := range nc {
			for v := range k {
				if masked && v == k-1 {
					VMASKMOVPS(acc(c, v), m, dst(c, 32*v))
				} else {
					VMOVUPS(acc(c, v), dst(c, 32*v))
				}
			}
		}
	}

	Label(pfx + "_row")
	TESTQ(rows, rows)
	JZ(LabelRef(pfx + "_done"))
	MOVQ(xr, xp)
	MOVQ(yr, yp)
	Load(Param("ow"), n)

	Label(pfx + "_full")
	CMPQ(n, U8(8*nv))
	JL(LabelRef(pfx + "_tail"))
	block(pfx+"_tf", nv, false)
	ADDQ(U8(32*nv), xp)
	ADDQ(U8(32*nv), yp)
	SUBQ(U8(8*nv), n)
	JMP(LabelRef(pfx + "_full"))

	// The last 1..23 columns: as many vectors as they need, the last one
	// masked.
	Label(pfx + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(pfx + "_next"))
	for k := nv; k >= 1; k-- {
		if k > 1 {
			CMPQ(n, U8(8*(k-1)))
			JLE(LabelRef(fmt.Sprintf("%s_tail%d", pfx, k-1)))
			SUBQ(U8(8*(k-1)), n)
		}
		block(fmt.Sprintf("%s_t%d", pfx, k), k, true)
		JMP(LabelRef(pfx + "_next"))
		if k > 1 {
			Label(fmt.Sprintf("%s_tail%d", pfx, k-1))
		}
	}

	Label(pfx + "_next")
	Load(Param("xs"), n)
	LEAQ(Mem{Base: xr, Index: n, Scale: 4}, xr)
	Load(Param("ys"), n)
	LEAQ(Mem{Base: yr, Index: n, Scale: 4}, yr)
	DECQ(rows)
	JMP(LabelRef(pfx + "_row"))

	Label(pfx + "_done")
	VZEROUPPER()
	RET()
}
