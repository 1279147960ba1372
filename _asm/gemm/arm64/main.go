// Command arm64 generates gemm_arm64.s, the NEON microkernels of package
// gemm, and gemm_arm64.go, their Go prototypes. avo has no arm64 back end,
// so this is a small writer of its own: it prints Go assembler text, and
// emits the one instruction the kernels need that Go's assembler lacks,
// FMLA by element (and FMUL by element for the alpha scaling), as WORD
// directives whose encodings come from internal/arm64asm, unit-tested
// against GNU as.
//
// Run it through go generate in the gemm package (see kernel_arm64.go). The
// output is committed, and .ci/check-asm.sh fails when it is out of date.
//
// Every kernel computes, for an MR×NR tile,
//
//	C(i,j) = alpha·Σ_p a[p*MR+i]·b[p*NR+j] + beta·C(i,j)
//
// with a and b packed micro-panels and C a full tile with row stride ldc.
// The MR×NR accumulators stay in 24 of the 32 128-bit vector registers for
// the whole k loop (V8..V31). Per k step it loads the NR values of B once
// (NR/VL vectors, V0..), the MR values of A (MR/VL vectors, after them), and
// issues MR·NR/VL independent FMLAs, each taking its A value by element, so
// no broadcast instruction is spent and 24 chains hide the FMA latency.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/adjoint-go/adjoint/_asm/internal/arm64asm"
)

// kernel describes one microkernel variant.
type kernel struct {
	name   string
	double bool // float64 (else float32)
	mr     int  // rows of the tile; a multiple of the lanes
	nv     int  // vectors of B per k step; NR = nv·lanes
	unroll int  // k steps per main-loop iteration
}

func (k kernel) es() int {
	if k.double {
		return 8
	}
	return 4
}
func (k kernel) lanes() int { return 16 / k.es() }
func (k kernel) nr() int    { return k.nv * k.lanes() }
func (k kernel) na() int    { return k.mr / k.lanes() } // vectors of A per k step

// arr is the Go assembler arrangement of a full vector.
func (k kernel) arr() string {
	if k.double {
		return "D2"
	}
	return "S4"
}

func (k kernel) typ() string {
	if k.double {
		return "float64"
	}
	return "float32"
}

// Register plan: B in V0..V(nv-1), A in V(nv)..V(nv+na-1), accumulator
// (i, j) in V(8 + i·nv + j), so each row's accumulators are consecutive and
// one VST1 stores a row.
func (k kernel) bReg(j int) int   { return j }
func (k kernel) aReg(v int) int   { return k.nv + v }
func (k kernel) acc(i, j int) int { return 8 + i*k.nv + j }
func (k kernel) check() {
	if k.mr%k.lanes() != 0 || k.mr*k.nv > 24 || k.nv+k.na() > 8 || k.nv > 4 {
		panic(fmt.Sprintf("kernel %s: tile %dx%d does not fit the register plan", k.name, k.mr, k.nr()))
	}
}

var kernels = []kernel{
	// 8×12 float32: 3 B vectors, 2 A vectors, 24 FMLAs per k step.
	{name: "sgemmKernelNEON", mr: 8, nv: 3, unroll: 4},
	// 6×8 float64: 4 B vectors, 3 A vectors, 24 FMLAs per k step.
	{name: "dgemmKernelNEON", double: true, mr: 6, nv: 4, unroll: 4},
}

// step emits one k step: load B and A (post-incrementing their pointers),
// then the MR·nv FMLAs, row by row.
func (k kernel) step(a *arm64asm.File) {
	a.F("VLD1.P %d(R2), %s", 16*k.nv, arm64asm.VList(k.bReg(0), k.nv, k.arr()))
	a.F("VLD1.P %d(R1), %s", 16*k.na(), arm64asm.VList(k.aReg(0), k.na(), k.arr()))
	for i := range k.mr {
		for j := range k.nv {
			a.Elem(arm64asm.OpFMLA, k.double, k.acc(i, j), k.bReg(j), k.aReg(i/k.lanes()), i%k.lanes())
		}
	}
}

