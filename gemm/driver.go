package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/adjoint-go/adjoint/parallel"
)

// parMinFlops is the smallest product (2·m·n·k) worth splitting across
// goroutines. Each depth block hands work to the pool (B packing, then the
// compute tasks), and a hand-off to a parked worker costs 10–16 µs on
// average on this VM. Measured with two threads on the shared 2-core Zen 4
// VM (wall time, best of 40): 160³ 120 µs against 101 on one thread, 192³
// 150 against 143, 224³ 230 against 238, 256³ 293 against 380.
var parMinFlops = 2 * 200 * 200 * 200

// parMinPackB is the smallest B panel (elements) packed by several
// goroutines: about 20 µs of copying.
const parMinPackB = 64 << 10

// swapEdges enables the transposed computation of products narrower than a
// tile (a variable so that the tuning harness can compare).
var swapEdges = true

// directBRows is the most rows (m, after any swap) for which the AVX-512
// kernels read NoTrans B in place instead of packing it: each B element is
// then used by few row panels, and packing it (a read and a write of all of
// B) costs more than streaming it from L2 inside the kernel, whose 8×48 tile
// needs only 3 vector loads of B per 24 FMAs. Only the last, partial column
// panel is packed. Measured on Zen 4 (one thread, f32, GFLOP/s packed ->
// in place): 512×10×256 TN (computed transposed, m = 10) 52 -> 88,
// 64×512×512 99 -> 113, 64³ 86 -> 97, 64×1024×1024 95 -> 109; from m = 96 it
// still gains at ldb = 512 (104 -> 114) but ties at ldb = 1024 and 2048,
// where rows 4 or 8 KiB apart alias in the caches, so the cut-off is 64.
// A variable so that the tuning harness can compare.
var directBRows = 64

// call carries one GEMM call through the blocked loops. It is pooled, and its
// step method is bound once (doStep) so that handing it to parallel.Do
// allocates nothing.
type call[T float32 | float64] struct {
	kern int
	ti   int // 0 float32, 1 float64
	bl   blocking

	tA, tB      Transpose
	m, n, k     int
	alpha, beta T
	a, b, c     []T
	lda, ldb    int
	ldc         int
	cT          bool // C is stored transposed: C(i, j) is c[j*ldc+i]
	bDirect     bool // full B micro-panels read in place (see directB)

	// State of the current (jc, pc) iteration, read by the tasks.
	jc, nb, pc, kb int
	betaP          T
	pb             []T
	tm, tn         int // task grid over rows × columns
	nPackB         int // shares of the B panel, packed by whoever claims them

	// Work claimed by the goroutines of one step: B shares, then tasks.
	packNext, packDone, taskNext atomic.Int64
	abort                        atomic.Bool // a share panicked: stop waiting

	bArena arena[T]
	doStep func(int)
}

var callPools [2]sync.Pool

func getCall[T float32 | float64](ti int) *call[T] {
	if v := callPools[ti].Get(); v != nil {
		return v.(*call[T])
	}
	cl := new(call[T])
	cl.doStep = cl.step
	return cl
}

