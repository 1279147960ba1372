// Command amd64 generates elementwise_amd64.s, the AVX-512 and AVX2 loops of
// package tensor's hottest elementwise kernels, and elementwise_amd64_stubs.go,
// their Go prototypes, with avo.
//
// Run it through go generate in the tensor package (see
// elementwise_amd64.go). The output is committed; nobody edits it by hand.
//
// The VV routines compute d[i] = a[i] op b[i], the VS ones d[i] = a[i] op s
// and the SV ones (sub and div only) d[i] = s op b[i], for i < n, where n is
// a multiple of 4 vectors (the caller runs the remainder in Go). Each loop
// iteration loads four vectors of a, applies op with four vectors of b as
// memory operands and stores four vectors: four independent chains, so the
// loop is bound by loads and stores, not by latency. d may be a or b.
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

func (v variant) vl() int { // vector bytes
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
		return []VecPhysical{Z0, Z1, Z2, Z3}[i]
	}
	return []VecPhysical{Y0, Y1, Y2, Y3}[i]
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

type opDef struct {
	name   string
	ps, pd func(...Op)
}

var ops = []opDef{
	{"add", VADDPS, VADDPD},
	{"sub", VSUBPS, VSUBPD},
	{"mul", VMULPS, VMULPD},
	{"div", VDIVPS, VDIVPD},
}

func main() {
	avoutil.Start()
	for _, wide := range []bool{true, false} {
		for _, double := range []bool{false, true} {
			v := variant{double: double, wide: wide}
			for _, op := range ops {
				gen(v, op)
			}
			for _, op := range ops {
				genScalar(v, op, false)
			}
			for _, op := range ops {
				if op.name == "sub" || op.name == "div" {
					genScalar(v, op, true)
				}
			}
		}
	}
	Generate()
}

func gen(v variant, op opDef) {
	typ := "float32"
	move, apply := VMOVUPS, op.ps
	if v.double {
		typ, move, apply = "float64", VMOVUPD, op.pd
	}
	name := fmt.Sprintf("%sVV%s", op.name, v.suffix())
	avoutil.TEXT(name, fmt.Sprintf("func(d, a, b *%s, n int)", typ))
	Doc(fmt.Sprintf("%s sets d[i] = a[i] %s b[i] for i < n (n a multiple of %d).", name, map[string]string{"add": "+", "sub": "-", "mul": "*", "div": "/"}[op.name], unroll*v.lanes()))
	d := Load(Param("d"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	n := Load(Param("n"), GP64())
	step := unroll * v.vl()
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	for u := range unroll {
		move(Mem{Base: a, Disp: u * v.vl()}, v.reg(u))
	}
	for u := range unroll {
		apply(Mem{Base: b, Disp: u * v.vl()}, v.reg(u), v.reg(u))
	}
	for u := range unroll {
		move(v.reg(u), Mem{Base: d, Disp: u * v.vl()})
	}
	ADDQ(U32(step), a)
	ADDQ(U32(step), b)
	ADDQ(U32(step), d)
	SUBQ(U32(unroll*v.lanes()), n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// genScalar emits d[i] = a[i] op s (or, sv, d[i] = s op b[i]).
func genScalar(v variant, op opDef, sv bool) {
	typ := "float32"
	move, apply, bcast := VMOVUPS, op.ps, VBROADCASTSS
	if v.double {
		typ, move, apply, bcast = "float64", VMOVUPD, op.pd, VBROADCASTSD
	}
	form, sig := "VS", fmt.Sprintf("func(d, a *%s, s %s, n int)", typ, typ)
	if sv {
		form, sig = "SV", fmt.Sprintf("func(d *%s, s %s, b *%s, n int)", typ, typ, typ)
	}
	name := fmt.Sprintf("%s%s%s", op.name, form, v.suffix())
	avoutil.TEXT(name, sig)
	sym := map[string]string{"add": "+", "sub": "-", "mul": "*", "div": "/"}[op.name]
	if sv {
		Doc(fmt.Sprintf("%s sets d[i] = s %s b[i] for i < n (n a multiple of %d).", name, sym, unroll*v.lanes()))
	} else {
		Doc(fmt.Sprintf("%s sets d[i] = a[i] %s s for i < n (n a multiple of %d).", name, sym, unroll*v.lanes()))
	}
	d := Load(Param("d"), GP64())
	src := "a"
	if sv {
		src = "b"
	}
	x := Load(Param(src), GP64())
	sx := Load(Param("s"), XMM())
	n := Load(Param("n"), GP64())
	var sreg VecPhysical = Z4
	if !v.wide {
		sreg = Y4
	}
	bcast(sx, sreg)
	step := unroll * v.vl()
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	if sv {
		for u := range unroll {
			apply(Mem{Base: x, Disp: u * v.vl()}, sreg, v.reg(u)) // s op b
		}
	} else {
		for u := range unroll {
			move(Mem{Base: x, Disp: u * v.vl()}, v.reg(u))
		}
		for u := range unroll {
			apply(sreg, v.reg(u), v.reg(u)) // a op s
		}
	}
	for u := range unroll {
		move(v.reg(u), Mem{Base: d, Disp: u * v.vl()})
	}
	ADDQ(U32(step), x)
	ADDQ(U32(step), d)
	SUBQ(U32(unroll*v.lanes()), n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
