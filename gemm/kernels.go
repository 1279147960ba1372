package gemm

import "unsafe"

// Register tiles of the assembly kernel families, declared on every
// platform so that the table below compiles everywhere (a family this build
// cannot run is never selected). Each tile keeps MR×NR/VL accumulators in
// vector registers, enough independent FMA chains to cover the FMA latency
// with room for the B vectors and the A values.
const (
	mrS512, nrS512 = 8, 48 // float32 AVX-512: 8 rows × 3 zmm = 24 of 32 zmm
	mrD512, nrD512 = 8, 24 // float64 AVX-512
	mrS256, nrS256 = 6, 16 // float32 AVX2+FMA: 6 rows × 2 ymm = 12 of 16 ymm
	mrD256, nrD256 = 6, 8  // float64 AVX2+FMA
	// NEON keeps its tile in 24 of the 32 128-bit registers: 8 rows × 3
	// vectors of 4 float32, 6 rows × 4 vectors of 2 float64 (doc.go, arm64).
	mrSNEON, nrSNEON = 8, 12
	mrDNEON, nrDNEON = 6, 8
)

// kernelDesc declares one kernel family: its tiles, its variants and its
// cut-offs. The driver reads these rather than testing a kernel's
// identity, so a new family is one entry here plus its cases in micro and
// microB. The figures behind each cut-off are in docs/gemm-tuning.md.
type kernelDesc struct {
	name string
	tile [2]tileDesc // float32, float64

	// directBRows is, per element type, the most rows (m, after any swap)
	// for which the family reads the full micro-panels of a NoTrans B in
	// place (its Bld kernels) instead of packing B; 0: it has no such
	// kernels. Packing is a read and a write of all of B and, on two
	// threads, a wait for the shared panel, which cost more than streaming
	// B from L2 for short products; long products reuse the packed panel
	// enough to win it back. The two paths give the same bits.
	directBRows [2]int

	// packAliased packs, even below directBRows, a B whose rows start a
	// multiple of 4 KB apart (aliasedRows): an in-place read of such a B
	// streams a depth block's rows through one L1 set, which evicts them
	// before the next tile reads them again. Where it was measured to pay.
	packAliased bool

	// rowOffsets: the family also reads a full micro-panel of B through a
	// table of row offsets (its Ind kernels, with directBRows' cut-off), so
	// the implicit GEMM can read an igemm.InPlace B without packing it.
	rowOffsets bool

	// parMinFlops is the smallest product (2·m·n·k) split across
	// goroutines: below it the hand-off to the pool costs more than a
	// second core saves.
	parMinFlops int

	// smallMax is the small-matrix cut-off: a product with m·n·k <=
	// smallMax³ is computed straight from the caller's operands (gemmSmall),
	// below the packed path's fixed cost.
	smallMax int
}

// tileDesc is a family's register tile for one element type.
type tileDesc struct {
	mr, nr int // the kernel computes mr×nr of C
	// mrEdge lists, lowest first, the heights (< mr) of the family's
	// kernels for the last, partial row panel; nrEdge the widths (< nr) for
	// the last, partial column panel; 0: none.
	mrEdge, nrEdge [2]int
}

// Cut-offs every family shares so far: measured with the AVX-512 kernel
// (docs/gemm-tuning.md) and kept for the others unmeasured.
const (
	defParMinFlops = 2 * 128 * 128 * 128
	defSmallMax    = 8
)

