// Command arm64 generates kernels_arm64.s, the NEON loops of package
// autograd's ReLU kernels and the adjoint accumulation, and
// kernels_arm64_stubs.go, their Go prototypes, with the writer in
// internal/arm64asm.
//
// Run it through go generate in the autograd package (see
// kernels_arm64.go). The output is committed; nobody edits it by hand.
//
// Each routine handles n elements, n a multiple of 4 vectors (16 float32 or
// 8 float64; the caller runs the remainder in Go), with the same bit-level
// semantics as the Go code in relu.go and the amd64 kernels:
//
//	reluFwd:    d[i] = x[i] with negative values (sign bit set) replaced by +0
//	reluBwd:    d[i] = g[i] where h[i] > 0 as a signed integer, else +0
//	reluBwdAcc: d[i] += that
//	addAcc:     d[i] += s[i]
//
// The masks come from integer compares with 0 (CMGE, CMGT), so the bits of
// NaN and −0 are treated as in Go; the adds take d as the first operand, as
// Go's d += t does, so of two NaNs d's payload propagates.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/adjoint-go/adjoint/_asm/internal/arm64asm"
)

const unroll = 4

var a *arm64asm.File

type variant struct{ double bool }

func (v variant) typ() string {
	if v.double {
		return "float64"
	}
	return "float32"
}
func (v variant) arr() string {
	if v.double {
		return "D2"
	}
	return "S4"
}
func (v variant) lanes() int {
	if v.double {
		return 2
	}
	return 4
}
func (v variant) suffix() string {
	if v.double {
		return "PDNEON"
	}
	return "PSNEON"
}

// loop emits the counted loop around body; n is in R3.
func loop(v variant, body func()) {
	a.F("CBZ R3, done")
	a.Label("loop")
	body()
	a.F("SUBS $%d, R3, R3", unroll*v.lanes())
	a.F("BNE loop")
	a.Label("done")
	a.F("RET")
	a.End()
}

func list(first int, v variant) string { return arm64asm.VList(first, unroll, v.arr()) }

func reluFwd(v variant) {
	name := "reluFwd" + v.suffix()
	a.Func(name, fmt.Sprintf("(d, x *%s, n int)", v.typ()), 24,
		fmt.Sprintf("%s sets d[i] = x[i], or +0 where x[i] has its sign bit set, for i < n (n a multiple of %d).", name, unroll*v.lanes()), "")
	a.F("MOVD d+0(FP), R0")
	a.F("MOVD x+8(FP), R1")
	a.F("MOVD n+16(FP), R3")
	loop(v, func() {
		a.F("VLD1.P %d(R1), %s", 16*unroll, list(0, v))
		for u := range unroll {
			a.V(arm64asm.CMGEZ, v.double, 4+u, u, 0) // m = sign bit clear
			a.F("VAND V%d.B16, V%d.B16, V%d.B16", 4+u, u, u)
		}
		a.F("VST1.P %s, %d(R0)", list(0, v), 16*unroll)
	})
}

func reluBwd(v variant, acc bool) {
	name, what := "reluBwd"+v.suffix(), "="
	if acc {
		name, what = "reluBwdAcc"+v.suffix(), "+="
	}
	a.Func(name, fmt.Sprintf("(d, gr, h *%s, n int)", v.typ()), 32,
		fmt.Sprintf("%s sets d[i] %s gr[i] where h[i] > 0 (else +0), for i < n (n a multiple of %d).", name, what, unroll*v.lanes()), "")
	a.F("MOVD d+0(FP), R0")
	a.F("MOVD gr+8(FP), R1")
	a.F("MOVD h+16(FP), R2")
	a.F("MOVD n+24(FP), R3")
	loop(v, func() {
		a.F("VLD1.P %d(R2), %s", 16*unroll, list(4, v))
		a.F("VLD1.P %d(R1), %s", 16*unroll, list(0, v))
		for u := range unroll {
			a.V(arm64asm.CMGTZ, v.double, 4+u, 4+u, 0) // m = h > 0
			a.F("VAND V%d.B16, V%d.B16, V%d.B16", 4+u, u, u)
		}
		if acc {
			a.F("VLD1 (R0), %s", list(8, v))
			for u := range unroll {
				a.V(arm64asm.FADD, v.double, u, 8+u, u) // d + t
			}
		}
		a.F("VST1.P %s, %d(R0)", list(0, v), 16*unroll)
	})
}

func addAcc(v variant) {
	name := "addAcc" + v.suffix()
	a.Func(name, fmt.Sprintf("(d, s *%s, n int)", v.typ()), 24,
		fmt.Sprintf("%s sets d[i] += s[i] for i < n (n a multiple of %d).", name, unroll*v.lanes()), "")
	a.F("MOVD d+0(FP), R0")
	a.F("MOVD s+8(FP), R1")
	a.F("MOVD n+16(FP), R3")
	loop(v, func() {
		a.F("VLD1 (R0), %s", list(0, v))
		a.F("VLD1.P %d(R1), %s", 16*unroll, list(4, v))
		for u := range unroll {
			a.V(arm64asm.FADD, v.double, u, u, 4+u) // d + s
		}
		a.F("VST1.P %s, %d(R0)", list(0, v), 16*unroll)
	})
}

func main() {
	out := flag.String("out", "kernels_arm64.s", "assembly output file")
	declOut := flag.String("decl", "kernels_arm64_stubs.go", "Go prototypes output file")
	pkg := flag.String("pkg", "autograd", "package name")
	flag.Parse()
	a = arm64asm.New("./autograd/arm64", *pkg, "arm64 && gc && !purego")
	for _, double := range []bool{false, true} {
		v := variant{double}
		reluFwd(v)
		reluBwd(v, false)
		reluBwd(v, true)
		addAcc(v)
	}
	if err := a.Write(*out, *declOut); err != nil {
		log.Fatal(err)
	}
}
