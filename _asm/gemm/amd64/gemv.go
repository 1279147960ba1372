package main

import (
	"fmt"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The matrix-vector kernels (AVX2+FMA), for package gemm's Sgemv and Dgemv
// (see gemv.go there). A matrix-vector product reads each element of A once,
// so it is bound by memory bandwidth, not by the FMA units: the kernels
// stream several rows of A at once, as whole vectors, with few other loads.
//
// gemvMask is the tail-mask table: 8 int32 of −1, then 8 of 0. The 32 bytes
// at gemvMask+32−r·es are a VMASKMOV mask whose first r elements of size es
// are selected.
var gemvMask Mem

func gemvMaskTable() {
	gemvMask = GLOBL("gemvMask", RODATA|NOPTR)
	for i := range 16 {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
}

// gemvOps selects instructions by element type.
type gemvOps struct{ double bool }

func (o gemvOps) es() int {
	if o.double {
		return 8
	}
	return 4
}
func (o gemvOps) lanes() int { return 32 / o.es() }
func (o gemvOps) typ() string {
	if o.double {
		return "float64"
	}
	return "float32"
}
func (o gemvOps) pick(s, d func(...Op)) func(...Op) {
	if o.double {
		return d
	}
	return s
}
func (o gemvOps) fma(ops ...Op)  { o.pick(VFMADD231PS, VFMADD231PD)(ops...) }
func (o gemvOps) fmaS(ops ...Op) { o.pick(VFMADD231SS, VFMADD231SD)(ops...) }
func (o gemvOps) mov(ops ...Op)  { o.pick(VMOVUPS, VMOVUPD)(ops...) }
func (o gemvOps) movS(ops ...Op) { o.pick(VMOVSS, VMOVSD)(ops...) }
func (o gemvOps) maskMov(m, mask, dst Op) {
	if o.double {
		VMASKMOVPD(m, mask, dst)
	} else {
		VMASKMOVPS(m, mask, dst)
	}
}
func (o gemvOps) add(ops ...Op)   { o.pick(VADDPS, VADDPD)(ops...) }
func (o gemvOps) addS(ops ...Op)  { o.pick(VADDSS, VADDSD)(ops...) }
func (o gemvOps) mul(ops ...Op)   { o.pick(VMULPS, VMULPD)(ops...) }
func (o gemvOps) mulS(ops ...Op)  { o.pick(VMULSS, VMULSD)(ops...) }
func (o gemvOps) bcast(ops ...Op) { o.pick(VBROADCASTSS, VBROADCASTSD)(ops...) }

// betaZero sets the zero flag when beta is ±0 (its bits without the sign).
func (o gemvOps) betaZero(bb Mem) {
	if o.double {
		MOVQ(bb, RBX)
		SHLQ(U8(1), RBX)
	} else {
		MOVL(bb, EBX)
		SHLL(U8(1), EBX)
	}
}

var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

// gemvN emits <s|d>gemvNAVX2(m, n int, a *T, lda int, x, y *T, alpha, beta T):
//
//	for i := range m {
//		var s T
//		for j := range n {
//			s += a[i*lda+j] * x[j]
//		}
//		y[i] = alpha*s + beta*y[i] // y[i] not read when beta == 0
//	}
//
// Four rows at a time, each summed in two vector accumulators (16 or 8
// columns a step), the last n mod VL columns through masked loads; the four
// sums are reduced together. The four rows are a quarter of the rows apart
// (t, t+q, t+2q, t+3q for q = m/4, t = 0, 1, ...), so that each of the
// four is a long sequential stream through A when lda is near n, however
// short the rows: four streams of rows a few KB long each, restarted every
// row, left the hardware prefetcher behind. The last m mod 4 rows take
// the same path alone with the same reduction order, so a row's result
// does not depend on which rows it was computed with (the parallel split
// is free to cut anywhere). n >= 1.
func gemvN(double bool) {
	o := gemvOps{double}
	name := map[bool]string{false: "sgemvNAVX2", true: "dgemvNAVX2"}[double]
	avoutil.TEXT(name, fmt.Sprintf("func(m, n int, a *%[1]s, lda int, x, y *%[1]s, alpha, beta %[1]s)", o.typ()))
	Doc(name + " computes y = alpha·A·x + beta·y for an m×n row-major A (see gemv_amd64.go).")
	es, lanes := o.es(), o.lanes()
	shift := map[int]uint64{4: 2, 8: 3}[es]

	m, n, lda, x, y := RAX, R9, RDX, RDI, RCX
	rows := []GPPhysical{RSI, R12, R13, RBX}
	off, end2, ldq, yq := R11, R10, R8, R14
	Load(Param("m"), m)
	Load(Param("n"), n)
	Load(Param("a"), rows[0])
	Load(Param("lda"), lda)
	Load(Param("x"), x)
	Load(Param("y"), y)
	SHLQ(U8(shift), lda)
	// end2: bytes of the columns covered by two-vector steps.
	MOVQ(n, end2)
	ANDQ(I32(-2*lanes), end2)
	SHLQ(U8(shift), end2)
	// The tail mask for the last n mod VL columns (R11 and RBX are free
	// until the row loop).
	mask := Y15
	MOVQ(n, R11)
	ANDQ(U8(lanes-1), R11)
	SHLQ(U8(shift), R11)
	LEAQ(gemvMask.Offset(32), RBX)
	SUBQ(R11, RBX)
	VMOVUPS(Mem{Base: RBX}, mask)
	ab, _ := Param("alpha").Resolve()
	bb, _ := Param("beta").Resolve()
	alpha, beta := Y12, Y13
	o.bcast(ab.Addr, alpha)
	o.bcast(bb.Addr, beta)
	// m becomes q, the groups of four rows; ldq and yq the bytes of q
	// rows of A and of q elements of y.
	SHRQ(U8(2), m)
	MOVQ(m, ldq)
	IMULQ(lda, ldq)
	MOVQ(m, yq)
	SHLQ(U8(shift), yq)

	acc := func(r, v int) VecPhysical { return ymm[2*r+v] }
	xv := []VecPhysical{Y8, Y9}
	tmp := Y10

	// body emits the column loop for nr rows, leaving row r's sum
	// (both accumulators added) in acc(r, 0).
	body := func(nr int, lbl string) {
		for r := range nr {
			VXORPS(acc(r, 0), acc(r, 0), acc(r, 0))
			VXORPS(acc(r, 1), acc(r, 1), acc(r, 1))
		}
		for r := 1; r < nr; r++ {
			LEAQ(Mem{Base: rows[r-1], Index: ldq, Scale: 1}, rows[r])
		}
		XORQ(off, off)
		CMPQ(off, end2)
		JGE(LabelRef(lbl + "_one"))
		Label(lbl + "_loop")
		for v := range 2 {
			o.mov(Mem{Base: x, Index: off, Scale: 1, Disp: 32 * v}, xv[v])
		}
		for r := range nr {
			for v := range 2 {
				o.fma(Mem{Base: rows[r], Index: off, Scale: 1, Disp: 32 * v}, xv[v], acc(r, v))
			}
		}
		ADDQ(U8(64), off)
		CMPQ(off, end2)
		JLT(LabelRef(lbl + "_loop"))
		Label(lbl + "_one")
		TESTQ(U32(lanes), n)
		JZ(LabelRef(lbl + "_tail"))
		o.mov(Mem{Base: x, Index: off, Scale: 1}, xv[0])
		for r := range nr {
			o.fma(Mem{Base: rows[r], Index: off, Scale: 1}, xv[0], acc(r, 0))
		}
		ADDQ(U8(32), off)
		Label(lbl + "_tail")
		TESTQ(U32(lanes-1), n)
		JZ(LabelRef(lbl + "_sum"))
		o.maskMov(Mem{Base: x, Index: off, Scale: 1}, mask, xv[0])
		for r := range nr {
			o.maskMov(Mem{Base: rows[r], Index: off, Scale: 1}, mask, tmp)
			o.fma(tmp, xv[0], acc(r, 1))
		}
		Label(lbl + "_sum")
		for r := range nr {
			o.add(acc(r, 1), acc(r, 0), acc(r, 0))
		}
	}

	Comment("Groups of four rows, q apart.")
	Label(name + "_rows4")
	TESTQ(m, m)
	JZ(LabelRef(name + "_rest"))
	body(4, name+"_r4")
	// Reduce the four row vectors e0..e3 to one vector [s0 s1 s2 s3],
	// each s the same tree: ((e[0]+e[1])+(e[2]+e[3])) + (upper half alike)
	// for float32, (e[0]+e[1])+(e[2]+e[3]) for float64.
	e := []VecPhysical{acc(0, 0), acc(1, 0), acc(2, 0), acc(3, 0)}
	// y's four elements: y, y+yq, y+2yq and y+3yq (R12: 3yq; the row
	// pointers but the first are free here).
	LEAQ(Mem{Base: yq, Index: yq, Scale: 2}, R12)
	yAt := []Mem{{Base: y}, {Base: y, Index: yq, Scale: 1}, {Base: y, Index: yq, Scale: 2}, {Base: y, Index: R12, Scale: 1}}
	if double {
		VHADDPD(e[1], e[0], e[0]) // [e0 01, e1 01 | e0 23, e1 23]
		VHADDPD(e[3], e[2], e[2])
		VPERM2F128(U8(0x20), e[2], e[0], Y1)
		VPERM2F128(U8(0x31), e[2], e[0], Y3)
		VADDPD(Y3, Y1, Y0)
		VMULPD(alpha, Y0, Y0)
		o.betaZero(bb.Addr)
		JZ(LabelRef(name + "_r4store"))
		VMOVSD(yAt[0], X1)
		VMOVHPD(yAt[1], X1, X1)
		VMOVSD(yAt[2], X2)
		VMOVHPD(yAt[3], X2, X2)
		VINSERTF128(U8(1), X2, Y1, Y1)
		VFMADD231PD(Y1, beta, Y0)
		Label(name + "_r4store")
		VEXTRACTF128(U8(1), Y0, X1)
		VMOVSD(X0, yAt[0])
		VMOVHPD(X0, yAt[1])
		VMOVSD(X1, yAt[2])
		VMOVHPD(X1, yAt[3])
	} else {
		VHADDPS(e[1], e[0], e[0])
		VHADDPS(e[3], e[2], e[2])
		VHADDPS(e[2], e[0], e[0])
		VEXTRACTF128(U8(1), Y0, X1)
		VADDPS(X1, X0, X0)
		VMULPS(alpha.AsX(), X0, X0)
		o.betaZero(bb.Addr)
		JZ(LabelRef(name + "_r4store"))
		VMOVSS(yAt[0], X1)
		VINSERTPS(U8(0x10), yAt[1], X1, X1)
		VINSERTPS(U8(0x20), yAt[2], X1, X1)
		VINSERTPS(U8(0x30), yAt[3], X1, X1)
		VFMADD231PS(X1, beta.AsX(), X0)
		Label(name + "_r4store")
		VMOVSS(X0, yAt[0])
		for r := 1; r < 4; r++ {
			VEXTRACTPS(U8(r), X0, yAt[r])
		}
	}
	ADDQ(lda, rows[0])
	ADDQ(U8(es), y)
	DECQ(m)
	JMP(LabelRef(name + "_rows4"))

	Comment("The last m mod 4 rows, after the 4q rows of the groups, one at a time with the same reduction order.")
	Label(name + "_rest")
	// rows[0] and y stand at row q: move them to row 4q.
	LEAQ(Mem{Base: ldq, Index: ldq, Scale: 2}, R12)
	ADDQ(R12, rows[0])
	LEAQ(Mem{Base: yq, Index: yq, Scale: 2}, R12)
	ADDQ(R12, y)
	Load(Param("m"), m)
	ANDQ(U8(3), m)
	Label(name + "_rows1")
	TESTQ(m, m)
	JZ(LabelRef(name + "_done"))
	body(1, name+"_r1")
	if double {
		VHADDPD(Y0, Y0, Y0) // [e01, e01 | e23, e23]
		VEXTRACTF128(U8(1), Y0, X1)
		VADDSD(X1, X0, X0)
	} else {
		VHADDPS(Y0, Y0, Y0)
		VHADDPS(Y0, Y0, Y0)
		VEXTRACTF128(U8(1), Y0, X1)
		VADDSS(X1, X0, X0)
	}
	o.mulS(alpha.AsX(), X0, X0)
	o.betaZero(bb.Addr)
	JZ(LabelRef(name + "_r1store"))
	o.fmaS(Mem{Base: y}, beta.AsX(), X0)
	Label(name + "_r1store")
	o.movS(X0, Mem{Base: y})
	ADDQ(lda, rows[0])
	ADDQ(U8(es), y)
	DECQ(m)
	JMP(LabelRef(name + "_rows1"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// gemvT emits <s|d>gemvTAVX2(m, n int, a *T, lda int, x, y *T, alpha T):
//
//	for i := range m {
//		t := alpha * x[i]
//		for j := range n {
//			y[j] += t * a[i*lda+j] // one fused multiply-add
//		}
//	}
//
// up to the order of the rows: four rows at a time, a quarter of the rows
// apart as in gemvN (t, t+q, t+2q, t+3q for q = m/4, so A streams as four
// long runs), then the last m mod 4 rows one at a time. Each vector of y is
// loaded once per group, gets the four rows' FMAs, and is stored; the last
// n mod VL columns take the same FMAs one at a time. The order depends only
// on m, so every y[j] gets the same FMAs in the same order wherever a
// column split falls. The caller scales y by beta first. n >= 1.
func gemvT(double bool) {
	o := gemvOps{double}
	name := map[bool]string{false: "sgemvTAVX2", true: "dgemvTAVX2"}[double]
	avoutil.TEXT(name, fmt.Sprintf("func(m, n int, a *%[1]s, lda int, x, y *%[1]s, alpha %[1]s)", o.typ()))
	Doc(name + " computes y += alpha·Aᵀ·x for an m×n row-major A (see gemv_amd64.go).")
	es, lanes := o.es(), o.lanes()
	shift := map[int]uint64{4: 2, 8: 3}[es]

	m, n, lda, x, y := RAX, R9, RDX, RDI, RCX
	rows := []GPPhysical{RSI, R12, R13, RBX}
	off, endV, endS := R11, R10, R8
	Load(Param("m"), m)
	Load(Param("n"), n)
	Load(Param("a"), rows[0])
	Load(Param("lda"), lda)
	Load(Param("x"), x)
	Load(Param("y"), y)
	SHLQ(U8(shift), lda)
	MOVQ(n, endS)
	SHLQ(U8(shift), endS)
	MOVQ(n, endV)
	ANDQ(I32(-lanes), endV)
	SHLQ(U8(shift), endV)
	ab, _ := Param("alpha").Resolve()
	alpha := Y12
	o.bcast(ab.Addr, alpha)
	xs := []VecPhysical{Y8, Y9, Y10, Y11}
	// m becomes q, the groups of four rows; ldq and xq (a local) the
	// bytes of q rows of A and of q elements of x.
	ldq, xq := R14, AllocLocal(8)
	SHRQ(U8(2), m)
	MOVQ(m, ldq)
	IMULQ(lda, ldq)
	MOVQ(m, off)
	SHLQ(U8(shift), off)
	MOVQ(off, xq)

	body := func(nr int, lbl string) {
		if nr == 4 {
			// x's four elements: x, x+xq, x+2xq, x+3xq (the row
			// pointers but the first are free until set below).
			MOVQ(xq, R12)
			LEAQ(Mem{Base: R12, Index: R12, Scale: 2}, R13)
			xAt := []Mem{{Base: x}, {Base: x, Index: R12, Scale: 1}, {Base: x, Index: R12, Scale: 2}, {Base: x, Index: R13, Scale: 1}}
			for r := range nr {
				o.bcast(xAt[r], xs[r])
				o.mul(alpha, xs[r], xs[r])
			}
		} else {
			o.bcast(Mem{Base: x}, xs[0])
			o.mul(alpha, xs[0], xs[0])
		}
		for r := 1; r < nr; r++ {
			LEAQ(Mem{Base: rows[r-1], Index: ldq, Scale: 1}, rows[r])
		}
		XORQ(off, off)
		CMPQ(off, endV)
		JGE(LabelRef(lbl + "_scalar"))
		Label(lbl + "_loop")
		o.mov(Mem{Base: y, Index: off, Scale: 1}, Y0)
		for r := range nr {
			o.fma(Mem{Base: rows[r], Index: off, Scale: 1}, xs[r], Y0)
		}
		o.mov(Y0, Mem{Base: y, Index: off, Scale: 1})
		ADDQ(U8(32), off)
		CMPQ(off, endV)
		JLT(LabelRef(lbl + "_loop"))
		Label(lbl + "_scalar")
		CMPQ(off, endS)
		JGE(LabelRef(lbl + "_end"))
		o.movS(Mem{Base: y, Index: off, Scale: 1}, X0)
		for r := range nr {
			o.fmaS(Mem{Base: rows[r], Index: off, Scale: 1}, xs[r].AsX(), X0)
		}
		o.movS(X0, Mem{Base: y, Index: off, Scale: 1})
		ADDQ(U8(es), off)
		JMP(LabelRef(lbl + "_scalar"))
		Label(lbl + "_end")
	}

	Comment("Groups of four rows, q apart.")
	Label(name + "_rows4")
	TESTQ(m, m)
	JZ(LabelRef(name + "_rest"))
	body(4, name+"_r4")
	ADDQ(lda, rows[0])
	ADDQ(U8(es), x)
	DECQ(m)
	JMP(LabelRef(name + "_rows4"))

	Comment("The last m mod 4 rows, after the 4q rows of the groups, one at a time.")
	Label(name + "_rest")
	// rows[0] and x stand at row q: move them to row 4q.
	LEAQ(Mem{Base: ldq, Index: ldq, Scale: 2}, R12)
	ADDQ(R12, rows[0])
	MOVQ(xq, R12)
	LEAQ(Mem{Base: R12, Index: R12, Scale: 2}, R12)
	ADDQ(R12, x)
	Load(Param("m"), m)
	ANDQ(U8(3), m)
	Label(name + "_rows1")
	TESTQ(m, m)
	JZ(LabelRef(name + "_done"))
	body(1, name+"_r1")
	ADDQ(lda, rows[0])
	ADDQ(U8(es), x)
	DECQ(m)
	JMP(LabelRef(name + "_rows1"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}