func (k kernel) gen(a *arm64asm.File) {
	k.check()
	es := k.es()
	frame := 40 + 2*es
	fm := "FMOVS"
	if k.double {
		fm = "FMOVD"
	}
	a.Func(k.name, fmt.Sprintf("(k int, a, b, c *%s, ldc int, alpha, beta %s)", k.typ(), k.typ()), frame,
		fmt.Sprintf("%s computes a %d×%d %s tile.", k.name, k.mr, k.nr(), k.typ()),
		fmt.Sprintf("%d×%d tile: %d accumulators, %d B and %d A vector loads and %d FMLAs per k step.",
			k.mr, k.nr(), k.mr*k.nv, k.nv, k.na(), k.mr*k.nv))
	a.F("MOVD k+0(FP), R0")
	a.F("MOVD a+8(FP), R1")
	a.F("MOVD b+16(FP), R2")
	a.F("MOVD c+24(FP), R3")
	a.F("MOVD ldc+32(FP), R4")
	a.F("LSL $%d, R4, R4", map[int]int{4: 2, 8: 3}[es])
	a.Comment("Zero the accumulators.")
	for i := range k.mr {
		for j := range k.nv {
			r := k.acc(i, j)
			a.F("VEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
		}
	}
	a.Comment(fmt.Sprintf("R5 = k / %d main-loop iterations, R0 = k %% %d single steps.", k.unroll, k.unroll))
	a.F("LSR $%d, R0, R5", map[int]int{1: 0, 2: 1, 4: 2, 8: 3}[k.unroll])
	a.F("AND $%d, R0, R0", k.unroll-1)
	a.F("CBZ R5, tail")
	a.Label("loop")
	for range k.unroll {
		k.step(a)
	}
	a.F("SUBS $1, R5, R5")
	a.F("BNE loop")
	a.Label("tail")
	a.F("CBZ R0, done")
	a.Label("loop1")
	k.step(a)
	a.F("SUBS $1, R0, R0")
	a.F("BNE loop1")
	a.Label("done")
	a.Comment("Scale by alpha (V0 lane 0); beta in V1 lane 0.")
	a.F("%s alpha+40(FP), F0", fm)
	a.F("%s beta+%d(FP), F1", fm, 40+es)
	for i := range k.mr {
		for j := range k.nv {
			r := k.acc(i, j)
			a.Elem(arm64asm.OpFMUL, k.double, r, r, 0, 0)
		}
	}
	a.Comment("beta == 0 (either sign): C is written, never read, so NaN there does not propagate.")
	a.F("%s $(0.0), F1", map[bool]string{false: "FCMPS", true: "FCMPD"}[k.double])
	a.F("BEQ store")
	a.Comment("C = alpha·AB + beta·C, the beta product fused into the add, a row at a time.")
	for i := range k.mr {
		a.F("VLD1 (R3), %s", arm64asm.VList(2, k.nv, k.arr()))
		for j := range k.nv {
			a.Elem(arm64asm.OpFMLA, k.double, k.acc(i, j), 2+j, 1, 0)
		}
		a.F("VST1 %s, (R3)", arm64asm.VList(k.acc(i, 0), k.nv, k.arr()))
		if i < k.mr-1 {
			a.F("ADD R4, R3, R3")
		}
	}
	a.F("RET")
	a.Label("store")
	for i := range k.mr {
		a.F("VST1 %s, (R3)", arm64asm.VList(k.acc(i, 0), k.nv, k.arr()))
		if i < k.mr-1 {
			a.F("ADD R4, R3, R3")
		}
	}
	a.F("RET")
	a.End()
}

// peak emits an FMA throughput probe: n iterations of 24 independent vector
// FMLA chains on zeroed registers, the kernels' FMA count per k step.
func peak(a *arm64asm.File, name, arr string) {
	a.Func(name, "(n int)", 8, "", "")
	a.F("MOVD n+0(FP), R0")
	for r := 0; r < 32; r++ {
		a.F("VEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	a.F("CBZ R0, done")
	a.Label("loop")
	for r := 8; r < 32; r++ {
		a.F("VFMLA V0.%s, V1.%s, V%d.%s", arr, arr, r, arr)
	}
	a.F("SUBS $1, R0, R0")
	a.F("BNE loop")
	a.Label("done")
	a.F("RET")
	a.End()
}

// kernelDoc is the Go code every microkernel is equivalent to.
const kernelDoc = `
// The NEON microkernels. For an MR×NR tile, with k >= 1, a packed as k
// groups of MR values and b as k groups of NR values, each is equivalent to
//
//	func kernel(k int, a, b, c []T, ldc int, alpha, beta T) {
//		for i := range MR {
//			for j := range NR {
//				var s T
//				for p := range k {
//					s += a[p*MR+i] * b[p*NR+j]
//				}
//				if beta == 0 {
//					c[i*ldc+j] = alpha * s // C is not read
//				} else {
//					c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
//				}
//			}
//		}
//	}
//
// up to rounding: the sum is accumulated with fused multiply-adds and
// beta·C is fused into the final add. c must point to a full tile; the
// caller handles edges and k == 0.
`

// peakDoc is the Go code the FMA throughput probes are equivalent to.
const peakDoc = `
// FMA throughput probes for the kernel benchmarks: n iterations of 24
// independent vector FMLA chains (.4s, .2d) on zero registers,
//
//	for range n {
//		for i := range 24 {
//			acc[i] += x * y // one FMLA of a full vector
//		}
//	}
`

func main() {
	out := flag.String("out", "gemm_arm64.s", "assembly output file")
	declOut := flag.String("decl", "gemm_arm64.go", "Go prototypes output file")
	pkg := flag.String("pkg", "gemm", "package name")
	flag.Parse()
	a := arm64asm.New("./gemm/arm64", *pkg, "arm64 && gc && !purego")
	a.DeclText(kernelDoc)
	for _, k := range kernels {
		k.gen(a)
	}
	a.DeclText(peakDoc)
	peak(a, "fmaPeakNEONS", "S4")
	peak(a, "fmaPeakNEOND", "D2")
	if err := a.Write(*out, *declOut); err != nil {
		log.Fatal(err)
	}
}
