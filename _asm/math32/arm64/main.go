// Command arm64 generates internal/math32's NEON kernels (exp, tanh,
// sigmoid and log), kernels_arm64.s, and their Go prototypes,
// kernels_arm64_stubs.go, with the writer in internal/arm64asm (go generate
// in internal/math32 runs it; see slice_arm64.go).
//
// Each kernel has the Go prototype func(dst, src *float32, n int) and
// processes n elements, n a multiple of 4 (one vector per iteration); the
// Go side handles the tail. The algorithms, constants and the order of
// every fused multiply-add are those of the amd64 AVX2 kernels (the same
// range reduction, the same polynomials, the two-factor 2^n scaling), so
// they meet the same ulp bounds that the accuracy tests hold every kernel
// to. Go's assembler has vector FMLA and FMLS but no vector FADD, FMUL,
// FDIV, FMAX, compares, SCVTF or SSHR; those are WORDs encoded by
// arm64asm.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/adjoint-go/adjoint/_asm/internal/arm64asm"
	"github.com/adjoint-go/adjoint/_asm/internal/m32const"
)

const table = "m32constsneon<>"

var (
	a     *arm64asm.File
	index = map[string]int{}
)

// ld loads constant name, replicated in 16 bytes of the table, into Vr.
func ld(name string, r int) {
	i, ok := index[name]
	if !ok {
		panic("unknown constant " + name)
	}
	a.F("FMOVQ %d(R4), F%d // %s", 16*i, r, name)
}

func v(o arm64asm.VecOp, d, n, m int) { a.V(o, false, d, n, m) }

// mov copies Vs to Vd.
func mov(d, s int) { a.F("VORR V%d.B16, V%d.B16, V%d.B16", s, s, d) }

// fmaConst sets Vt = c + Vp·Vr with one rounding (x86's VFMADD213PS(c, r,
// p)) and returns t: FMLA accumulates into its destination, so the
// constant is loaded there.
func fmaConst(c string, p, r, t int) int {
	ld(c, t)
	a.F("VFMLA V%d.S4, V%d.S4, V%d.S4", r, p, t)
	return t
}

// expCore sets Vout = e^Vin, using V2..V9 as scratch (in and out outside
// them; in may be clobbered only if it is one of them).
func expCore(in, out int) {
	a.Comment("exp: clamp to [expMin, expMax] (FMAX and FMIN propagate NaN)")
	ld("expMin", 2)
	v(arm64asm.FMAX, 2, in, 2)
	ld("expMax", 3)
	v(arm64asm.FMIN, 2, 2, 3)
	a.Comment("t = x*log2e + 1.5*2^23 rounds n = round(x/ln2) into the low bits; nf = float(n)")
	ld("magic", 3)
	ld("log2e", 4)
	a.F("VFMLA V4.S4, V2.S4, V3.S4")
	ld("magic", 5)
	v(arm64asm.FSUB, 4, 3, 5)
	a.Comment("r = x - nf*ln2, Cody-Waite in two parts")
	mov(5, 2)
	ld("ln2Hi", 6)
	a.F("VFMLS V6.S4, V4.S4, V5.S4")
	ld("ln2Lo", 6)
	a.F("VFMLS V6.S4, V4.S4, V5.S4")
	a.Comment("p = 1 + r + r^2*(e0 + r*(e1 + r*(e2 + r*(e3 + r*e4))))")
	ld("e4", 6)
	p, q := 6, 7
	for _, k := range []string{"e3", "e2", "e1", "e0"} {
		p, q = fmaConst(k, p, 5, q), p
	}
	r2 := q
	v(arm64asm.FMUL, r2, 5, 5)
	mov(8, 5)
	a.F("VFMLA V%d.S4, V%d.S4, V8.S4", r2, p)
	p = 8
	ld("one", 9)
	v(arm64asm.FADD, p, p, 9)
	a.Comment("p *= 2^n1 * 2^n2, n1 = n>>1, n2 = n-n1: both factors normal, one rounding at the end")
	ld("magic", 9)
	a.F("VSUB V9.S4, V3.S4, V3.S4") // n = t - magic, as integers
	a.Sshr(false, 4, 3, 1)          // n1
	a.F("VSUB V4.S4, V3.S4, V3.S4") // n2 = n - n1
	ld("bias", 9)
	a.F("VADD V9.S4, V4.S4, V4.S4")
	a.F("VSHL $23, V4.S4, V4.S4")
	a.F("VADD V9.S4, V3.S4, V3.S4")
	a.F("VSHL $23, V3.S4, V3.S4")
	v(arm64asm.FMUL, p, p, 4)
	v(arm64asm.FMUL, out, p, 3)
}

