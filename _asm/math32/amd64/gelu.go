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
	// 16 a step as four halves (their latency chains interleaved: one
	// pair alone left the FMA pipes idle, bound by the chain of the
	// division and two Horner polynomials), then a last 8 as one pair.
	Label(fn + "_loop16")
	CMPQ(n, U8(16))
	JL(LabelRef(fn + "_tail8"))
	geluQuad(src, dst)
	ADDQ(U32(64), src)
	ADDQ(U32(64), dst)
	SUBQ(U32(16), n)
	JMP(LabelRef(fn + "_loop16"))
	Label(fn + "_tail8")
	TESTQ(n, n)
	JZ(LabelRef(fn + "_done"))
	geluPair(src, dst)
	Label(fn + "_done")
	VZEROUPPER()
	RET()
}

// geluPair computes 8 results, src → dst, as two halves of 4 float64
// lanes side by side: each constant is loaded into a register once and
// used by both halves (loads of constants, two per FMA's memory operand
// otherwise, were what limited the one-half-at-a-time kernel).
func geluPair(src, dst Register) {
	var x, t, p [2]VecVirtual
	c := func(name string) VecVirtual {
		r := YMM()
		VMOVUPD(g(name), r)
		return r
	}
	Comment("x in float64; t = 1/(1 + |x|·(1/(2√2)))")
	for h := range 2 {
		x[h], t[h] = YMM(), YMM()
		VCVTPS2PD(Mem{Base: src, Disp: 16 * h}, x[h])
		VANDPD(g("absMask"), x[h], t[h])
	}
	one, hs := c("one"), c("halfInvSqrt2")
	for h := range 2 {
		d := YMM()
		VMOVAPD(one, d)
		VFMADD231PD(hs, t[h], d)
		VDIVPD(d, one, t[h])
	}
	Comment("a = max(P(t) - x²/2, -708), P by Horner")
	k9 := c("p9")
	for h := range 2 {
		p[h] = YMM()
		VMOVAPD(k9, p[h])
	}
	for k := 8; k >= 0; k-- {
		ck := c("p" + itoa(k))
		for h := range 2 {
			VFMADD213PD(ck, t[h], p[h])
		}
	}
	half, lo := c("half"), c("expMin")
	for h := range 2 {
		z2 := YMM()
		VMULPD(x[h], x[h], z2)
		VFNMADD231PD(half, z2, p[h])
		VMAXPD(lo, p[h], p[h])
	}
	Comment("e^a: k = round(a/ln2) by the magic constant, r = a - k·ln2")
	var kt [2]VecVirtual
	l2e, mg := c("log2e"), c("magic")
	for h := range 2 {
		kt[h] = YMM()
		VMOVAPD(l2e, kt[h])
		VFMADD213PD(mg, p[h], kt[h])
		kf := YMM()
		VSUBPD(mg, kt[h], kf)
		VFNMADD231PD(g("ln2Hi"), kf, p[h])
		VFNMADD231PD(g("ln2Lo"), kf, p[h])
	}
	Comment("e^r, the degree-8 Taylor polynomial by Horner")
	var q [2]VecVirtual
	e8 := c("e8")
	for h := range 2 {
		q[h] = YMM()
		VMOVAPD(e8, q[h])
	}
	for k := 7; k >= 0; k-- {
		ck := c("e" + itoa(k))
		for h := range 2 {
			VFMADD213PD(ck, p[h], q[h])
		}
	}
	Comment("times 2^k, built in the exponent field; h = t·e^a/2; Φ = 1-h, or h where x's sign bit is set; y = x·Φ")
	bias := c("bias")
	for h := range 2 {
		VPSUBQ(mg, kt[h], kt[h])
		VPADDQ(bias, kt[h], kt[h])
		VPSLLQ(U8(52), kt[h], kt[h])
		VMULPD(kt[h], q[h], q[h])
		VMULPD(t[h], q[h], q[h])
		VMULPD(half, q[h], q[h])
		om := YMM()
		VSUBPD(q[h], one, om)
		VBLENDVPD(x[h], q[h], om, om)
		VMULPD(x[h], om, om)
		y := XMM()
		VCVTPD2PSY(om, y)
		VMOVUPS(y, Mem{Base: dst, Disp: 16 * h})
	}
}