// gemm runs a checked, non-trivial call (m, n, k > 0, alpha != 0).
//
// The blocking follows Goto and van de Geijn (and BLIS): five loops around a
// microkernel that keeps an MR×NR tile of C in registers.
//
//	for jc over n by NC:               B panel columns
//	  for pc over k by KC:             depth; pack op(B)[pc:+KC, jc:+NC] → pb (L3)
//	    for ic over m by MC:           pack op(A)[ic:+MC, pc:+KC] → pa (L2)
//	      for jr over NC by NR:        pb micro-panel KC×NR, reused by every ir
//	        for ir over MC by MR:      pa micro-panel MR×KC, from L2
//	          kernel: C[ic+ir:+MR, jc+jr:+NR] = alpha·pa·pb + beta'·C
//
// Packing lays each micro-panel out in the exact order the kernel reads it
// (k-major groups of MR or NR values), absorbs the transposes, and pads the
// edges with zeros, so the kernel never sees a stride or a partial tile in
// its inputs. Partial tiles of C are computed into a scratch tile and merged.
// beta' is the caller's beta for the first depth block and 1 for the rest,
// which accumulate onto it.
//
// Parallelism, per (jc, pc) iteration with one hand-off to the pool: the
// goroutines first share the packing of B (split by micro-panel), wait until
// the panel is complete, then share a grid of tm×tn tasks that cut the
// (ic, jr) space at MR/NR boundaries; each task packs its own A rows. The k
// loop is never split, and every C element gets the same kernel with the
// same operands in the same order whatever the split, so results are bitwise
// identical for any thread count.
func gemm[T float32 | float64](kern, ti int, tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	bl := blocks[kern][ti]
	// A product narrower than one tile (n < NR) wastes NR−n of every tile's
	// columns. Computed transposed, Cᵀ = op(B)ᵀ·op(A)ᵀ, its n columns fall
	// on the tile's MR side and m on its NR side, which can take far fewer
	// tiles (m = 256, n = 10 with an 8×48 tile: 12 instead of 32). Packing
	// absorbs the transposes; the tiles go through the scratch tile and are
	// merged into C transposed. The choice depends only on the shape, so it
	// is the same for every thread count.
	if swapEdges && swapPays(bl, m, n) {
		drive(kern, ti, flip(tB), flip(tA), n, m, k, alpha, b, ldb, a, lda, beta, c, ldc, true)
		return
	}
	drive(kern, ti, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, false)
}

// swapPays reports whether a product narrower than a tile (n < NR) is
// clearly cheaper transposed: it takes fewer full-width tiles, or computes
// less padded area with the edge kernels (padM, padN). Only such products
// are swapped: for a narrow last strip of a wider product, the swapped strip
// must pack all of op(A) a second time, which measured (Zen 4, m, n, k from
// 64 to 1024) costs as much as it saves. Either test alone loses somewhere
// (Zen 4, f32, best of 40 in CPU time, GFLOP/s straight / swapped): the
// tile count misses 64×20×300 (55 / 66) and 32×20×500 (47 / 52); the area
// misses 301×24×200 (70 / 77) and 128×12×128 (57 / 59), where the areas
// tie but the full-width kernel beats the narrow one.
func swapPays(bl blocking, m, n int) bool {
	if n >= bl.nr {
		return false
	}
	tiles := 4*ceilDiv(n, bl.mr)*ceilDiv(m, bl.nr) < 3*ceilDiv(m, bl.mr)
	return tiles || swapByArea && 4*bl.padM(n)*bl.padN(m) < 3*bl.padM(m)*bl.padN(n)
}

// swapByArea enables the area test of swapPays (a variable so that the
// tuning harness can compare).
var swapByArea = true

func flip(t Transpose) Transpose {
	if t == Trans {
		return NoTrans
	}
	return Trans
}

// drive runs the five loops for C (or, with cT, Cᵀ stored in c).
func drive[T float32 | float64](kern, ti int, tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, cT bool) {
	cl := getCall[T](ti)
	cl.kern, cl.ti, cl.bl = kern, ti, blocks[kern][ti]
	cl.tA, cl.tB, cl.m, cl.n, cl.k = tA, tB, m, n, k
	cl.alpha, cl.beta = alpha, beta
	cl.a, cl.b, cl.c, cl.lda, cl.ldb, cl.ldc = a, b, c, lda, ldb, ldc
	cl.cT = cT
	bl := cl.bl
	cl.bDirect = kern == kernAVX512 && tB == NoTrans && m <= directBRows

	threads := parallel.Threads()
	if flops(m, n, k) < float64(parMinFlops) {
		threads = 1
	}
	cl.pb = cl.bArena.get(ceilDiv(k, ceilDiv(k, bl.kc)) * roundUp(min(n, bl.nc), bl.nr))
	for jc := 0; jc < n; jc += bl.nc {
		nb := min(bl.nc, n-jc)
		nTiles := ceilDiv(nb, bl.nr)
		cl.tm, cl.tn = grid(threads, ceilDiv(m, bl.mr), nTiles)
		// Depth blocks of nearly equal size, at most KC: k = KC+1 becomes two
		// halves rather than KC and a sliver.
		nk := ceilDiv(k, bl.kc)
		for kbi := range nk {
			pc, pe := split(k, nk, kbi)
			kb := pe - pc
			cl.jc, cl.nb, cl.pc, cl.kb = jc, nb, pc, kb
			cl.betaP = 1
			if pc == 0 {
				cl.betaP = beta
			}
			cl.nPackB = 1
			if threads > 1 && kb*nb >= parMinPackB {
				cl.nPackB = min(threads, nTiles)
			}
			cl.packNext.Store(0)
			cl.packDone.Store(0)
			cl.taskNext.Store(0)
			cl.abort.Store(false)
			// One hand-off per step: each goroutine packs B shares, waits
			// for the panel to be complete, then computes tasks.
			if g := min(threads, max(cl.nPackB, cl.tm*cl.tn)); g > 1 {
				parallel.Do(g, cl.doStep)
			} else {
				cl.step(0)
			}
		}
	}
	cl.a, cl.b, cl.c, cl.pb = nil, nil, nil, nil
	callPools[ti].Put(cl)
}