// tanhCore sets V15 = tanh(V0): odd polynomial below tanhSmall,
// 1 - 2/(e^2|x| + 1) with x's sign above it.
func tanhCore() int {
	ld("absMask", 11)
	a.F("VAND V11.B16, V0.B16, V10.B16") // a = |x|
	v(arm64asm.FADD, 12, 10, 10)         // y = 2|x|
	expCore(12, 13)
	a.Comment("tanh, large |x|: 1 - 2/(e+1)")
	ld("one", 2)
	v(arm64asm.FADD, 13, 13, 2)
	ld("two", 2)
	v(arm64asm.FDIV, 2, 2, 13)
	ld("one", 3)
	v(arm64asm.FSUB, 15, 3, 2) // big
	a.Comment("tanh, small |x|: x + x^3*(t0 + z*(t1 + z*(t2 + z*(t3 + z*t4)))), z = x^2")
	v(arm64asm.FMUL, 4, 0, 0) // z
	ld("t4", 5)
	p, q := 5, 6
	for _, k := range []string{"t3", "t2", "t1", "t0"} {
		p, q = fmaConst(k, p, 4, q), p
	}
	v(arm64asm.FMUL, 4, 4, 0) // z = x^3
	mov(7, 0)
	a.F("VFMLA V4.S4, V%d.S4, V7.S4", p) // p = p*z + x
	a.Comment("select on |x| < tanhSmall (false for NaN, which the large branch propagates)")
	ld("tanhSmall", 8)
	v(arm64asm.FCMGT, 8, 8, 10)
	a.F("VBIT V8.B16, V7.B16, V15.B16")
	a.Comment("copy x's sign in: the large branch computed |tanh x|, the small one gives +0 for x = -0")
	ld("signMask", 9)
	a.F("VAND V9.B16, V0.B16, V9.B16")
	a.F("VORR V9.B16, V15.B16, V15.B16")
	return 15
}

// sigmoidCore sets V12 = sigmoid(V0): e = e^-|x|; 1/(1+e) for x >= 0,
// e/(1+e) for x < 0 (chosen on the sign bit: for -0 both are 1).
func sigmoidCore() int {
	ld("signMask", 11)
	a.F("VORR V11.B16, V0.B16, V10.B16") // -|x|
	expCore(10, 13)
	ld("one", 2)
	v(arm64asm.FADD, 11, 13, 2) // d = 1 + e
	ld("one", 12)
	v(arm64asm.CMLTZ, 14, 0, 0)
	a.F("VBIT V14.B16, V13.B16, V12.B16")
	v(arm64asm.FDIV, 12, 12, 11)
	return 12
}

