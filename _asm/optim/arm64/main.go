// Command arm64 generates adam_arm64.s, the NEON Adam update of package
// optim, and adam_arm64_stubs.go, its Go prototype, with the writer in
// internal/arm64asm.
//
// Run it through go generate in the optim package (see adam_arm64.go). The
// output is committed; nobody edits it by hand.
//
// The kernel runs, lane by lane over n elements (n a multiple of 4, one
// vector per iteration), exactly the operations of adamGeneric in adam.go
// in the same order, each rounded to float32 (no fused multiply-add):
// square root and division are correctly rounded in both, so the vector
// result is bitwise the scalar one, as for the amd64 kernels.
package main

import (
	"flag"
	"log"

	"github.com/adjoint-go/adjoint/_asm/internal/arm64asm"
)

// The scalars, in the order of adamScalars in adam.go; scalar i is
// broadcast into V(16+i).
const (
	sLR = iota
	sB1
	sB2
	sNB1
	sNB2
	sC1
	sC2
	sEps
	sWD
	sDecay
	nScalars
)

func sc(i int) int { return 16 + i }

func main() {
	out := flag.String("out", "adam_arm64.s", "assembly output file")
	declOut := flag.String("decl", "adam_arm64_stubs.go", "Go prototypes output file")
	pkg := flag.String("pkg", "optim", "package name")
	flag.Parse()
	a := arm64asm.New("./optim/arm64", *pkg, "arm64 && gc && !purego")
	a.Func("adamNEON", "(n int, p, grad, m, v *float32, s *float32)", 48,
		"adamNEON applies one Adam step to n float32 elements, n a multiple of 4 (see adam_arm64.go).", "")
	a.F("MOVD n+0(FP), R0")
	a.F("MOVD p+8(FP), R1")
	a.F("MOVD grad+16(FP), R2")
	a.F("MOVD m+24(FP), R3")
	a.F("MOVD v+32(FP), R4")
	a.F("MOVD s+40(FP), R5")
	a.Comment("The scalars, broadcast into V16..V25.")
	for i := range nScalars {
		a.F("FMOVS %d(R5), F%d", 4*i, sc(i))
		a.F("VDUP V%d.S[0], V%d.S4", sc(i), sc(i))
	}
	const P, G, T, M, V = 0, 1, 2, 3, 4
	mul := func(d, n, m int) { a.V(arm64asm.FMUL, false, d, n, m) }
	add := func(d, n, m int) { a.V(arm64asm.FADD, false, d, n, m) }
	a.F("LSR $2, R0, R0") // vectors to do
	a.F("CBZ R0, done")
	a.Label("loop")
	a.F("VLD1.P 16(R1), [V%d.S4]", P)
	a.F("VLD1.P 16(R2), [V%d.S4]", G)
	mul(T, P, sc(sWD)) // T = wd·p
	add(G, G, T)       // g = g + wd·p
	mul(P, P, sc(sDecay))
	a.F("VLD1 (R3), [V%d.S4]", M)
	mul(M, M, sc(sB1))
	mul(T, G, sc(sNB1))
	add(M, M, T) // m = b1·m + nb1·g
	a.F("VST1.P [V%d.S4], 16(R3)", M)
	a.F("VLD1 (R4), [V%d.S4]", V)
	mul(V, V, sc(sB2))
	mul(T, G, sc(sNB2))
	mul(T, T, G) // nb2·g·g
	add(V, V, T) // v = b2·v + nb2·g·g
	a.F("VST1.P [V%d.S4], 16(R4)", V)
	mul(V, V, sc(sC2))
	a.V(arm64asm.FSQRT, false, V, V, 0)
	add(V, V, sc(sEps)) // √(v·c2) + eps
	mul(M, M, sc(sC1))
	mul(M, M, sc(sLR)) // lr·(m·c1)
	a.V(arm64asm.FDIV, false, M, M, V)
	a.V(arm64asm.FSUB, false, P, P, M)
	a.F("SUB $16, R1, R6")
	a.F("VST1 [V%d.S4], (R6)", P)
	a.F("SUBS $1, R0, R0")
	a.F("BNE loop")
	a.Label("done")
	a.F("RET")
	a.End()
	if err := a.Write(*out, *declOut); err != nil {
		log.Fatal(err)
	}
}
