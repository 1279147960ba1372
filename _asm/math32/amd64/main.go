// Command amd64 generates internal/math32's amd64 kernels and their Go
// prototypes with avo (go generate in internal/math32 runs it; see
// slice_amd64.go). Each kernel has the Go prototype
// func(dst, src *float32, n int) and processes n elements, n a multiple of
// the vector width; the Go side handles the tail. The algorithms
// are those of the scalar Go code in math32.go (same constants, same range
// reduction), with fused multiply-adds, so results may differ from the
// scalar code in the last bit but stay within the documented ulp bounds.
package main

import (
	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	"github.com/adjoint-go/adjoint/_asm/internal/m32const"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// constants are shared with the arm64 generator.
var constants = m32const.List

var (
	table Mem
	index = map[string]int{}
)

// c returns the memory operand of a constant, replicated across 64 bytes so
// the same table serves ymm and zmm operands.
func c(name string) Mem {
	i, ok := index[name]
	if !ok {
		panic("unknown constant " + name)
	}
	return table.Offset(64 * i)
}

type isa struct {
	suffix string
	width  int
	vec    func() VecVirtual
	avx512 bool
}

var (
	avx2   = isa{"AVX2", 8, YMM, false}
	avx512 = isa{"AVX512", 16, ZMM, true}
)

func main() {
	avoutil.Start()
	table = GLOBL("m32consts", RODATA|NOPTR)
	for i, k := range constants {
		index[k.Name] = i
		for j := 0; j < 16; j++ {
			DATA(64*i+4*j, U32(k.Bits))
		}
	}
	for _, is := range []isa{avx512, avx2} {
		kernel("exp", is, expCore, expConsts...)
		kernel("tanh", is, tanhCore, append(expConsts, "two", "absMask", "signMask", "tanhSmall", "t0", "t1", "t2", "t3", "t4")...)
		kernel("sigmoid", is, sigmoidCore, append(expConsts, "zero", "signMask")...)
		kernel("log", is, logCore, "ln2Hi", "ln2Lo", "one", "two", "zero", "bias", "minNormal", "two23", "minus23",
			"mantShift", "mantMask", "sqrtHalfBits", "half", "l0", "l1", "l2", "inf", "negInf", "nan")
	}
	geluKernel()
	rowKernels()
	Generate()
}

// expConsts are the constants expCore reads.
var expConsts = []string{"expMin", "expMax", "log2e", "magic", "ln2Hi", "ln2Lo", "e0", "e1", "e2", "e3", "e4", "one"}

// hoisted holds, while an AVX-512 kernel is generated, the registers its
// constants were broadcast into before the loop.
var hoisted map[string]VecVirtual

// kernel emits one loop: load a vector of src, apply body, store to dst.
// The AVX-512 kernels first broadcast consts, every constant body reads
// (cv panics on one missing), into registers of their own: there are 32,
// and loading them in the loop cost a load per use.
func kernel(name string, is isa, body func(isa, VecVirtual) VecVirtual, consts ...string) {
	fn := name + is.suffix
	avoutil.TEXT(fn, "func(dst, src *float32, n int)")
	Doc(fn+" sets dst[i] = "+name+"(src[i]) for i < n; n must be a multiple of", itoa(is.width)+".")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	hoisted = nil
	if is.avx512 {
		hoisted = map[string]VecVirtual{}
		for _, k := range consts {
			r := is.vec()
			VBROADCASTSS(c(k), r)
			hoisted[k] = r
		}
	}
	Label(fn + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(fn + "_done"))
	x := is.vec()
	VMOVUPS(Mem{Base: src}, x)
	out := body(is, x)
	VMOVUPS(out, Mem{Base: dst})
	ADDQ(U32(4*is.width), src)
	ADDQ(U32(4*is.width), dst)
	SUBQ(U32(is.width), n)
	JMP(LabelRef(fn + "_loop"))
	Label(fn + "_done")
	VZEROUPPER()
	RET()
}

func itoa(n int) string {
	if n >= 10 {
		return itoa(n/10) + string(rune('0'+n%10))
	}
	return string(rune('0' + n))
}

// load returns a register holding constant name.
func load(is isa, name string) VecVirtual {
	r := is.vec()
	if is.avx512 {
		VMOVAPS(constReg(name), r)
	} else {
		VMOVUPS(c(name), r)
	}
	return r
}

// constReg is the register an AVX-512 kernel's constant name was
// broadcast into before its loop.
func constReg(name string) VecVirtual {
	r, ok := hoisted[name]
	if !ok {
		panic("constant " + name + " is not in the kernel's list")
	}
	return r
}

// cv is constant name as a source operand: the table entry itself for
// AVX2, and for AVX-512 the register it was broadcast into from the
// entry's first 4 bytes. The linker aligns the table to 32 bytes only, and
// where it lands 32 bytes past a cache line every 64-byte operand is a
// split load: that halved expAVX512 in some binaries (3.3 against 6.6
// Gelem/s, one thread, BenchmarkElementwise exp 1M, the same code linked
// at two addresses).
func cv(is isa, name string) Op {
	if is.avx512 {
		return constReg(name)
	}
	return c(name)
}

// expCore returns a new register with e^x (x unchanged).
func expCore(is isa, x VecVirtual) VecVirtual {
	Comment("exp: clamp (NaN passes: VMAXPS/VMINPS return their last Go operand on NaN)")
	xc := load(is, "expMin")
	VMAXPS(x, xc, xc)
	hi := load(is, "expMax")
	VMINPS(xc, hi, xc)
	Comment("t = x*log2e + 1.5*2^23 rounds n = round(x/ln2) into the low bits; nf = float(n)")
	t := load(is, "log2e")
	VFMADD213PS(cv(is, "magic"), xc, t)
	nf := is.vec()
	VSUBPS(cv(is, "magic"), t, nf)
	Comment("r = x - nf*ln2, Cody-Waite in two parts")
	r := is.vec()
	VMOVAPS(xc, r)
	VFNMADD231PS(cv(is, "ln2Hi"), nf, r)
	VFNMADD231PS(cv(is, "ln2Lo"), nf, r)
	Comment("p = 1 + r + r^2*(e0 + r*(e1 + r*(e2 + r*(e3 + r*e4))))")
	p := load(is, "e4")
	for _, k := range []string{"e3", "e2", "e1", "e0"} {
		VFMADD213PS(cv(is, k), r, p)
	}
	r2 := is.vec()
	VMULPS(r, r, r2)
	VFMADD213PS(r, r2, p)
	VADDPS(cv(is, "one"), p, p)
	if is.avx512 {
		Comment("p *= 2^nf with one rounding, overflow and gradual underflow included")
		VSCALEFPS(nf, p, p)
		return p
	}
	Comment("p *= 2^n1 * 2^n2, n1 = n>>1, n2 = n-n1: both factors normal, one rounding at the end")
	n := is.vec()
	VPSUBD(cv(is, "magic"), t, n)
	n1 := is.vec()
	VPSRAD(U8(1), n, n1)
	VPSUBD(n1, n, n)
	VPADDD(cv(is, "bias"), n1, n1)
	VPSLLD(U8(23), n1, n1)
	VPADDD(cv(is, "bias"), n, n)
	VPSLLD(U8(23), n, n)
	VMULPS(n1, p, p)
	VMULPS(n, p, p)
	return p
}

// tanhCore: odd polynomial below tanhSmall, 1 - 2/(e^2|x| + 1) with x's sign
// above it.
func tanhCore(is isa, x VecVirtual) VecVirtual {
	a := is.vec()
	VANDPS(cv(is, "absMask"), x, a)
	y := is.vec()
	VADDPS(a, a, y)
	e := expCore(is, y)
	Comment("tanh, large |x|: 1 - 2/(e+1)")
	VADDPS(cv(is, "one"), e, e)
	q := load(is, "two")
	VDIVPS(e, q, q)
	big := load(is, "one")
	VSUBPS(q, big, big)
	Comment("tanh, small |x|: x + x^3*(t0 + z*(t1 + z*(t2 + z*(t3 + z*t4)))), z = x^2")
	z := is.vec()
	VMULPS(x, x, z)
	p := load(is, "t4")
	for _, k := range []string{"t3", "t2", "t1", "t0"} {
		VFMADD213PS(cv(is, k), z, p)
	}
	VMULPS(x, z, z)
	VFMADD213PS(x, z, p)
	Comment("select on |x| < tanhSmall (false for NaN, which the large branch propagates)")
	if is.avx512 {
		k := K()
		VCMPPS(U8(1), cv(is, "tanhSmall"), a, k) // LT_OS
		VMOVAPS(p, k, big)
	} else {
		m := is.vec()
		VCMPPS(U8(1), cv(is, "tanhSmall"), a, m)
		VBLENDVPS(m, p, big, big)
	}
	Comment("copy x's sign in: the large branch computed |tanh x|, the small one gives +0 for x = -0")
	sgn := is.vec()
	VANDPS(cv(is, "signMask"), x, sgn)
	VORPS(sgn, big, big)
	return big
}

// sigmoidCore: e = e^-|x|; 1/(1+e) for x >= 0, e/(1+e) for x < 0.
func sigmoidCore(is isa, x VecVirtual) VecVirtual {
	na := is.vec()
	VORPS(cv(is, "signMask"), x, na)
	e := expCore(is, na)
	d := is.vec()
	VADDPS(cv(is, "one"), e, d)
	num := load(is, "one")
	if is.avx512 {
		k := K()
		VCMPPS(U8(1), cv(is, "zero"), x, k) // x < 0
		VMOVAPS(e, k, num)
	} else {
		// BLENDV selects on the sign bit of x; for -0 both choices are 1.
		VBLENDVPS(x, e, num, num)
	}
	VDIVPS(d, num, num)
	return num
}

// blend sets dst = src in the lanes where mask (a K register for AVX-512, a
// vector of all-ones lanes for AVX2) is set.
func blend(is isa, mask Op, src Op, dst VecVirtual) {
	if is.avx512 {
		VMOVAPS(src, mask, dst)
	} else {
		VBLENDVPS(mask, src, dst, dst)
	}
}

// cmp returns the mask of lanes where predicate(x, constant) holds.
func cmp(is isa, pred uint8, name string, x VecVirtual) Op {
	if is.avx512 {
		k := K()
		VCMPPS(U8(pred), cv(is, name), x, k)
		return k
	}
	m := is.vec()
	VCMPPS(U8(pred), cv(is, name), x, m)
	return m
}

// Comparison predicates.
const (
	cmpEQ  = 0 // EQ_OQ
	cmpLT  = 1 // LT_OS
	cmpNLT = 5 // NLT_US: true for NaN
)

// logCore: x = 2^k * m with m in [sqrt(1/2), sqrt(2)), f = m-1, s = f/(2+f),
// log x = k*ln2 + f - f^2/2 + s*(f^2/2 + R(s^2)); subnormals are scaled by
// 2^23 first; zero, negative, +Inf and NaN lanes are patched at the end.
func logCore(is isa, x VecVirtual) VecVirtual {
	Comment("log: scale subnormals (and the lanes patched later) by 2^23")
	sub := cmp(is, cmpLT, "minNormal", x)
	xs := is.vec()
	VMOVAPS(x, xs)
	scaled := is.vec()
	VMULPS(cv(is, "two23"), x, scaled)
	blend(is, sub, scaled, xs)
	adj := is.vec()
	if is.avx512 {
		VMOVUPS_Z(cv(is, "minus23"), sub, adj)
	} else {
		VANDPS(cv(is, "minus23"), sub, adj)
	}
	Comment("k = exponent after moving the mantissa boundary to sqrt(1/2); m in [sqrt(1/2), sqrt(2))")
	b := is.vec()
	VPADDD(cv(is, "mantShift"), xs, b)
	kf := is.vec()
	VPSRLD(U8(23), b, kf)
	VPSUBD(cv(is, "bias"), kf, kf)
	VCVTDQ2PS(kf, kf)
	VADDPS(adj, kf, kf)
	VPANDD_or_VPAND(is, cv(is, "mantMask"), b)
	VPADDD(cv(is, "sqrtHalfBits"), b, b)
	Comment("f = m-1, s = f/(2+f), z = s^2, hfsq = f^2/2, R = z*(l0 + z*(l1 + z*l2))")
	f := b
	VSUBPS(cv(is, "one"), f, f)
	s := load(is, "two")
	VADDPS(f, s, s)
	VDIVPS(s, f, s)
	z := is.vec()
	VMULPS(s, s, z)
	hfsq := is.vec()
	VMULPS(f, f, hfsq)
	VMULPS(cv(is, "half"), hfsq, hfsq)
	r := load(is, "l2")
	VFMADD213PS(cv(is, "l1"), z, r)
	VFMADD213PS(cv(is, "l0"), z, r)
	VMULPS(z, r, r)
	Comment("log = k*ln2Hi + (f - (hfsq - (s*(hfsq+R) + k*ln2Lo)))")
	VADDPS(hfsq, r, r)
	v := is.vec()
	VMULPS(cv(is, "ln2Lo"), kf, v)
	VFMADD231PS(s, r, v)
	VSUBPS(v, hfsq, hfsq)
	VSUBPS(hfsq, f, f)
	VFMADD231PS(cv(is, "ln2Hi"), kf, f)
	Comment("+Inf and NaN give x, x < 0 gives NaN, ±0 gives -Inf")
	blend(is, cmp(is, cmpNLT, "inf", x), x, f)
	nan := load(is, "nan")
	blend(is, cmp(is, cmpLT, "zero", x), nan, f)
	ninf := load(is, "negInf")
	blend(is, cmp(is, cmpEQ, "zero", x), ninf, f)
	return f
}

// VPANDD_or_VPAND ands a constant into dst: VPANDD on zmm, VPAND on ymm.
func VPANDD_or_VPAND(is isa, m Op, dst VecVirtual) {
	if is.avx512 {
		VPANDD(m, dst, dst)
	} else {
		VPAND(m, dst, dst)
	}
}