// geluQuad computes 16 results, src → dst, as four halves of 4 float64
// lanes: geluPair's operations on each lane, in the same order (so the
// same bits), with constants from memory where registers run short (x is
// reloaded for the last step rather than kept).
func geluQuad(src, dst Register) {
	const nh = 4
	var x, t, p, kt, q [nh]VecVirtual
	c := func(name string) VecVirtual {
		r := YMM()
		VMOVUPD(g(name), r)
		return r
	}
	Comment("x in float64; t = 1/(1 + |x|·(1/(2√2)))")
	for h := range nh {
		x[h], t[h] = YMM(), YMM()
		VCVTPS2PD(Mem{Base: src, Disp: 16 * h}, x[h])
		VANDPD(g("absMask"), x[h], t[h])
	}
	one, hs := c("one"), c("halfInvSqrt2")
	for h := range nh {
		d := YMM()
		VMOVAPD(one, d)
		VFMADD231PD(hs, t[h], d)
		VDIVPD(d, one, t[h])
	}
	Comment("a = max(P(t) - x²/2, -708), P by Horner")
	k9 := c("p9")
	for h := range nh {
		p[h] = YMM()
		VMOVAPD(k9, p[h])
	}
	for k := 8; k >= 0; k-- {
		ck := c("p" + itoa(k))
		for h := range nh {
			VFMADD213PD(ck, t[h], p[h])
		}
	}
	for h := range nh {
		z2 := YMM()
		VMULPD(x[h], x[h], z2)
		VFNMADD231PD(g("half"), z2, p[h])
		VMAXPD(g("expMin"), p[h], p[h])
	}
	Comment("e^a: k = round(a/ln2) by the magic constant, r = a - k·ln2")
	l2e, mg := c("log2e"), c("magic")
	for h := range nh {
		kt[h] = YMM()
		VMOVAPD(l2e, kt[h])
		VFMADD213PD(mg, p[h], kt[h])
		kf := YMM()
		VSUBPD(mg, kt[h], kf)
		VFNMADD231PD(g("ln2Hi"), kf, p[h])
		VFNMADD231PD(g("ln2Lo"), kf, p[h])
	}
	Comment("e^r, the degree-8 Taylor polynomial by Horner")
	for h := range nh {
		q[h] = YMM()
		VMOVUPD(g("e8"), q[h])
	}
	for k := 7; k >= 0; k-- {
		for h := range nh {
			VFMADD213PD(g("e"+itoa(k)), p[h], q[h])
		}
	}
	Comment("times 2^k, built in the exponent field; h = t·e^a/2; Φ = 1-h, or h where x's sign bit is set; y = x·Φ")
	for h := range nh {
		VPSUBQ(g("magic"), kt[h], kt[h])
		VPADDQ(g("bias"), kt[h], kt[h])
		VPSLLQ(U8(52), kt[h], kt[h])
		VMULPD(kt[h], q[h], q[h])
		VMULPD(t[h], q[h], q[h])
		VMULPD(g("half"), q[h], q[h])
		om := YMM()
		VMOVUPD(g("one"), om)
		VSUBPD(q[h], om, om)
		xr := YMM()
		VCVTPS2PD(Mem{Base: src, Disp: 16 * h}, xr)
		VBLENDVPD(xr, q[h], om, om)
		VMULPD(xr, om, om)
		y := XMM()
		VCVTPD2PSY(om, y)
		VMOVUPS(y, Mem{Base: dst, Disp: 16 * h})
	}
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
