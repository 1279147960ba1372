// Command amd64 generates peak_amd64.s (and peak_amd64_stubs.go, the Go
// prototypes) for gemmbench with avo: loops of
// independent vector FMAs that measure this CPU's floating-point peak.
//
// Run it through go generate in cmd/gemmbench (see peak_amd64.go).
//
// Each loop iteration issues one FMA into each of acc accumulators,
// acc_i = acc_i + x·y, with no dependence between them, so with at least
// latency × ports accumulators (Zen: 4 × 2 = 8) the FMA ports never wait
// and the loop runs at the FMA throughput: the peak a GEMM microkernel can
// approach. The loop counter and branch issue on other ports.
package main

import (
	"fmt"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

type loop struct {
	name   string
	double bool
	wide   bool // zmm (AVX-512F) else ymm (AVX2+FMA)
	acc    int  // independent accumulators
	unroll int  // accumulator sweeps per loop iteration
}

func main() {
	avoutil.Start()
	for _, l := range []loop{
		{"fmaLoopZmmPS", false, true, 24, 4},
		{"fmaLoopZmmPD", true, true, 24, 4},
		{"fmaLoopYmmPS", false, false, 12, 8},
		{"fmaLoopYmmPD", true, false, 12, 8},
	} {
		gen(l)
	}
	Generate()
}

func gen(l loop) {
	avoutil.TEXT(l.name, "func(n int)")
	Doc(fmt.Sprintf("%s runs n iterations of %d independent FMAs.", l.name, l.acc*l.unroll))
	n := Load(Param("n"), GP64())
	reg := func(i int) VecPhysical {
		if l.wide {
			return [...]VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
				Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
		}
		return [...]VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
	}
	x, y := reg(l.acc), reg(l.acc+1)
	// x = y = 1.0 in every lane; accumulators start at 0. The sums stay
	// ordinary numbers (float32 saturates at 2^24 + ...), never denormal.
	one := GP64()
	if l.double {
		MOVQ(U64(0x3ff0000000000000), one)
	} else {
		MOVQ(U64(0x3f800000), one)
	}
	if l.wide {
		if l.double {
			VPBROADCASTQ(one, x)
		} else {
			VPBROADCASTD(one.As32(), x)
		}
	} else {
		VMOVQ(one, x.(Vec).AsX())
		if l.double {
			VPBROADCASTQ(x.(Vec).AsX(), x)
		} else {
			VPBROADCASTD(x.(Vec).AsX(), x)
		}
	}
	VMOVDQU64orVMOVDQU(l.wide, x, y)
	for i := range l.acc {
		if l.wide {
			VPXORQ(reg(i), reg(i), reg(i))
		} else {
			VPXOR(reg(i), reg(i), reg(i))
		}
	}
	TESTQ(n, n)
	JLE(LabelRef("done_" + l.name))
	Label("loop_" + l.name)
	for range l.unroll {
		for i := range l.acc {
			if l.double {
				VFMADD231PD(x, y, reg(i))
			} else {
				VFMADD231PS(x, y, reg(i))
			}
		}
	}
	DECQ(n)
	JNZ(LabelRef("loop_" + l.name))
	Label("done_" + l.name)
	VZEROUPPER()
	RET()
}

// VMOVDQU64orVMOVDQU copies a vector register: VMOVDQU64 for zmm
// (AVX-512F), VMOVDQU for ymm.
func VMOVDQU64orVMOVDQU(wide bool, src, dst VecPhysical) {
	if wide {
		VMOVDQU64(src, dst)
	} else {
		VMOVDQU(src, dst)
	}
}
