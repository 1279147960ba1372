package main

import (
	"math"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The exact GELU's float64 constants (internal/math32/gelu.go: keep in
// sync; its tests measure every kernel against math.Erfc), each replicated
// four times (32 bytes) for ymm operands.
var gelu64 = []struct {
	name string
	bits uint64
}{
	{"absMask", 0x7fffffffffffffff},
	{"one", b64(1)},
	{"half", b64(0.5)},
	{"halfInvSqrt2", b64(0.35355339059327373)},
	{"expMin", b64(-708)},
	{"log2e", b64(1 / math.Ln2)},
	{"magic", b64(6755399441055744)}, // 1.5·2^52
	{"ln2Hi", 0x3fe62e42fee00000},    // k·ln2Hi exact for |k| < 2^20
	{"ln2Lo", b64(math.Ln2 - math.Float64frombits(0x3fe62e42fee00000))},
	{"bias", 1023},
	{"p0", b64(-1.265448006591733)},
	{"p1", b64(0.998632954532302)},
	{"p2", b64(0.3866391833832013)},
	{"p3", b64(0.03460742792147017)},
	{"p4", b64(0.0012578628906115355)},
	{"p5", b64(-0.08026978742926955)},
	{"p6", b64(-0.6962551703448039)},
	{"p7", b64(1.1567287970637576)},
	{"p8", b64(-0.6808218474208099)},
	{"p9", b64(0.1449286328200341)},
}

func b64(x float64) uint64 { return math.Float64bits(x) }

var (
	geluTable Mem
	geluIndex = map[string]int{}
)

// g returns the memory operand of float64 constant name.
func g(name string) Mem {
	i, ok := geluIndex[name]
	if !ok {
		panic("unknown gelu constant " + name)
	}
	return geluTable.Offset(32 * i)
}

// geluKernel emits geluErfAVX2: x·Φ(x) for 8 float32 a step, each half
// widened to 4 float64 lanes and taken through math32.GeluErf's steps:
// t = 1/(1 + |x|/(2√2)), a = max(P(t) − x²/2, −708), h = ½·t·eᵃ,
// Φ = x < 0 ? h : 1 − h (on the sign bit), y = float32(x·Φ). eᵃ is
// 2ᵏ·e^r with k = round(a/ln2), r = a − k·ln2 (Cody-Waite, two parts) and
// e^r the degree-8 Taylor polynomial (|r| ≤ ln2/2: error below 3e-10).
func geluKernel() {
	geluTable = GLOBL("gelu64consts", RODATA|NOPTR)
	for i, k := range gelu64 {
		geluIndex[k.name] = i
		for j := 0; j < 4; j++ {
			DATA(32*i+8*j, U64(k.bits))
		}
	}
	fn := "geluErfAVX2"
	avoutil.TEXT(fn, "func(dst, src *float32, n int)")
	Doc(fn + " sets dst[i] = GeluErf(src[i]) for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	Label(fn + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(fn + "_done"))
	geluHalf(src, dst, 0)
	geluHalf(src, dst, 16)
	ADDQ(U32(32), src)
	ADDQ(U32(32), dst)
	SUBQ(U32(8), n)
	JMP(LabelRef(fn + "_loop"))
	Label(fn + "_done")
	VZEROUPPER()
	RET()
}

// geluHalf computes 4 results: src+off → dst+off.
func geluHalf(src, dst Register, off int) {
	Comment("x in float64; t = 1/(1 + |x|·(1/(2√2)))")
	x := YMM()
	VCVTPS2PD(Mem{Base: src, Disp: off}, x)
	t := YMM()
	VANDPD(g("absMask"), x, t)
	d := YMM()
	VMOVUPD(g("one"), d)
	VFMADD231PD(g("halfInvSqrt2"), t, d)
	VMOVUPD(g("one"), t)
	VDIVPD(d, t, t)
	Comment("a = max(P(t) - x²/2, -708)")
	// Estrin's scheme: pairs, then t², t⁴, t⁸ (half the dependent FMAs of Horner).
	t2 := YMM()
	VMULPD(t, t, t2)
	pair := func(lo int) VecVirtual {
		r := YMM()
		VMOVUPD(g("p"+itoa(lo+1)), r)
		VFMADD213PD(g("p"+itoa(lo)), t, r)
		return r
	}
	p01, p23, p45, p67, p89 := pair(0), pair(2), pair(4), pair(6), pair(8)
	VFMADD231PD(p23, t2, p01)
	VFMADD231PD(p67, t2, p45)
	t4 := YMM()
	VMULPD(t2, t2, t4)
	VFMADD231PD(p45, t4, p01)
	VMULPD(t4, t4, t4)
	VFMADD231PD(p89, t4, p01)
	p := p01
	z2 := YMM()
	VMULPD(x, x, z2)
	VFNMADD231PD(g("half"), z2, p)
	VMAXPD(g("expMin"), p, p)
	Comment("e^a: k = round(a/ln2) by the magic constant, r = a - k·ln2")
	kt := YMM()
	VMOVUPD(g("log2e"), kt)
	VFMADD213PD(g("magic"), p, kt)
	kf := YMM()
	VSUBPD(g("magic"), kt, kf)
	VFNMADD231PD(g("ln2Hi"), kf, p)
	VFNMADD231PD(g("ln2Lo"), kf, p)
	Comment("e^r, the degree-8 Taylor polynomial by Estrin's scheme")
	r2 := YMM()
	VMULPD(p, p, r2)
	epair := func(lo int) VecVirtual {
		r := YMM()
		VMOVUPD(g("e"+itoa(lo+1)), r)
		VFMADD213PD(g("e"+itoa(lo)), p, r)
		return r
	}
	q, e23, e45, e67 := epair(0), epair(2), epair(4), epair(6)
	VFMADD231PD(e23, r2, q)
	VFMADD231PD(e67, r2, e45)
	VMULPD(r2, r2, r2)
	VFMADD231PD(g("e8"), r2, e45)
	VFMADD231PD(e45, r2, q)
	Comment("times 2^k, built in the exponent field")
	VPSUBQ(g("magic"), kt, kt)
	VPADDQ(g("bias"), kt, kt)
	VPSLLQ(U8(52), kt, kt)
	VMULPD(kt, q, q)
	Comment("h = t·e^a/2; Φ = 1-h, or h where x's sign bit is set; y = x·Φ")
	VMULPD(t, q, q)
	VMULPD(g("half"), q, q)
	om := YMM()
	VMOVUPD(g("one"), om)
	VSUBPD(q, om, om)
	VBLENDVPD(x, q, om, om)
	VMULPD(x, om, om)
	y := XMM()
	VCVTPD2PSY(om, y)
	VMOVUPS(y, Mem{Base: dst, Disp: off})
}

func init() {
	f := 1.0
	for k := 0; k <= 8; k++ {
		if k > 0 {
			f *= float64(k)
		}
		gelu64 = append(gelu64, struct {
			name string
			bits uint64
		}{"e" + itoa(k), b64(1 / f)})
	}
}