// logCore sets V6 = log(V0): x = 2^k * m with m in [sqrt(1/2), sqrt(2)),
// f = m-1, s = f/(2+f), log x = k*ln2 + f - f^2/2 + s*(f^2/2 + R(s^2));
// subnormals are scaled by 2^23 first; zero, negative, +Inf and NaN lanes
// are patched at the end, as in the amd64 kernels.
func logCore() int {
	a.Comment("log: scale subnormals (and the lanes patched later) by 2^23")
	ld("minNormal", 2)
	v(arm64asm.FCMGT, 2, 2, 0) // sub = x < minNormal
	mov(3, 0)
	ld("two23", 4)
	v(arm64asm.FMUL, 4, 0, 4)
	a.F("VBIT V2.B16, V4.B16, V3.B16") // xs = sub ? x*2^23 : x
	ld("minus23", 5)
	a.F("VAND V2.B16, V5.B16, V5.B16") // adj = sub ? -23 : 0
	a.Comment("k = exponent after moving the mantissa boundary to sqrt(1/2); m in [sqrt(1/2), sqrt(2))")
	ld("mantShift", 6)
	a.F("VADD V6.S4, V3.S4, V6.S4") // b
	a.F("VUSHR $23, V6.S4, V7.S4")
	ld("bias", 8)
	a.F("VSUB V8.S4, V7.S4, V7.S4")
	v(arm64asm.SCVTF, 7, 7, 0)
	v(arm64asm.FADD, 7, 7, 5) // kf
	ld("mantMask", 8)
	a.F("VAND V8.B16, V6.B16, V6.B16")
	ld("sqrtHalfBits", 8)
	a.F("VADD V8.S4, V6.S4, V6.S4")
	a.Comment("f = m-1, s = f/(2+f), z = s^2, hfsq = f^2/2, R = z*(l0 + z*(l1 + z*l2))")
	ld("one", 8)
	v(arm64asm.FSUB, 6, 6, 8) // f
	ld("two", 9)
	v(arm64asm.FADD, 9, 9, 6)
	v(arm64asm.FDIV, 9, 6, 9)  // s
	v(arm64asm.FMUL, 10, 9, 9) // z
	v(arm64asm.FMUL, 11, 6, 6)
	ld("half", 8)
	v(arm64asm.FMUL, 11, 11, 8) // hfsq
	ld("l2", 12)
	r := fmaConst("l1", 12, 10, 13)
	r = fmaConst("l0", r, 10, 12)
	v(arm64asm.FMUL, r, 10, r) // R
	a.Comment("log = k*ln2Hi + (f - (hfsq - (s*(hfsq+R) + k*ln2Lo)))")
	v(arm64asm.FADD, r, r, 11)
	ld("ln2Lo", 13)
	v(arm64asm.FMUL, 13, 7, 13)
	a.F("VFMLA V%d.S4, V9.S4, V13.S4", r)
	v(arm64asm.FSUB, 11, 11, 13)
	v(arm64asm.FSUB, 6, 6, 11)
	ld("ln2Hi", 14)
	a.F("VFMLA V14.S4, V7.S4, V6.S4")
	a.Comment("+Inf and NaN give x, x < 0 gives NaN, ±0 gives -Inf")
	ld("inf", 2)
	v(arm64asm.FCMGT, 2, 2, 0)         // x < +Inf (false for +Inf and NaN)
	a.F("VBIF V2.B16, V0.B16, V6.B16") // else x
	ld("zero", 3)
	v(arm64asm.FCMGT, 3, 3, 0) // x < 0
	ld("nan", 4)
	a.F("VBIT V3.B16, V4.B16, V6.B16")
	v(arm64asm.FCMEQZ, 5, 0, 0) // x == ±0
	ld("negInf", 4)
	a.F("VBIT V5.B16, V4.B16, V6.B16")
	return 6
}

// kernel emits one loop: load a vector of src, apply body, store to dst.
func kernel(name string, body func() int) {
	fn := name + "NEON"
	a.Func(fn, "(dst, src *float32, n int)", 24,
		fmt.Sprintf("%s sets dst[i] = %s(src[i]) for i < n; n must be a multiple of 4.", fn, name), "")
	a.F("MOVD dst+0(FP), R0")
	a.F("MOVD src+8(FP), R1")
	a.F("MOVD n+16(FP), R2")
	a.F("MOVD $%s(SB), R4", table)
	a.F("CBZ R2, done")
	a.Label("loop")
	a.F("VLD1.P 16(R1), [V0.S4]")
	out := body()
	a.F("VST1.P [V%d.S4], 16(R0)", out)
	a.F("SUBS $4, R2, R2")
	a.F("BNE loop")
	a.Label("done")
	a.F("RET")
	a.End()
}

func main() {
	out := flag.String("out", "kernels_arm64.s", "assembly output file")
	declOut := flag.String("decl", "kernels_arm64_stubs.go", "Go prototypes output file")
	pkg := flag.String("pkg", "math32", "package name")
	flag.Parse()
	a = arm64asm.New("./math32/arm64", *pkg, "arm64 && gc && !purego")
	a.Comment("The constants, each replicated across a 16-byte vector.")
	for i, k := range m32const.List {
		index[k.Name] = i
		for j := range 4 {
			a.Text(fmt.Sprintf("DATA %s+%d(SB)/4, $0x%08x\n", table, 16*i+4*j, k.Bits))
		}
	}
	a.Text(fmt.Sprintf("GLOBL %s(SB), RODATA|NOPTR, $%d\n\n", table, 16*len(m32const.List)))
	kernel("exp", func() int { expCore(0, 1); return 1 })
	kernel("tanh", tanhCore)
	kernel("sigmoid", sigmoidCore)
	kernel("log", logCore)
	if err := a.Write(*out, *declOut); err != nil {
		log.Fatal(err)
	}
}
