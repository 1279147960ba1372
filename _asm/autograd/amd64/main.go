// Command amd64 generates kernels_amd64.s, the AVX-512 and AVX2 loops of
// package autograd's ReLU kernels and the adjoint accumulation, and
// kernels_amd64_stubs.go, their Go prototypes, with avo.
//
// Run it through go generate in the autograd package (see
// kernels_amd64.go). The output is committed; nobody edits it by hand.
//
// Each routine handles n elements, n a multiple of 4 vectors (the caller
// runs the remainder in Go), with the same bit-level semantics as the Go
// code in relu.go:
//
//	reluFwd:    d[i] = x[i] with negative values (sign bit set) replaced by +0
//	reluBwd:    d[i] = g[i] where h[i] > 0 as a signed integer, else +0
//	reluBwdAcc: d[i] += that
//	addAcc:     d[i] += s[i]
//
// Comparing the bits of h as signed integers with 0 is "h > 0" for every
// float but NaN (+NaN counts as positive, as in the Go code).
package main

import (
	"fmt"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const unroll = 4

type variant struct {
	double bool
	wide   bool // AVX-512 zmm, else AVX2 ymm
}

func (v variant) vl() int {
	if v.wide {
		return 64
	}
	return 32
}

func (v variant) lanes() int {
	if v.double {
		return v.vl() / 8
	}
	return v.vl() / 4
}

func (v variant) reg(i int) VecPhysical {
	if v.wide {
		return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8}[i]
	}
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8}[i]
}

func (v variant) suffix() string {
	s := "PS"
	if v.double {
		s = "PD"
	}
	if v.wide {
		return s + "AVX512"
	}
	return s + "AVX2"
}

func (v variant) typ() string {
	if v.double {
		return "float64"
	}
	return "float32"
}

func (v variant) move() func(...Op) {
	if v.double {
		return VMOVUPD
	}
	return VMOVUPS
}

func (v variant) add() func(...Op) {
	if v.double {
		return VADDPD
	}
	return VADDPS
}

// zero clears the register used as the comparison constant.
func (v variant) zero(r VecPhysical) {
	if v.wide {
		VPXORD(r, r, r)
	} else {
		VPXOR(r, r, r)
	}
}

func main() {
	avoutil.Start()
	for _, wide := range []bool{true, false} {
		for _, double := range []bool{false, true} {
			v := variant{double: double, wide: wide}
			reluFwd(v)
			reluBwd(v, false)
			reluBwd(v, true)
			addAcc(v)
		}
	}
	Generate()
}

// loop emits the counted loop around body(u, disp) for the unrolled
// vectors, advancing the pointers by 4 vectors a turn.
func loop(v variant, n Register, ptrs []Register, body func()) {
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	body()
	for _, p := range ptrs {
		ADDQ(U32(unroll*v.vl()), p)
	}
	SUBQ(U32(unroll*v.lanes()), n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

func reluFwd(v variant) {
	name := "reluFwd" + v.suffix()
	avoutil.TEXT(name, fmt.Sprintf("func(d, x *%s, n int)", v.typ()))
	Doc(fmt.Sprintf("%s sets d[i] = x[i], or +0 where x[i] has its sign bit set, for i < n (n a multiple of %d).", name, unroll*v.lanes()))
	d := Load(Param("d"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	zero := v.reg(8)
	if v.double && !v.wide {
		v.zero(zero) // AVX2 has no 64-bit arithmetic shift: compare with 0
	}
	loop(v, n, []Register{d, x}, func() {
		for u := range unroll {
			v.move()(Mem{Base: x, Disp: u * v.vl()}, v.reg(u))
		}
		for u := range unroll {
			xr, m := v.reg(u), v.reg(4+u)
			switch {
			case !v.double && v.wide:
				VPSRAD(U8(31), xr, m)
				VPANDND(xr, m, xr)
			case !v.double:
				VPSRAD(U8(31), xr, m)
				VPANDN(xr, m, xr)
			case v.wide:
				VPSRAQ(U8(63), xr, m)
				VPANDNQ(xr, m, xr)
			default:
				VPCMPGTQ(xr, zero, m) // m = 0 > x
				VPANDN(xr, m, xr)
			}
		}
		for u := range unroll {
			v.move()(v.reg(u), Mem{Base: d, Disp: u * v.vl()})
		}
	})
}

func reluBwd(v variant, acc bool) {
	name := "reluBwd" + v.suffix()
	what := "="
	if acc {
		name = "reluBwdAcc" + v.suffix()
		what = "+="
	}
	avoutil.TEXT(name, fmt.Sprintf("func(d, gr, h *%s, n int)", v.typ()))
	Doc(fmt.Sprintf("%s sets d[i] %s gr[i] where h[i] > 0 (else +0), for i < n (n a multiple of %d).", name, what, unroll*v.lanes()))
	d := Load(Param("d"), GP64())
	g := Load(Param("gr"), GP64())
	h := Load(Param("h"), GP64())
	n := Load(Param("n"), GP64())
	zero := v.reg(8)
	v.zero(zero)
	loop(v, n, []Register{d, g, h}, func() {
		for u := range unroll {
			r, hm := v.reg(u), Mem{Base: h, Disp: u * v.vl()}
			gm := Mem{Base: g, Disp: u * v.vl()}
			switch {
			case v.wide && !v.double:
				VMOVDQU32(hm, r)
				VPCMPGTD(zero, r, K1) // k = h > 0
				VMOVDQU32_Z(gm, K1, r)
			case v.wide:
				VMOVDQU64(hm, r)
				VPCMPGTQ(zero, r, K1)
				VMOVDQU64_Z(gm, K1, r)
			case !v.double:
				VMOVDQU(hm, r)
				VPCMPGTD(zero, r, r) // r = h > 0
				VPAND(gm, r, r)
			default:
				VMOVDQU(hm, r)
				VPCMPGTQ(zero, r, r)
				VPAND(gm, r, r)
			}
		}
		for u := range unroll {
			dm := Mem{Base: d, Disp: u * v.vl()}
			if acc {
				// d + t, with d the first source as in Go's d += t, so
				// that of two NaNs d's propagates.
				v.move()(dm, v.reg(4+u))
				v.add()(v.reg(u), v.reg(4+u), v.reg(u))
			}
			v.move()(v.reg(u), dm)
		}
	})
}

func addAcc(v variant) {
	name := "addAcc" + v.suffix()
	avoutil.TEXT(name, fmt.Sprintf("func(d, s *%s, n int)", v.typ()))
	Doc(fmt.Sprintf("%s sets d[i] += s[i] for i < n (n a multiple of %d).", name, unroll*v.lanes()))
	d := Load(Param("d"), GP64())
	s := Load(Param("s"), GP64())
	n := Load(Param("n"), GP64())
	loop(v, n, []Register{d, s}, func() {
		// d + s with d the first source, as Go's d += s (NaN payloads).
		for u := range unroll {
			v.move()(Mem{Base: d, Disp: u * v.vl()}, v.reg(u))
		}
		for u := range unroll {
			v.add()(Mem{Base: s, Disp: u * v.vl()}, v.reg(u), v.reg(u))
		}
		for u := range unroll {
			v.move()(v.reg(u), Mem{Base: d, Disp: u * v.vl()})
		}
	})
}