// flops is 2·m·n·k, in float64 so that it cannot overflow a 32-bit int.
func flops(m, n, k int) float64 { return 2 * float64(m) * float64(n) * float64(k) }

func roundUp(x, m int) int { return ceilDiv(x, m) * m }

// grid chooses tm×tn <= threads tasks over mt row tiles and nt column tiles,
// minimising the largest task; ties go to more row tasks, since each row task
// packs its own A while column tasks of the same rows would pack it twice.
func grid(threads, mt, nt int) (tm, tn int) {
	tm, tn = 1, 1
	best := mt * nt
	for r := min(threads, mt); r >= 1; r-- {
		c := min(threads/r, nt)
		if w := ceilDiv(mt, r) * ceilDiv(nt, c); w < best {
			best, tm, tn = w, r, c
		}
	}
	return tm, tn
}

// split returns the i-th of parts nearly equal ranges of [0, n).
func split(n, parts, i int) (lo, hi int) {
	q, r := n/parts, n%parts
	lo = i*q + min(i, r)
	hi = lo + q
	if i < r {
		hi++
	}
	return lo, hi
}

// step is run by every goroutine taking part in one (jc, pc) iteration. It
// claims B shares until none are left, waits until the shares claimed by
// others are packed (they are being packed by running goroutines, so the
// wait ends; if a share panics, abort ends it and Do re-raises the panic),
// then claims compute tasks until none are left. A goroutine that joins late
// finds nothing left and returns; if no worker joins, the caller does it all.
func (cl *call[T]) step(int) {
	n := int64(cl.nPackB)
	func() {
		defer func() {
			if r := recover(); r != nil {
				cl.abort.Store(true)
				panic(r)
			}
		}()
		for s := cl.packNext.Add(1) - 1; s < n; s = cl.packNext.Add(1) - 1 {
			cl.packBTask(int(s))
			cl.packDone.Add(1)
		}
	}()
	for cl.packDone.Load() < n {
		if cl.abort.Load() {
			return
		}
		runtime.Gosched()
	}
	nt := int64(cl.tm * cl.tn)
	for t := cl.taskNext.Add(1) - 1; t < nt; t = cl.taskNext.Add(1) - 1 {
		cl.computeTask(int(t))
	}
}

func (cl *call[T]) packBTask(i int) {
	q0, q1 := split(ceilDiv(cl.nb, cl.bl.nr), cl.nPackB, i)
	bl := &cl.bl
	if cl.bDirect {
		q0 = max(q0, cl.nb/bl.nr) // full micro-panels are read in place
	}
	packB(cl.pb, cl.tB, cl.b, cl.ldb, cl.pc, cl.jc, cl.nb, cl.kb, bl.nr, bl.edgeNR(cl.nb%bl.nr), q0, q1)
}

