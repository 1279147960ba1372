package main

import (
	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Row kernels for softmax and LayerNorm (internal/math32/rows.go): AVX2
// only, also run at the AVX-512 level. Each takes n, a multiple of 8 and at
// least 8, and keeps two accumulators of 8 lanes (16 elements a step, the
// last odd 8 into the first), then adds them lane by lane and reduces the
// 8 lanes as (l + l+4), then (l + l+2), then (0 + 1): the order
// rows.go's portable loops follow, so both give the same bits.
func rowKernels() {
	reduction("max", "func(x *float32, n int) float32",
		"returns the largest of x[i], i < n (NaN if any is NaN)", maxBody)
	reduction("sum", "func(x *float32, n int) float32",
		"returns the sum of x[i], i < n, in rows.go's order", sumBody)
	reduction("sumSqDiff", "func(x *float32, n int, c float32) float32",
		"returns the sum of (x[i]-c)², i < n, in rows.go's order", sqDiffBody)
	reduction("expShiftSum", "func(dst, src *float32, n int, shift float32) float32",
		"sets dst[i] = exp(src[i]-shift), i < n, and returns their sum in rows.go's order", expShiftBody)
	normAffine()
	scale()
}

// rowState is what a reduction body sees: the pointers and broadcast scalars.
type rowState struct {
	x, dst Register
	c      VecVirtual // broadcast scalar argument (c or shift), if any
	nanAcc VecVirtual // max: lanes that met a NaN
}

// reduction emits one two-accumulator loop; body returns the vector to
// accumulate for the 8 elements at byte offset off (and may store).
func reduction(name, sig, doc string, body func(st *rowState, acc VecVirtual, off int)) {
	fn := name + "AVX2"
	avoutil.TEXT(fn, sig)
	Doc(fn + " " + doc + "; n must be a positive multiple of 8.")
	st := &rowState{}
	if name == "expShiftSum" {
		st.dst = Load(Param("dst"), GP64())
		st.x = Load(Param("src"), GP64())
	} else {
		st.x = Load(Param("x"), GP64())
	}
	n := Load(Param("n"), GP64())
	switch name {
	case "sumSqDiff":
		s := Load(Param("c"), XMM())
		st.c = YMM()
		VBROADCASTSS(s, st.c)
	case "expShiftSum":
		s := Load(Param("shift"), XMM())
		st.c = YMM()
		VBROADCASTSS(s, st.c)
	}
	acc0, acc1 := YMM(), YMM()
	if name == "max" {
		VMOVUPS(Mem{Base: st.x}, acc0)
		VMOVAPS(acc0, acc1)
		st.nanAcc = YMM()
		VXORPS(st.nanAcc, st.nanAcc, st.nanAcc)
	} else {
		VXORPS(acc0, acc0, acc0)
		VXORPS(acc1, acc1, acc1)
	}
	if name == "expShiftSum" {
		// 32 a step (the exponentials' chains overlap), the accumulators
		// taking the same elements in the same order as two 16-steps.
		Label(fn + "_loop32")
		CMPQ(n, U8(32))
		JL(LabelRef(fn + "_loop16"))
		for i, acc := range []VecVirtual{acc0, acc1, acc0, acc1} {
			body(st, acc, 32*i)
		}
		ADDQ(U8(128), st.x)
		ADDQ(U8(128), st.dst)
		SUBQ(U8(32), n)
		JMP(LabelRef(fn + "_loop32"))
	}
	Label(fn + "_loop16")
	CMPQ(n, U8(16))
	JL(LabelRef(fn + "_tail8"))
	body(st, acc0, 0)
	body(st, acc1, 32)
	ADDQ(U8(64), st.x)
	if st.dst != nil {
		ADDQ(U8(64), st.dst)
	}
	SUBQ(U8(16), n)
	JMP(LabelRef(fn + "_loop16"))
	Label(fn + "_tail8")
	TESTQ(n, n)
	JZ(LabelRef(fn + "_reduce"))
	body(st, acc0, 0)
	Label(fn + "_reduce")
	hi := XMM()
	t := XMM()
	if name == "max" {
		VMAXPS(acc1, acc0, acc0)
		VEXTRACTF128(U8(1), acc0, hi)
		VMAXPS(hi, acc0.AsX(), hi)
		VMOVHLPS(hi, hi, t)
		VMAXPS(t, hi, hi)
		VMOVSHDUP(hi, t)
		VMAXSS(t, hi, hi)
		Comment("any NaN lane: return NaN")
		m := GP32()
		VMOVMSKPS(st.nanAcc, m)
		TESTL(m, m)
		JZ(LabelRef(fn + "_ret"))
		VMOVSS(c("nan"), hi)
	} else {
		VADDPS(acc1, acc0, acc0)
		VEXTRACTF128(U8(1), acc0, hi)
		VADDPS(hi, acc0.AsX(), hi)
		VMOVHLPS(hi, hi, t)
		VADDPS(t, hi, hi)
		VMOVSHDUP(hi, t)
		VADDSS(t, hi, hi)
	}
	Label(fn + "_ret")
	VZEROUPPER()
	Store(hi, ReturnIndex(0))
	RET()
}

func maxBody(st *rowState, acc VecVirtual, off int) {
	v := YMM()
	VMOVUPS(Mem{Base: st.x, Disp: off}, v)
	u := YMM()
	VCMPPS(U8(3), v, v, u) // UNORD_Q: NaN lanes
	VORPS(u, st.nanAcc, st.nanAcc)
	VMAXPS(v, acc, acc)
}

func sumBody(st *rowState, acc VecVirtual, off int) {
	VADDPS(Mem{Base: st.x, Disp: off}, acc, acc)
}

// sqDiffBody: d = x - c; acc += d·d, a multiply and an add (no FMA), as the
// portable loop.
func sqDiffBody(st *rowState, acc VecVirtual, off int) {
	d := YMM()
	VMOVUPS(Mem{Base: st.x, Disp: off}, d)
	VSUBPS(st.c, d, d)
	VMULPS(d, d, d)
	VADDPS(d, acc, acc)
}

func expShiftBody(st *rowState, acc VecVirtual, off int) {
	x := YMM()
	VMOVUPS(Mem{Base: st.x, Disp: off}, x)
	VSUBPS(st.c, x, x)
	e := expCore(avx2, x)
	VMOVUPS(e, Mem{Base: st.dst, Disp: off})
	VADDPS(e, acc, acc)
}

// normAffine emits normAffineAVX2: dst[i] = ((x[i]-mu)·inv)·s[i] + b[i],
// without FMA (the portable loop's roundings).
func normAffine() {
	fn := "normAffineAVX2"
	avoutil.TEXT(fn, "func(dst, x, s, b *float32, n int, mu, inv float32)")
	Doc(fn + " sets dst[i] = ((x[i]-mu)*inv)*s[i] + b[i] for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	s := Load(Param("s"), GP64())
	b := Load(Param("b"), GP64())
	n := Load(Param("n"), GP64())
	mu, inv := YMM(), YMM()
	VBROADCASTSS(Load(Param("mu"), XMM()), mu)
	VBROADCASTSS(Load(Param("inv"), XMM()), inv)
	Label(fn + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(fn + "_done"))
	v := YMM()
	VMOVUPS(Mem{Base: x}, v)
	VSUBPS(mu, v, v)
	VMULPS(inv, v, v)
	VMULPS(Mem{Base: s}, v, v)
	VADDPS(Mem{Base: b}, v, v)
	VMOVUPS(v, Mem{Base: dst})
	for _, p := range []Register{dst, x, s, b} {
		ADDQ(U8(32), p)
	}
	SUBQ(U8(8), n)
	JMP(LabelRef(fn + "_loop"))
	Label(fn + "_done")
	VZEROUPPER()
	RET()
}

// scale emits scaleAVX2: dst[i] = x[i]·a (one rounding, as the portable
// loop), 16 elements a step, then 8.
func scale() {
	fn := "scaleAVX2"
	avoutil.TEXT(fn, "func(dst, x *float32, n int, a float32)")
	Doc(fn + " sets dst[i] = x[i]*a for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	a := YMM()
	VBROADCASTSS(Load(Param("a"), XMM()), a)
	Label(fn + "_loop16")
	CMPQ(n, U8(16))
	JL(LabelRef(fn + "_tail8"))
	v0, v1 := YMM(), YMM()
	VMULPS(Mem{Base: x}, a, v0)
	VMULPS(Mem{Base: x, Disp: 32}, a, v1)
	VMOVUPS(v0, Mem{Base: dst})
	VMOVUPS(v1, Mem{Base: dst, Disp: 32})
	ADDQ(U8(64), x)
	ADDQ(U8(64), dst)
	SUBQ(U8(16), n)
	JMP(LabelRef(fn + "_loop16"))
	Label(fn + "_tail8")
	TESTQ(n, n)
	JZ(LabelRef(fn + "_done"))
	v := YMM()
	VMULPS(Mem{Base: x}, a, v)
	VMOVUPS(v, Mem{Base: dst})
	Label(fn + "_done")
	VZEROUPPER()
	RET()
}