// kernels is the table of kernel families by kernel identifier. It is
// fixed at start-up; only tests and the tuning harness change it, through
// setKernelDescs (export_test.go) or directly (tune_test.go).
var kernels = [numKernels]kernelDesc{
	kernGeneric: {
		name:        "generic",
		tile:        [2]tileDesc{{mr: mrGenS, nr: nrGenS}, {mr: mrGenD, nr: nrGenD}},
		parMinFlops: defParMinFlops,
		smallMax:    defSmallMax,
	},
	kernAVX2: {
		name:        "avx2",
		tile:        [2]tileDesc{{mr: mrS256, nr: nrS256}, {mr: mrD256, nr: nrD256}},
		directBRows: [2]int{384, 256},
		// Always: in place, such a B ran at 57–60% of the packed speed
		// (Zen 3, 32 KB L1), probably because the tile row is one cache
		// line of B per k step, all of a depth block's lines in one set.
		packAliased: true,
		parMinFlops: defParMinFlops,
		smallMax:    defSmallMax,
	},
	kernAVX512: {
		name: "avx512",
		tile: [2]tileDesc{
			{mr: mrS512, nr: nrS512, mrEdge: [2]int{2, 4}, nrEdge: [2]int{16, 32}},
			{mr: mrD512, nr: nrD512, mrEdge: [2]int{2, 4}, nrEdge: [2]int{8, 16}},
		},
		directBRows: [2]int{800, 256},
		// It paid with a 48 KB, 12-way L1 (Zen 5) and lost with a 32 KB,
		// 8-way one (Zen 4): the L1 size tells the two apart.
		packAliased: hostCaches().l1 >= 48<<10,
		rowOffsets:  true,
		parMinFlops: defParMinFlops,
		smallMax:    defSmallMax,
	},
	kernNEON: {
		name:        "neon",
		tile:        [2]tileDesc{{mr: mrSNEON, nr: nrSNEON}, {mr: mrDNEON, nr: nrDNEON}},
		parMinFlops: defParMinFlops,
		smallMax:    defSmallMax,
	},
}

// aliasedRows reports whether rows of B ldb elements apart (type index ti)
// start a multiple of 4 KB apart, so that they all map to one L1 set (the
// sets repeat every 4 KB on the CPUs measured).
func aliasedRows(ldb, ti int) bool {
	size := 4
	if ti == 1 {
		size = 8
	}
	return ldb*size%4096 == 0
}

// micro calls the kernel chosen for this call on one full mr×nr tile (the
// family's MR and NR or one of its edge sizes).
func (cl *call[T]) micro(mr, nr, kb int, a, b, c []T, ldc int, alpha, beta T) {
	switch cl.kern {
	case kernAVX512:
		if cl.ti == 1 {
			pa, pb, pc, al, be := pf64(a), pf64(b), pf64(c), float64(alpha), float64(beta)
			if mr != mrD512 {
				d512Short[mr/4][nr/8-1](kb, pa, pb, pc, ldc, al, be)
				return
			}
			switch nr {
			case nrD512:
				dgemmKernelAVX512(kb, pa, pb, pc, ldc, al, be)
			case 16:
				dgemmKernelAVX512x16(kb, pa, pb, pc, ldc, al, be)
			case 8:
				dgemmKernelAVX512x8(kb, pa, pb, pc, ldc, al, be)
			default:
				panic("gemm: no float64 avx512 kernel of this width")
			}
		} else {
			pa, pb, pc, al, be := pf32(a), pf32(b), pf32(c), float32(alpha), float32(beta)
			if mr != mrS512 {
				s512Short[mr/4][nr/16-1](kb, pa, pb, pc, ldc, al, be)
				return
			}
			switch nr {
			case nrS512:
				sgemmKernelAVX512(kb, pa, pb, pc, ldc, al, be)
			case 32:
				sgemmKernelAVX512x32(kb, pa, pb, pc, ldc, al, be)
			case 16:
				sgemmKernelAVX512x16(kb, pa, pb, pc, ldc, al, be)
			default:
				panic("gemm: no float32 avx512 kernel of this width")
			}
		}
	case kernAVX2:
		if cl.ti == 1 {
			dgemmKernelAVX2(kb, pf64(a), pf64(b), pf64(c), ldc, float64(alpha), float64(beta))
		} else {
			sgemmKernelAVX2(kb, pf32(a), pf32(b), pf32(c), ldc, float32(alpha), float32(beta))
		}
	case kernNEON:
		if cl.ti == 1 {
			dgemmKernelNEON(kb, pf64(a), pf64(b), pf64(c), ldc, float64(alpha), float64(beta))
		} else {
			sgemmKernelNEON(kb, pf32(a), pf32(b), pf32(c), ldc, float32(alpha), float32(beta))
		}
	default:
		kernelGeneric(kb, a, b, c, ldc, alpha, beta)
	}
}

