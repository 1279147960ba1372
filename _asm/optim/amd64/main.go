// Command amd64 generates adam_amd64.s, the vector Adam update of package
// optim, and adam_amd64_stubs.go, its Go prototypes, with avo.
//
// Run it through go generate in the optim package (see adam_amd64.go). The
// output is committed.
//
// Each kernel runs, lane by lane over n elements (n a multiple of the
// vector width), exactly the operations of adamGeneric in adam.go in the
// same order, each rounded to float32 (no fused multiply-add): square root
// and division are correctly rounded in both, so the vector result is
// bitwise the scalar one.
package main

import (
	"fmt"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The scalars, in the order of adamScalars in adam.go.
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

func generate(name string, wide bool) {
	avoutil.TEXT(name, "func(n int, p, grad, m, v *float32, s *float32)")
	Doc(fmt.Sprintf("%s applies one Adam step to n float32 elements, n a multiple of %d (see adam_amd64.go).",
		name, map[bool]int{true: 16, false: 8}[wide]))
	vec := func(i int) VecPhysical {
		if wide {
			return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}[i]
		}
		return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
	}
	vl := map[bool]int{true: 64, false: 32}[wide]

	n, p, g, m, v, s := RAX, RSI, RDI, R8, R9, RDX
	Load(Param("n"), n)
	Load(Param("p"), p)
	Load(Param("grad"), g)
	Load(Param("m"), m)
	Load(Param("v"), v)
	Load(Param("s"), s)
	// Scalars broadcast into registers 0..9; temporaries in 10..14.
	for i := range nScalars {
		VBROADCASTSS(Mem{Base: s, Disp: 4 * i}, vec(i))
	}
	sc := func(i int) VecPhysical { return vec(i) }
	P, G, T, M, V := vec(10), vec(11), vec(12), vec(13), vec(14)

	SHRQ(U8(map[bool]int{true: 4, false: 3}[wide]), n) // vectors to do
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	VMOVUPS(Mem{Base: p}, P)
	VMOVUPS(Mem{Base: g}, G)
	VMULPS(P, sc(sWD), T) // T = wd·p
	VADDPS(T, G, G)       // g = g + wd·p
	VMULPS(sc(sDecay), P, P)
	VMOVUPS(Mem{Base: m}, M)
	VMULPS(M, sc(sB1), M) // b1·m
	VMULPS(G, sc(sNB1), T)
	VADDPS(T, M, M) // m = b1·m + nb1·g
	VMOVUPS(M, Mem{Base: m})
	VMOVUPS(Mem{Base: v}, V)
	VMULPS(V, sc(sB2), V) // b2·v
	VMULPS(G, sc(sNB2), T)
	VMULPS(G, T, T) // nb2·g·g
	VADDPS(T, V, V) // v = b2·v + nb2·g·g
	VMOVUPS(V, Mem{Base: v})
	VMULPS(V, sc(sC2), V)
	VSQRTPS(V, V)
	VADDPS(sc(sEps), V, V) // √(v·c2) + eps
	VMULPS(M, sc(sC1), M)
	VMULPS(M, sc(sLR), M) // lr·(m·c1)
	VDIVPS(V, M, M)
	VSUBPS(M, P, P)
	VMOVUPS(P, Mem{Base: p})
	for _, r := range []GPPhysical{p, g, m, v} {
		ADDQ(U32(vl), r)
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

func main() {
	avoutil.Start()
	generate("adamAVX512", true)
	generate("adamAVX2", false)
	Generate()
}