// computeTask runs task i of the tm×tn grid: its rows in MC blocks (packing
// A for each), its micro-panel columns of the packed B panel.
func (cl *call[T]) computeTask(i int) {
	bl := cl.bl
	mt0, mt1 := split(ceilDiv(cl.m, bl.mr), cl.tm, i/cl.tn)
	nt0, nt1 := split(ceilDiv(cl.nb, bl.nr), cl.tn, i%cl.tn)
	rlo, rhi := mt0*bl.mr, min(mt1*bl.mr, cl.m)
	clo, chi := nt0*bl.nr, min(nt1*bl.nr, cl.nb)
	if rlo >= rhi || clo >= chi {
		return
	}
	ar := getArena[T](cl.ti)
	buf := ar.get(bl.mc*cl.kb + bl.mr*bl.nr)
	pa, tile := buf[:bl.mc*cl.kb], buf[bl.mc*cl.kb:]
	for ic := rlo; ic < rhi; ic += bl.mc {
		mb := min(bl.mc, rhi-ic)
		packA(pa, cl.tA, cl.a, cl.lda, ic, cl.pc, mb, cl.kb, bl.mr, bl.edgeMR(cl.m%bl.mr))
		cl.macro(pa, tile, ic, mb, clo, chi)
	}
	aPools[cl.ti].Put(ar)
}

// macro multiplies the packed mb×kb block pa by columns [clo, chi) of the
// packed panel, updating C from row ic and column jc+clo.
func (cl *call[T]) macro(pa, tile []T, ic, mb, clo, chi int) {
	mr, nr, kb := cl.bl.mr, cl.bl.nr, cl.kb
	alpha, beta := cl.alpha, cl.betaP
	ldc := cl.ldc
	for jr := clo; jr < chi; jr += nr {
		cols := min(nr, cl.nb-jr)
		// The last, partial panel was packed for the narrowest kernel
		// covering it (w wide), so its padding costs in proportion.
		w := nr
		if cols < nr {
			w = cl.bl.edgeNR(cols)
		}
		pb := cl.pb[jr*kb : jr*kb+w*kb]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			// Likewise the last, partial row panel (h high).
			h := mr
			if rows < mr {
				h = cl.bl.edgeMR(rows)
			}
			ap := pa[ir*kb : ir*kb+h*kb]
			off := (ic+ir)*ldc + cl.jc + jr
			if cl.bDirect && cols == nr {
				// B read in place from row pc, column jc+jr.
				bs := cl.b[cl.pc*cl.ldb+cl.jc+jr:]
				if cl.cT || rows != h {
					cl.microB(h, ap, bs, tile, nr, alpha, 0)
					if cl.cT {
						cl.mergeT(tile, nr, ic+ir, cl.jc+jr, rows, cols, beta)
					} else {
						cl.merge(tile, nr, off, rows, cols, beta)
					}
				} else {
					cl.microB(h, ap, bs, cl.c[off:], ldc, alpha, beta)
				}
				continue
			}
			if cl.cT {
				cl.micro(h, w, ap, pb, tile, w, alpha, 0)
				cl.mergeT(tile, w, ic+ir, cl.jc+jr, rows, cols, beta)
				continue
			}
			if rows == h && cols == w {
				cl.micro(h, w, ap, pb, cl.c[off:], ldc, alpha, beta)
				continue
			}
			// Edge: whole tile into scratch, then merge the valid part.
			cl.micro(h, w, ap, pb, tile, w, alpha, 0)
			cl.merge(tile, w, off, rows, cols, beta)
		}
	}
}

// merge adds the rows×cols corner of the scratch tile (row stride nr) to C
// from c[off].
func (cl *call[T]) merge(tile []T, nr, off, rows, cols int, beta T) {
	ldc := cl.ldc
	for r := range rows {
		dst := cl.c[off+r*ldc : off+r*ldc+cols]
		src := tile[r*nr : r*nr+cols]
		if beta == 0 {
			copy(dst, src)
		} else {
			for j, v := range src {
				dst[j] = v + beta*dst[j]
			}
		}
	}
}