// The short AVX-512 kernels, by [mr/4][nr/VL−1] for mr = 2 or 4: only
// the last row panel uses them, so a call through a func value costs little.
var (
	s512Short = [2][3]func(k int, a, b, c *float32, ldc int, alpha, beta float32){
		{sgemmKernelAVX512m2x16, sgemmKernelAVX512m2x32, sgemmKernelAVX512m2x48},
		{sgemmKernelAVX512m4x16, sgemmKernelAVX512m4x32, sgemmKernelAVX512m4x48},
	}
	d512Short = [2][3]func(k int, a, b, c *float64, ldc int, alpha, beta float64){
		{dgemmKernelAVX512m2x8, dgemmKernelAVX512m2x16, dgemmKernelAVX512m2x24},
		{dgemmKernelAVX512m4x8, dgemmKernelAVX512m4x16, dgemmKernelAVX512m4x24},
	}
)

// microB calls the kernel of height mr (AVX-512: 8, 4 or 2; AVX2: 6)
// that reads a full-width B block in place (row p at b[p*ldb:], or with
// boff at b[boff[p]:] when boff is not nil; AVX-512 only).
func (cl *call[T]) microB(mr, kb int, a, b []T, boff []int, c []T, ldc int, alpha, beta T) {
	if boff != nil {
		cl.microInd(mr, kb, a, b, &boff[0], c, ldc, alpha, beta)
		return
	}
	if cl.kern == kernAVX2 {
		if cl.ti == 1 {
			dgemmKernelAVX2Bld(kb, pf64(a), pf64(b), pf64(c), cl.ldb, ldc, float64(alpha), float64(beta))
		} else {
			sgemmKernelAVX2Bld(kb, pf32(a), pf32(b), pf32(c), cl.ldb, ldc, float32(alpha), float32(beta))
		}
		return
	}
	if cl.ti == 1 {
		pa, pb, pc, al, be := pf64(a), pf64(b), pf64(c), float64(alpha), float64(beta)
		switch mr {
		case 8:
			dgemmKernelAVX512Bld(kb, pa, pb, pc, cl.ldb, ldc, al, be)
		case 4:
			dgemmKernelAVX512Bldm4(kb, pa, pb, pc, cl.ldb, ldc, al, be)
		default:
			dgemmKernelAVX512Bldm2(kb, pa, pb, pc, cl.ldb, ldc, al, be)
		}
		return
	}
	pa, pb, pc, al, be := pf32(a), pf32(b), pf32(c), float32(alpha), float32(beta)
	switch mr {
	case 8:
		sgemmKernelAVX512Bld(kb, pa, pb, pc, cl.ldb, ldc, al, be)
	case 4:
		sgemmKernelAVX512Bldm4(kb, pa, pb, pc, cl.ldb, ldc, al, be)
	default:
		sgemmKernelAVX512Bldm2(kb, pa, pb, pc, cl.ldb, ldc, al, be)
	}
}

// microInd calls the AVX-512 kernel of height mr (8, 4 or 2) that reads
// a full-width B block through row offsets (row p at b[off[p]:]).
func (cl *call[T]) microInd(mr, kb int, a, b []T, off *int, c []T, ldc int, alpha, beta T) {
	if cl.ti == 1 {
		pa, pb, pc, al, be := pf64(a), pf64(b), pf64(c), float64(alpha), float64(beta)
		switch mr {
		case 8:
			dgemmKernelAVX512Ind(kb, pa, pb, off, pc, ldc, al, be)
		case 4:
			dgemmKernelAVX512Indm4(kb, pa, pb, off, pc, ldc, al, be)
		default:
			dgemmKernelAVX512Indm2(kb, pa, pb, off, pc, ldc, al, be)
		}
		return
	}
	pa, pb, pc, al, be := pf32(a), pf32(b), pf32(c), float32(alpha), float32(beta)
	switch mr {
	case 8:
		sgemmKernelAVX512Ind(kb, pa, pb, off, pc, ldc, al, be)
	case 4:
		sgemmKernelAVX512Indm4(kb, pa, pb, off, pc, ldc, al, be)
	default:
		sgemmKernelAVX512Indm2(kb, pa, pb, off, pc, ldc, al, be)
	}
}

func pf32[T float32 | float64](s []T) *float32 { return (*float32)(unsafe.Pointer(&s[0])) }
func pf64[T float32 | float64](s []T) *float64 { return (*float64)(unsafe.Pointer(&s[0])) }
