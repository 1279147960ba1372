// Command amd64 generates gemm_amd64.s, the AVX-512 and AVX2+FMA
// microkernels of package gemm, and gemm_amd64_stubs.go, their Go
// prototypes, with avo.
//
// Run it through go generate in the gemm package (see kernel_amd64.go). The
// output is committed, and .ci/check-asm.sh fails when it is out of date.
//
// Every kernel computes, for an MR×NR tile,
//
//	C(i,j) = alpha·Σ_p a[p*MR+i]·b[p*NR+j] + beta·C(i,j)
//
// with a and b packed micro-panels and C a full tile with row stride ldc. The
// MR×NR accumulators live in vector registers for the whole k loop: per k
// step it loads NR/VL vectors of B, broadcasts MR scalars of A and issues
// MR·NR/VL independent FMAs, so the FMA units never wait on a result.
package main

import (
	"fmt"

	"github.com/adjoint-go/adjoint/_asm/internal/avoutil"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// kernel describes one microkernel variant.
type kernel struct {
	name   string
	double bool // float64 (else float32)
	wide   bool // AVX-512 zmm (else AVX2 ymm)
	mr     int  // rows of the tile
	nv     int  // vectors per row; NR = nv * lanes
	unroll int  // k steps per main-loop iteration
	bcst   bool // A through embedded broadcast {1toN} in the FMA (AVX-512 only)
	pfA    int  // prefetch distance for A in bytes (0: none)
	// pfC places the prefetch of the C tile: 0 at entry, -1 never, D > 0
	// when D main-loop iterations remain (at entry if there are no more).
	// Late is best: issued at entry, the tile's lines (rows a power of two
	// apart in a large C map to the same L1 sets) compete with the A and B
	// panels for the whole loop; issued about 400 FMAs before the end they
	// still arrive from L2/L3 in time. Measured on Zen 4 at k = 128,
	// ldc = 1024: 94.6% of peak at entry, 96.0% never, 96.0% late (f32
	// AVX-512); 92.4%, 94.9%, 94.7% (f32 AVX2).
	pfC int
	// bld reads B unpacked, as rows ldb elements apart (an extra ldb
	// argument before ldc), instead of a packed micro-panel.
	bld bool
	// ind reads B unpacked through a table of row offsets: row p of B is
	// b[off[p]:], off an extra *int argument before c. It is bld with the
	// row address loaded (one scalar load per k step against MR·NV
	// FMAs), for a B whose rows are not evenly spaced: the patch rows of
	// a convolution, each a run of a staged image (internal/igemm).
	ind bool
}

func (k kernel) es() int { // element size in bytes
	if k.double {
		return 8
	}
	return 4
}

func (k kernel) vl() int    { return map[bool]int{true: 64, false: 32}[k.wide] } // vector bytes
func (k kernel) lanes() int { return k.vl() / k.es() }
func (k kernel) nr() int    { return k.nv * k.lanes() }

func (k kernel) vec(i int) VecPhysical {
	if k.wide {
		return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
			Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
	}
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

func (k kernel) typ() string {
	if k.double {
		return "float64"
	}
	return "float32"
}

// Instruction selection by element type.
func (k kernel) fma(ops ...Op) {
	if k.double {
		VFMADD231PD(ops...)
	} else {
		VFMADD231PS(ops...)
	}
}

func (k kernel) fmaBcst(ops ...Op) {
	if k.double {
		VFMADD231PD_BCST(ops...)
	} else {
		VFMADD231PS_BCST(ops...)
	}
}

func (k kernel) bcast(ops ...Op) {
	if k.double {
		VBROADCASTSD(ops...)
	} else {
		VBROADCASTSS(ops...)
	}
}

func (k kernel) mul(ops ...Op) {
	if k.double {
		VMULPD(ops...)
	} else {
		VMULPS(ops...)
	}
}

func (k kernel) mov(ops ...Op) {
	if k.double {
		VMOVUPD(ops...)
	} else {
		VMOVUPS(ops...)
	}
}

// zero clears a vector register. VXORPS on zmm needs AVX512DQ, so the wide
// kernels use VPXORD (AVX512F).
func (k kernel) zero(r VecPhysical) {
	if k.wide {
		VPXORD(r, r, r)
	} else {
		VXORPS(r, r, r)
	}
}

func (k kernel) generate() {
	switch {
	case k.ind:
		avoutil.TEXT(k.name, fmt.Sprintf("func(k int, a, b *%[1]s, off *int, c *%[1]s, ldc int, alpha, beta %[1]s)", k.typ()))
		Doc(fmt.Sprintf("%s computes an %d×%d tile C = alpha·A·B + beta·C from a packed A panel and B row p at b[off[p]:] (see kernel_amd64.go).",
			k.name, k.mr, k.nr()))
	case k.bld:
		avoutil.TEXT(k.name, fmt.Sprintf("func(k int, a, b, c *%[1]s, ldb, ldc int, alpha, beta %[1]s)", k.typ()))
		Doc(fmt.Sprintf("%s computes an %d×%d tile C = alpha·A·B + beta·C from a packed A panel and B rows ldb apart (see kernel_amd64.go).",
			k.name, k.mr, k.nr()))
	default:
		avoutil.TEXT(k.name, fmt.Sprintf("func(k int, a, b, c *%[1]s, ldc int, alpha, beta %[1]s)", k.typ()))
		Doc(fmt.Sprintf("%s computes an %d×%d tile C = alpha·A·B + beta·C from packed panels (see kernel_amd64.go).",
			k.name, k.mr, k.nr()))
	}

	es, vl, mr, nv := k.es(), k.vl(), k.mr, k.nv
	nacc := mr * nv
	acc := func(i, v int) VecPhysical { return k.vec(i*nv + v) }
	bv := func(v int) VecPhysical { return k.vec(nacc + v) }
	ntmp := map[bool]int{true: 32, false: 16}[k.wide] - nacc - nv // free registers for A broadcasts
	tmp := func(i int) VecPhysical { return k.vec(nacc + nv + i%ntmp) }

	kreg, a, b, c, ldc := RAX, RSI, RDI, RCX, RDX
	Load(Param("k"), kreg)
	Load(Param("a"), a)
	Load(Param("b"), b)
	Load(Param("c"), c)
	Load(Param("ldc"), ldc)
	shift := map[int]uint64{4: 2, 8: 3}[es]
	SHLQ(U8(shift), ldc) // ldc in bytes
	ldb, ldb3 := R9, R10
	if k.bld {
		if k.unroll != 4 {
			panic("bld kernels address 4 rows of B per iteration")
		}
		Load(Param("ldb"), ldb)
		SHLQ(U8(shift), ldb)
		LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	}
	// ind: the offset table in R9, the offsets of this iteration's rows
	// (elements) in R10–R13.
	offp, rowOff := R9, []GPPhysical{R10, R11, R12, R13}
	if k.ind {
		if k.unroll != 4 || k.bld {
			panic("ind kernels load 4 row offsets per iteration")
		}
		Load(Param("off"), offp)
	}
	// bRow addresses row u of B in this iteration.
	bRow := func(u int) Mem {
		if k.ind {
			return Mem{Base: b, Index: rowOff[u], Scale: uint8(es)}
		}
		if !k.bld {
			return Mem{Base: b, Disp: u * k.nr() * es}
		}
		return []Mem{{Base: b}, {Base: b, Index: ldb, Scale: 1}, {Base: b, Index: ldb, Scale: 2}, {Base: b, Index: ldb3, Scale: 1}}[u]
	}

	prefetchC := func() {
		Comment("Prefetch the C tile: every cache line each row touches.")
		MOVQ(c, R8)
		rowBytes := k.nr() * es
		for range mr {
			for off := 0; off < rowBytes; off += 64 {
				PREFETCHT0(Mem{Base: R8, Disp: off})
			}
			PREFETCHT0(Mem{Base: R8, Disp: rowBytes - 1})
			ADDQ(ldc, R8)
		}
	}
	if k.pfC == 0 {
		prefetchC()
	}

	Comment("Zero the accumulators.")
	for i := range nacc {
		k.zero(k.vec(i))
	}

	// step emits one k step reading A at byte offset aoff and B at row brow.
	step := func(aoff int, brow Mem) {
		for v := range nv {
			m := brow
			m.Disp += v * vl
			k.mov(m, bv(v))
		}
		for i := range mr {
			am := Mem{Base: a, Disp: aoff + i*es}
			if k.bcst {
				for v := range nv {
					k.fmaBcst(am, bv(v), acc(i, v))
				}
				continue
			}
			t := tmp(i)
			k.bcast(am, t)
			for v := range nv {
				k.fma(bv(v), t, acc(i, v))
			}
		}
	}

	aStep, bStep := mr*es, k.nr()*es
	Comment(fmt.Sprintf("Main loop: %d k steps per iteration.", k.unroll))
	MOVQ(kreg, RBX)
	SHRQ(U8(log2(k.unroll)), RBX)
	if k.pfC > 0 {
		CMPQ(RBX, U8(k.pfC))
		JGT(LabelRef(k.name + "_loop"))
		prefetchC()
		TESTQ(RBX, RBX)
	}
	JZ(LabelRef(k.name + "_tail"))
	Label(k.name + "_loop")
	if k.ind {
		for u := range k.unroll {
			MOVQ(Mem{Base: offp, Disp: 8 * u}, rowOff[u])
		}
	}
	for u := range k.unroll {
		if k.pfA > 0 && (u*aStep)%64 == 0 {
			PREFETCHT0(Mem{Base: a, Disp: k.pfA + u*aStep})
		}
		step(u*aStep, bRow(u))
	}
	ADDQ(U32(k.unroll*aStep), a)
	switch {
	case k.ind:
		ADDQ(U8(8*k.unroll), offp)
	case k.bld:
		LEAQ(Mem{Base: b, Index: ldb, Scale: 4}, b)
	default:
		ADDQ(U32(k.unroll*bStep), b)
	}
	DECQ(RBX)
	if k.pfC > 0 {
		JZ(LabelRef(k.name + "_tail"))
		CMPQ(RBX, U8(k.pfC))
		JNE(LabelRef(k.name + "_loop"))
		prefetchC()
		JMP(LabelRef(k.name + "_loop"))
	} else {
		JNZ(LabelRef(k.name + "_loop"))
	}

	Label(k.name + "_tail")
	ANDQ(U8(k.unroll-1), kreg)
	JZ(LabelRef(k.name + "_epilogue"))
	Label(k.name + "_tailloop")
	if k.ind {
		MOVQ(Mem{Base: offp}, rowOff[0])
	}
	step(0, bRow(0))
	ADDQ(U8(aStep), a)
	switch {
	case k.ind:
		ADDQ(U8(8), offp)
	case k.bld:
		ADDQ(ldb, b)
	default:
		ADDQ(U32(bStep), b)
	}
	DECQ(kreg)
	JNZ(LabelRef(k.name + "_tailloop"))

	Label(k.name + "_epilogue")
	Comment("Scale by alpha.")
	alpha, beta := bv(0), tmp(0)
	ab, _ := Param("alpha").Resolve()
	bb, _ := Param("beta").Resolve()
	if k.ind {
		// alpha == 1 (the convolutions' case) skips the scaling, which
		// is exact, so the bits are the same: at conv1's depth (26 k
		// steps) it is 24 of about 700 vector operations a tile.
		Comment("alpha == 1: nothing to scale.")
		if k.double {
			MOVQ(ab.Addr, RBX)
			MOVQ(U64(0x3ff0000000000000), R8)
			CMPQ(RBX, R8)
		} else {
			MOVL(ab.Addr, EBX)
			CMPL(EBX, U32(0x3f800000))
		}
		JEQ(LabelRef(k.name + "_scaled"))
	}
	k.bcast(ab.Addr, alpha)
	for i := range nacc {
		k.mul(alpha, k.vec(i), k.vec(i))
	}
	if k.ind {
		Label(k.name + "_scaled")
	}
	Comment("beta == 0 (either sign) must not read C: test the bits without the sign.")
	if k.double {
		MOVQ(bb.Addr, RBX)
		SHLQ(U8(1), RBX)
	} else {
		MOVL(bb.Addr, EBX)
		SHLL(U8(1), EBX)
	}
	JZ(LabelRef(k.name + "_store"))

	Comment("C = beta·C + alpha·A·B")
	k.bcast(bb.Addr, beta)
	for i := range mr {
		for v := range nv {
			k.fma(Mem{Base: c, Disp: v * vl}, beta, acc(i, v))
			k.mov(acc(i, v), Mem{Base: c, Disp: v * vl})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label(k.name + "_store")
	Comment("C = alpha·A·B")
	for i := range mr {
		for v := range nv {
			k.mov(acc(i, v), Mem{Base: c, Disp: v * vl})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	if 1<<l != n {
		panic("unroll must be a power of two")
	}
	return l
}

// peak emits fmaPeak<suffix>(n int): n iterations of as many independent
// FMA chains as the kernel of the same width has accumulators, the ceiling a
// kernel can approach.
func peak(name string, wide, double bool, chains int) {
	k := kernel{wide: wide, double: double}
	avoutil.TEXT(name, "func(n int)")
	Doc(fmt.Sprintf("%s runs n iterations of %d independent %s FMA chains (the throughput ceiling).",
		name, chains, map[bool]string{true: "zmm", false: "ymm"}[wide]))
	Load(Param("n"), RAX)
	x, y := k.vec(chains), k.vec(chains+1)
	for i := range chains + 2 {
		k.zero(k.vec(i))
	}
	TESTQ(RAX, RAX)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	for i := range chains {
		k.fma(x, y, k.vec(i))
	}
	DECQ(RAX)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// transposePS emits transpose8x8PS(src *float32, ld int, dst *float32, w, n int):
// for n chunks of 8 columns of 8 rows (row r at src + r·ld elements), it
// writes column p of the 8 rows, rows in order, to dst + p·w elements: the
// packed micro-panel layout, 8 values per k step. Each chunk is an 8×8
// transpose in ymm registers (unpack, shuffle, lane permute), so that
// packing reads and writes whole vectors instead of single elements.
//
// With rows = 6 it emits transpose6x8PS, for the 6-row micro-panels of the
// AVX2 tile: rows 6 and 7 are zero registers, and only the first 6 values
// of each column are stored (16 bytes, then 8).
func transposePS(rows int) {
	name := fmt.Sprintf("transpose%dx8PS", rows)
	avoutil.TEXT(name, "func(src *float32, ld int, dst *float32, w, n int)")
	Doc(name + fmt.Sprintf(" transposes n %d×8 blocks of float32 from %d rows ld apart into columns w apart (see pack_amd64.go).", rows, rows))
	src, ld, dst, w, n := R8, RDX, R11, RCX, RAX
	src4, ld3, dst4, w3 := R9, R10, R13, R12
	Load(Param("src"), src)
	Load(Param("ld"), ld)
	Load(Param("dst"), dst)
	Load(Param("w"), w)
	Load(Param("n"), n)
	SHLQ(U8(2), ld)
	SHLQ(U8(2), w)
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	LEAQ(Mem{Base: w, Index: w, Scale: 2}, w3)
	LEAQ(Mem{Base: src, Index: ld, Scale: 4}, src4)
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	y := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	rowMem := func(i int) Mem {
		base := src
		if i >= 4 {
			base = src4
		}
		switch i % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: ld, Scale: 1}
		case 2:
			return Mem{Base: base, Index: ld, Scale: 2}
		}
		return Mem{Base: base, Index: ld3, Scale: 1}
	}
	r, t := y[0:8], y[8:16]
	for i := range 8 {
		if i < rows {
			VMOVUPS(rowMem(i), r[i])
		} else {
			VXORPS(r[i], r[i], r[i])
		}
	}
	// t[2i] = lo(r[2i], r[2i+1]), t[2i+1] = hi(...), per 128-bit lane.
	for i := 0; i < 8; i += 2 {
		VUNPCKLPS(r[i+1], r[i], t[i])
		VUNPCKHPS(r[i+1], r[i], t[i+1])
	}
	// s[0..3]: rows 0-3 of columns (0|4, 1|5, 2|6, 3|7); s[4..7]: rows 4-7.
	s := r
	for h := 0; h < 2; h++ {
		a, b := t[4*h], t[4*h+2]   // unpacklo pairs
		c, d := t[4*h+1], t[4*h+3] // unpackhi pairs
		VSHUFPS(U8(0x44), b, a, s[4*h+0])
		VSHUFPS(U8(0xEE), b, a, s[4*h+1])
		VSHUFPS(U8(0x44), d, c, s[4*h+2])
		VSHUFPS(U8(0xEE), d, c, s[4*h+3])
	}
	// Column j (rows 0-7): low lanes for j < 4, high lanes for j >= 4.
	out := t
	for j := range 4 {
		VPERM2F128(U8(0x20), s[4+j], s[j], out[j])
		VPERM2F128(U8(0x31), s[4+j], s[j], out[4+j])
	}
	LEAQ(Mem{Base: dst, Index: w, Scale: 4}, dst4)
	for j := range 8 {
		base := dst
		if j >= 4 {
			base = dst4
		}
		m := []Mem{{Base: base}, {Base: base, Index: w, Scale: 1}, {Base: base, Index: w, Scale: 2}, {Base: base, Index: w3, Scale: 1}}[j%4]
		if rows == 8 {
			VMOVUPS(out[j], m)
			continue
		}
		// Rows 0-3 from the low lane, rows 4-5 from the high one; the
		// row registers are free by now.
		VMOVUPS(out[j].AsX(), m)
		VEXTRACTF128(U8(1), out[j], s[j].AsX())
		VMOVQ(s[j].AsX(), m.Offset(16))
	}
	ADDQ(U8(32), src)
	ADDQ(U8(32), src4)
	LEAQ(Mem{Base: dst4, Index: w, Scale: 4}, dst)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// transposePD emits transpose8x4PD(src *float64, ld int, dst *float64, w, n int),
// the float64 twin of transpose8x8PS: n chunks of 4 columns of 8 rows, each
// two 4×4 transposes in ymm registers.
func transposePD() {
	name := "transpose8x4PD"
	avoutil.TEXT(name, "func(src *float64, ld int, dst *float64, w, n int)")
	Doc(name + " transposes n 8×4 blocks of float64 from 8 rows ld apart into columns w apart (see pack_amd64.go).")
	src, ld, dst, w, n := R8, RDX, R11, RCX, RAX
	src4, ld3, w3 := R9, R10, R12
	Load(Param("src"), src)
	Load(Param("ld"), ld)
	Load(Param("dst"), dst)
	Load(Param("w"), w)
	Load(Param("n"), n)
	SHLQ(U8(3), ld)
	SHLQ(U8(3), w)
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	LEAQ(Mem{Base: w, Index: w, Scale: 2}, w3)
	LEAQ(Mem{Base: src, Index: ld, Scale: 4}, src4)
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	y := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	r, t := y[0:8], y[8:16]
	for i := range 8 {
		base := src
		if i >= 4 {
			base = src4
		}
		m := []Mem{{Base: base}, {Base: base, Index: ld, Scale: 1}, {Base: base, Index: ld, Scale: 2}, {Base: base, Index: ld3, Scale: 1}}[i%4]
		VMOVUPD(m, r[i])
	}
	for i := 0; i < 8; i += 2 {
		VUNPCKLPD(r[i+1], r[i], t[i])
		VUNPCKHPD(r[i+1], r[i], t[i+1])
	}
	// For each half h (rows 4h..4h+3): column j = lanes of t.
	out := r
	for h := range 2 {
		lo0, hi0, lo1, hi1 := t[4*h], t[4*h+1], t[4*h+2], t[4*h+3]
		VPERM2F128(U8(0x20), lo1, lo0, out[4*h+0]) // column 0
		VPERM2F128(U8(0x20), hi1, hi0, out[4*h+1]) // column 1
		VPERM2F128(U8(0x31), lo1, lo0, out[4*h+2]) // column 2
		VPERM2F128(U8(0x31), hi1, hi0, out[4*h+3]) // column 3
	}
	for j := range 4 {
		m := []Mem{{Base: dst}, {Base: dst, Index: w, Scale: 1}, {Base: dst, Index: w, Scale: 2}, {Base: dst, Index: w3, Scale: 1}}[j]
		VMOVUPD(out[j], m)
		m.Disp = 32
		VMOVUPD(out[4+j], m)
	}
	ADDQ(U8(32), src)
	ADDQ(U8(32), src4)
	LEAQ(Mem{Base: dst, Index: w, Scale: 4}, dst)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

func main() {
	avoutil.Start()

	for _, k := range []kernel{
		// Embedded broadcast ({1to16} memory operands in the FMAs instead
		// of VBROADCASTSS) and prefetching A ahead measured no better
		// (Zen 4, kernel alone and in the macro-kernel pattern), so both
		// are off; the options stay for other CPUs.
		{name: "sgemmKernelAVX512", wide: true, mr: 8, nv: 3, unroll: 4, pfC: 4},
		{name: "dgemmKernelAVX512", wide: true, double: true, mr: 8, nv: 3, unroll: 4, pfC: 4},
		// Narrow variants (same MR, NR of 2 or 1 vectors) for the last,
		// partial column panel, so that its padding costs in proportion.
		// 8 or 16 accumulators still cover the FMA latency on Zen 4 (one
		// 512-bit FMA per cycle, latency 4).
		{name: "sgemmKernelAVX512x32", wide: true, mr: 8, nv: 2, unroll: 4, pfC: 4},
		{name: "sgemmKernelAVX512x16", wide: true, mr: 8, nv: 1, unroll: 4, pfC: 4, bcst: true},
		{name: "dgemmKernelAVX512x16", wide: true, double: true, mr: 8, nv: 2, unroll: 4, pfC: 4},
		{name: "dgemmKernelAVX512x8", wide: true, double: true, mr: 8, nv: 1, unroll: 4, pfC: 4, bcst: true},
		// Full-width variants reading B unpacked (rows ldb apart), for
		// products so short that packing B would cost more than it saves.
		{name: "sgemmKernelAVX512Bld", wide: true, mr: 8, nv: 3, unroll: 4, pfC: 4, bld: true},
		{name: "sgemmKernelAVX512Bldm4", wide: true, mr: 4, nv: 3, unroll: 4, pfC: 4, bld: true},
		{name: "sgemmKernelAVX512Bldm2", wide: true, mr: 2, nv: 3, unroll: 4, pfC: 4, bld: true},
		{name: "dgemmKernelAVX512Bld", wide: true, double: true, mr: 8, nv: 3, unroll: 4, pfC: 4, bld: true},
		{name: "dgemmKernelAVX512Bldm4", wide: true, double: true, mr: 4, nv: 3, unroll: 4, pfC: 4, bld: true},
		{name: "dgemmKernelAVX512Bldm2", wide: true, double: true, mr: 2, nv: 3, unroll: 4, pfC: 4, bld: true},
		// Full-width variants reading B rows through an offset table, for
		// the implicit GEMM of a convolution (patch rows read in place
		// from the staged image).
		{name: "sgemmKernelAVX512Ind", wide: true, mr: 8, nv: 3, unroll: 4, pfC: 4, ind: true},
		{name: "sgemmKernelAVX512Indm4", wide: true, mr: 4, nv: 3, unroll: 4, pfC: 4, ind: true},
		{name: "sgemmKernelAVX512Indm2", wide: true, mr: 2, nv: 3, unroll: 4, pfC: 4, ind: true},
		{name: "dgemmKernelAVX512Ind", wide: true, double: true, mr: 8, nv: 3, unroll: 4, pfC: 4, ind: true},
		{name: "dgemmKernelAVX512Indm4", wide: true, double: true, mr: 4, nv: 3, unroll: 4, pfC: 4, ind: true},
		{name: "dgemmKernelAVX512Indm2", wide: true, double: true, mr: 2, nv: 3, unroll: 4, pfC: 4, ind: true},
		// Short variants (MR = 4 and 2, every NR) for the last, partial row
		// panel and its corner with the last column panel.
		{name: "sgemmKernelAVX512m4x48", wide: true, mr: 4, nv: 3, unroll: 4, pfC: 4},
		{name: "sgemmKernelAVX512m4x32", wide: true, mr: 4, nv: 2, unroll: 4, pfC: 4},
		{name: "sgemmKernelAVX512m4x16", wide: true, mr: 4, nv: 1, unroll: 4, pfC: 4, bcst: true},
		{name: "sgemmKernelAVX512m2x48", wide: true, mr: 2, nv: 3, unroll: 4, pfC: 4},
		{name: "sgemmKernelAVX512m2x32", wide: true, mr: 2, nv: 2, unroll: 4, pfC: 4},
		{name: "sgemmKernelAVX512m2x16", wide: true, mr: 2, nv: 1, unroll: 4, pfC: 4, bcst: true},
		{name: "dgemmKernelAVX512m4x24", wide: true, double: true, mr: 4, nv: 3, unroll: 4, pfC: 4},
		{name: "dgemmKernelAVX512m4x16", wide: true, double: true, mr: 4, nv: 2, unroll: 4, pfC: 4},
		{name: "dgemmKernelAVX512m4x8", wide: true, double: true, mr: 4, nv: 1, unroll: 4, pfC: 4, bcst: true},
		{name: "dgemmKernelAVX512m2x24", wide: true, double: true, mr: 2, nv: 3, unroll: 4, pfC: 4},
		{name: "dgemmKernelAVX512m2x16", wide: true, double: true, mr: 2, nv: 2, unroll: 4, pfC: 4},
		{name: "dgemmKernelAVX512m2x8", wide: true, double: true, mr: 2, nv: 1, unroll: 4, pfC: 4, bcst: true},
		{name: "sgemmKernelAVX2", mr: 6, nv: 2, unroll: 4, pfC: 8},
		{name: "dgemmKernelAVX2", double: true, mr: 6, nv: 2, unroll: 4, pfC: 8},
		// AVX2 variants reading B unpacked (rows ldb apart), as the
		// AVX-512 Bld ones; partial row panels go through the scratch
		// tile (A is zero-padded to MR rows), so one height is enough.
		{name: "sgemmKernelAVX2Bld", mr: 6, nv: 2, unroll: 4, pfC: 8, bld: true},
		{name: "dgemmKernelAVX2Bld", double: true, mr: 6, nv: 2, unroll: 4, pfC: 8, bld: true},
	} {
		k.generate()
	}
	peak("fmaPeakAVX512PS", true, false, 24)
	peak("fmaPeakAVX512PD", true, true, 24)
	peak("fmaPeakAVX2PS", false, false, 12)
	peak("fmaPeakAVX2PD", false, true, 12)
	transposePS(8)
	transposePS(6)
	transposePD()
	gemvMaskTable()
	for _, double := range []bool{false, true} {
		gemvN(double)
		gemvT(double)
	}

	Generate()
}