// microB calls the AVX-512 kernel of height mr (8, 4 or 2) that reads a
// full-width B block in place (row p at b[p*ldb:]).
func (cl *call[T]) microB(mr int, a, b, c []T, ldc int, alpha, beta T) {
	if cl.ti == 1 {
		pa, pb, pc, al, be := pf64(a), pf64(b), pf64(c), float64(alpha), float64(beta)
		switch mr {
		case 8:
			dgemmKernelAVX512Bld(cl.kb, pa, pb, pc, cl.ldb, ldc, al, be)
		case 4:
			dgemmKernelAVX512Bldm4(cl.kb, pa, pb, pc, cl.ldb, ldc, al, be)
		default:
			dgemmKernelAVX512Bldm2(cl.kb, pa, pb, pc, cl.ldb, ldc, al, be)
		}
		return
	}
	pa, pb, pc, al, be := pf32(a), pf32(b), pf32(c), float32(alpha), float32(beta)
	switch mr {
	case 8:
		sgemmKernelAVX512Bld(cl.kb, pa, pb, pc, cl.ldb, ldc, al, be)
	case 4:
		sgemmKernelAVX512Bldm4(cl.kb, pa, pb, pc, cl.ldb, ldc, al, be)
	default:
		sgemmKernelAVX512Bldm2(cl.kb, pa, pb, pc, cl.ldb, ldc, al, be)
	}
}

// mergeT adds the rows×cols corner of the scratch tile (row stride nr) to C
// stored transposed, at C(i0, j0), i.e. c[(j0+j)*ldc + i0+i].
func (cl *call[T]) mergeT(tile []T, nr, i0, j0, rows, cols int, beta T) {
	ldc := cl.ldc
	for j := range cols {
		dst := cl.c[(j0+j)*ldc+i0:][:rows]
		if beta == 0 {
			for i := range dst {
				dst[i] = tile[i*nr+j]
			}
		} else {
			for i := range dst {
				dst[i] = tile[i*nr+j] + beta*dst[i]
			}
		}
	}
}

// micro calls the kernel chosen for this call on one full mr×nr tile (the
// family's MR and NR or one of its edge sizes).
func (cl *call[T]) micro(mr, nr int, a, b, c []T, ldc int, alpha, beta T) {
	switch cl.kern {
	case kernAVX512:
		if cl.ti == 1 {
			pa, pb, pc, al, be := pf64(a), pf64(b), pf64(c), float64(alpha), float64(beta)
			if mr != mrD512 {
				d512Short[mr/4][nr/8-1](cl.kb, pa, pb, pc, ldc, al, be)
				return
			}
			switch nr {
			case nrD512:
				dgemmKernelAVX512(cl.kb, pa, pb, pc, ldc, al, be)
			case 16:
				dgemmKernelAVX512x16(cl.kb, pa, pb, pc, ldc, al, be)
			case 8:
				dgemmKernelAVX512x8(cl.kb, pa, pb, pc, ldc, al, be)
			default:
				panic("gemm: no float64 avx512 kernel of this width")
			}
		} else {
			pa, pb, pc, al, be := pf32(a), pf32(b), pf32(c), float32(alpha), float32(beta)
			if mr != mrS512 {
				s512Short[mr/4][nr/16-1](cl.kb, pa, pb, pc, ldc, al, be)
				return
			}
			switch nr {
			case nrS512:
				sgemmKernelAVX512(cl.kb, pa, pb, pc, ldc, al, be)
			case 32:
				sgemmKernelAVX512x32(cl.kb, pa, pb, pc, ldc, al, be)
			case 16:
				sgemmKernelAVX512x16(cl.kb, pa, pb, pc, ldc, al, be)
			default:
				panic("gemm: no float32 avx512 kernel of this width")
			}
		}
	case kernAVX2:
		if cl.ti == 1 {
			dgemmKernelAVX2(cl.kb, pf64(a), pf64(b), pf64(c), ldc, float64(alpha), float64(beta))
		} else {
			sgemmKernelAVX2(cl.kb, pf32(a), pf32(b), pf32(c), ldc, float32(alpha), float32(beta))
		}
	case kernNEON:
		if cl.ti == 1 {
			dgemmKernelNEON(cl.kb, pf64(a), pf64(b), pf64(c), ldc, float64(alpha), float64(beta))
		} else {
			sgemmKernelNEON(cl.kb, pf32(a), pf32(b), pf32(c), ldc, float32(alpha), float32(beta))
		}
	default:
		kernelGeneric(cl.kb, a, b, c, ldc, alpha, beta)
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

func pf32[T float32 | float64](s []T) *float32 { return (*float32)(unsafe.Pointer(&s[0])) }
func pf64[T float32 | float64](s []T) *float64 { return (*float64)(unsafe.Pointer(&s[0])) }
