// Command arm64 generates elementwise_arm64.s, the NEON loops of package
// tensor's hottest elementwise kernels, and elementwise_arm64_stubs.go,
// their Go prototypes, with the writer in internal/arm64asm (avo has no
// arm64 back end, and Go's assembler has no vector FADD, FSUB, FMUL or FDIV,
// so those are WORDs).
//
// Run it through go generate in the tensor package (see
// elementwise_arm64.go). The output is committed; nobody edits it by hand.
//
// The VV routines compute d[i] = a[i] op b[i], the VS ones d[i] = a[i] op s
// and the SV ones (sub and div only) d[i] = s op b[i], for i < n, where n is
// a multiple of 4 vectors (16 float32 or 8 float64; the caller runs the
// remainder in Go). Each iteration loads four vectors of each operand with
// post-increment, applies op, and stores four vectors: four independent
// chains. The operations are IEEE, correctly rounded, so the results are
// bitwise those of the Go loops. d may be a or b.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/adjoint-go/adjoint/_asm/internal/arm64asm"
)

const unroll = 4

type opDef struct {
	name, sym string
	op        arm64asm.VecOp
}

var ops = []opDef{
	{"add", "+", arm64asm.FADD},
	{"sub", "-", arm64asm.FSUB},
	{"mul", "*", arm64asm.FMUL},
	{"div", "/", arm64asm.FDIV},
}

func typ(double bool) (t, arr, suffix string, lanes int) {
	if double {
		return "float64", "D2", "PDNEON", 2
	}
	return "float32", "S4", "PSNEON", 4
}

func main() {
	out := flag.String("out", "elementwise_arm64.s", "assembly output file")
	declOut := flag.String("decl", "elementwise_arm64_stubs.go", "Go prototypes output file")
	pkg := flag.String("pkg", "tensor", "package name")
	flag.Parse()
	a := arm64asm.New("./tensor/arm64", *pkg, "arm64 && gc && !purego")
	for _, double := range []bool{false, true} {
		for _, op := range ops {
			genVV(a, double, op)
		}
		for _, op := range ops {
			genScalar(a, double, op, false)
		}
		for _, op := range ops {
			if op.name == "sub" || op.name == "div" {
				genScalar(a, double, op, true)
			}
		}
	}
	if err := a.Write(*out, *declOut); err != nil {
		log.Fatal(err)
	}
}

// Registers: the four vectors of a (or b for SV) in V0..V3, those of b in
// V4..V7, the broadcast scalar in V8.
func genVV(a *arm64asm.File, double bool, op opDef) {
	t, arr, suf, lanes := typ(double)
	name := op.name + "VV" + suf
	a.Func(name, fmt.Sprintf("(d, a, b *%s, n int)", t), 32,
		fmt.Sprintf("%s sets d[i] = a[i] %s b[i] for i < n (n a multiple of %d).", name, op.sym, unroll*lanes), "")
	a.F("MOVD d+0(FP), R0")
	a.F("MOVD a+8(FP), R1")
	a.F("MOVD b+16(FP), R2")
	a.F("MOVD n+24(FP), R3")
	a.F("CBZ R3, done")
	a.Label("loop")
	a.F("VLD1.P %d(R1), %s", 16*unroll, arm64asm.VList(0, unroll, arr))
	a.F("VLD1.P %d(R2), %s", 16*unroll, arm64asm.VList(4, unroll, arr))
	for u := range unroll {
		a.V(op.op, double, u, u, 4+u)
	}
	a.F("VST1.P %s, %d(R0)", arm64asm.VList(0, unroll, arr), 16*unroll)
	a.F("SUBS $%d, R3, R3", unroll*lanes)
	a.F("BNE loop")
	a.Label("done")
	a.F("RET")
	a.End()
}

// genScalar emits d[i] = a[i] op s (or, sv, d[i] = s op b[i]).
func genScalar(a *arm64asm.File, double bool, op opDef, sv bool) {
	t, arr, suf, lanes := typ(double)
	form, sig, doc := "VS", fmt.Sprintf("(d, a *%s, s %s, n int)", t, t), "a[i] %s s"
	if sv {
		form, sig, doc = "SV", fmt.Sprintf("(d *%s, s %s, b *%s, n int)", t, t, t), "s %s b[i]"
	}
	name := op.name + form + suf
	a.Func(name, sig, 32, fmt.Sprintf("%s sets d[i] = %s for i < n (n a multiple of %d).",
		name, fmt.Sprintf(doc, op.sym), unroll*lanes), "")
	a.F("MOVD d+0(FP), R0")
	fm, el := "FMOVS", "S"
	if double {
		fm, el = "FMOVD", "D"
	}
	if sv {
		a.F("%s s+8(FP), F8", fm)
		a.F("MOVD b+16(FP), R1")
	} else {
		a.F("MOVD a+8(FP), R1")
		a.F("%s s+16(FP), F8", fm)
	}
	a.F("MOVD n+24(FP), R3")
	a.F("VDUP V8.%s[0], V8.%s", el, arr)
	a.F("CBZ R3, done")
	a.Label("loop")
	a.F("VLD1.P %d(R1), %s", 16*unroll, arm64asm.VList(0, unroll, arr))
	for u := range unroll {
		if sv {
			a.V(op.op, double, u, 8, u) // s op b
		} else {
			a.V(op.op, double, u, u, 8) // a op s
		}
	}
	a.F("VST1.P %s, %d(R0)", arm64asm.VList(0, unroll, arr), 16*unroll)
	a.F("SUBS $%d, R3, R3", unroll*lanes)
	a.F("BNE loop")
	a.Label("done")
	a.F("RET")
	a.End()
}
