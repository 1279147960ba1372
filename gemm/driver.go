package gemm

import (
	"sync"
	"sync/atomic"

	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/parallel"
)

// swapEdges enables the transposed computation of products narrower than a
// tile (a variable so that the tuning harness can compare).
var swapEdges = true

// call carries one GEMM call through the blocked loops. It is kept on a
// free list (callList), and its
// team method is bound once (doTeam) so that handing it to parallel.Do
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
	cT          bool            // C is stored transposed: C(i, j) is c[j*ldc+i]
	bDirect     bool            // full B micro-panels read in place (kernelDesc.directBRows)
	pk          igemm.Packer[T] // packs B instead of packB (implicit B; b unused unless boff is set)
	boff        []int           // with pk: row r of B also at b[boff[r]:] (igemm.InPlace)

	// The plan, fixed before the team starts (see plan).
	team     int // goroutines invited
	tasks    int // compute tasks wanted per block (the grid's budget)
	nk, nblk int // depth blocks per column panel; blocks in all

	// Shared progress of the team, one entry per block, and per compute
	// task the number of blocks it has finished (see teamRun).
	blk      []blockState
	rectDone []paddedInt64
	abort    atomic.Bool // a goroutine of the team panicked: the rest stop

	// A goroutine that has waited longer than waitSpin for work claimed by
	// another sleeps on wake (L = &wakeMu) until that work is done;
	// sleepers counts them, so that the goroutines finishing work take the
	// lock only when someone sleeps (see waitFor).
	wakeMu   sync.Mutex
	wake     sync.Cond
	sleepers atomic.Int32

	pb     [2][]T   // B panels: block s packs into pb[s%2] when team > 1
	pre    [][]T    // B panels packed before the call (GemmPacked), one per block
	preA   [][]T    // op(A) packed before the call (GemmPackedA), one per depth block
	epi    Epilogue // GemmPackedEpilogue's: run on each MC block of a task after the last depth block
	bArena [2]arena[T]
	doTeam func(int)
}

func getCall[T float32 | float64]() *call[T] {
	if cl := callList[T]().Get(); cl != nil {
		return cl
	}
	cl := new(call[T])
	cl.doTeam = cl.teamRun
	cl.wake.L = &cl.wakeMu
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
// Parallelism (see the package documentation, # Threads): one hand-off to
// the pool per call; the goroutines of the team walk the (jc, pc) blocks
// together, sharing the packing of each B panel and then a grid of tasks
// that cut C at MR/NR boundaries, each task packing its own rows of A. The k
// loop is never split, and every C element gets the same kernel with the
// same operands in the same order whatever the split, so results are
// bitwise identical for any thread count.
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
// must pack all of op(A) a second time, which costs as much as it saves.
// Each test alone misses cases the other catches (docs/gemm-tuning.md).
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
	drivePacked(kern, ti, tA, tB, m, n, k, alpha, a, lda, b, ldb, nil, nil, beta, c, ldc, cT)
}

// drivePacked is drive with B packed by pk when pk is not nil (NoTrans;
// see implicit.go). With pk, b is unused unless boff is not nil: then row
// r of B also lies at b[boff[r]:] (igemm.InPlace), and the kernels with
// row-offset variants (kernelDesc.rowOffsets) read full micro-panels from
// there as they read a stored B in place.
func drivePacked[T float32 | float64](kern, ti int, tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, pk igemm.Packer[T], boff []int, beta T, c []T, ldc int, cT bool) {
	driveWith(kern, ti, tA, tB, m, n, k, alpha, a, lda, b, ldb, pk, boff, nil, beta, c, ldc, cT)
}

// driveWith is drivePacked with op(A) packed before the call when preA is
// not nil (GemmPackedA: one slice per depth block, all m rows as MR-row
// micro-panels; a is then only checked, never read).
func driveWith[T float32 | float64](kern, ti int, tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, pk igemm.Packer[T], boff []int, preA [][]T, beta T, c []T, ldc int, cT bool) {
	cl := getCall[T]()
	cl.preA = preA
	cl.kern, cl.ti, cl.bl = kern, ti, blocks[kern][ti]
	cl.tA, cl.tB, cl.m, cl.n, cl.k = tA, tB, m, n, k
	cl.alpha, cl.beta = alpha, beta
	cl.a, cl.b, cl.c, cl.lda, cl.ldb, cl.ldc = a, b, c, lda, ldb, ldc
	cl.cT = cT
	cl.pk, cl.boff = pk, boff
	kd := &kernels[kern]
	cl.bDirect = tB == NoTrans && m <= kd.directBRows[ti] && (boff != nil || pk == nil && !(kd.packAliased && aliasedRows(ldb, ti)))

	threads := parallel.Threads()
	if flops(m, n, k) < float64(kd.parMinFlops) {
		threads = 1
	}
	cl.plan(threads)
	if cl.team > 1 {
		parallel.Do(cl.team, cl.doTeam)
	} else {
		cl.teamRun(0)
	}
	cl.a, cl.b, cl.c, cl.pk, cl.boff, cl.preA = nil, nil, nil, nil, nil, nil
	callList[T]().Put(cl)
}

// plan sizes the team, the per-block state and the B panel buffers for a
// call on up to threads goroutines.
func (cl *call[T]) plan(threads int) {
	bl := &cl.bl
	// Depth blocks of nearly equal size, at most KC: k = KC+1 becomes two
	// halves rather than KC and a sliver.
	cl.nk = ceilDiv(cl.k, bl.kc)
	cl.nblk = ceilDiv(cl.n, bl.nc) * cl.nk
	mt, nt := ceilDiv(cl.m, bl.mr), ceilDiv(min(cl.n, bl.nc), bl.nr)
	cl.tasks = threads
	tm, tn := grid(threads, mt, nt)
	// Goroutines beyond the tasks of the widest panel would find nothing to
	// do but help pack B.
	cl.team = min(threads, max(tm*tn, min(nt, threads)))
	if cap(cl.blk) < cl.nblk {
		cl.blk = make([]blockState, cl.nblk)
	}
	cl.blk = cl.blk[:cl.nblk]
	for i := range cl.blk {
		b := &cl.blk[i]
		b.packNext.Store(0)
		b.packDone.Store(0)
		b.taskNext.Store(0)
		b.taskDone.Store(0)
	}
	if len(cl.rectDone) < threads {
		cl.rectDone = make([]paddedInt64, threads)
	}
	for i := range cl.rectDone[:threads] {
		cl.rectDone[i].Store(0)
	}
	cl.abort.Store(false)
	panel := ceilDiv(cl.k, cl.nk) * roundUp(min(cl.n, bl.nc), bl.nr)
	cl.pb[0] = cl.bArena[0].get(panel)
	cl.pb[1] = nil
	if cl.team > 1 && cl.nblk > 1 {
		cl.pb[1] = cl.bArena[1].get(panel)
	}
}

// flops is 2·m·n·k, in float64 so that it cannot overflow a 32-bit int.
func flops(m, n, k int) float64 { return 2 * float64(m) * float64(n) * float64(k) }

func roundUp(x, m int) int { return ceilDiv(x, m) * m }

// block describes block s of a call: column panel jc (nb wide), depth
// range pc (kb deep), whether it is the first depth block of its panel, its
// task grid and its B shares.
type block struct {
	s, jc, nb, pc, kb int
	first             bool
	tm, tn            int // task grid over row tiles × column tiles
	q0, q1            int // micro-panels of B to pack
	nPack             int // B shares
}

func (cl *call[T]) block(s int) block {
	bl := &cl.bl
	jci, kbi := s/cl.nk, s%cl.nk
	jc := jci * bl.nc
	nb := min(bl.nc, cl.n-jc)
	pc, pe := split(cl.k, cl.nk, kbi)
	bk := block{s: s, jc: jc, nb: nb, pc: pc, kb: pe - pc, first: kbi == 0}
	nTiles := ceilDiv(nb, bl.nr)
	bk.tm, bk.tn = grid(cl.tasks, ceilDiv(cl.m, bl.mr), nTiles)
	bk.q1 = nTiles
	if cl.bDirect {
		bk.q0 = nb / bl.nr // full micro-panels are read in place
	}
	if bk.q1 > bk.q0 {
		bk.nPack = min(cl.team, bk.q1-bk.q0)
	}
	return bk
}

// computeTask runs task i of block bk's tm×tn grid: its rows in MC blocks
// (packing A for each), its micro-panel columns of the packed B panel pb.
func (cl *call[T]) computeTask(bk *block, pb, pa, tile []T, i int) {
	bl := cl.bl
	rlo, rhi, clo, chi := taskRect(bl, cl.m, bk.nb, bk.tm, bk.tn, i)
	if rlo >= rhi || clo >= chi {
		return
	}
	for ic := rlo; ic < rhi; ic += bl.mc {
		mb := min(bl.mc, rhi-ic)
		if cl.preA != nil {
			// Rows from ic (an MR boundary) start at ic·kb of the depth
			// block's packed rows, in the layout packA writes.
			cl.macro(bk, pb, cl.preA[bk.s%cl.nk][ic*bk.kb:], tile, ic, mb, clo, chi)
			continue
		}
		packA(pa, cl.tA, cl.a, cl.lda, ic, bk.pc, mb, bk.kb, bl.mr, bl.edgeMR(cl.m%bl.mr))
		cl.macro(bk, pb, pa, tile, ic, mb, clo, chi)
	}
}

// macro multiplies the packed mb×kb block pa by columns [clo, chi) of the
// packed B panel, updating C from row ic and column jc+clo.
func (cl *call[T]) macro(bk *block, panel, pa, tile []T, ic, mb, clo, chi int) {
	mr, nr, kb := cl.bl.mr, cl.bl.nr, bk.kb
	jc := bk.jc
	// beta' is the caller's beta for the first depth block and 1 after.
	alpha, beta := cl.alpha, T(1)
	if bk.first {
		beta = cl.beta
	}
	ldc := cl.ldc
	// With an epilogue, the last depth block hands each strip of about
	// epiCols columns of these mb rows to it once the strip is final, while
	// it is in L1.
	epi := cl.epi != nil && bk.pc+bk.kb == cl.k
	e0 := clo
	for jr := clo; jr < chi; jr += nr {
		if epi && jr > e0 && (jr-e0 >= epiCols) {
			cl.epi(ic, ic+mb, jc+e0, jc+jr)
			e0 = jr
		}
		cols := min(nr, bk.nb-jr)
		// The last, partial panel was packed for the narrowest kernel
		// covering it (w wide), so its padding costs in proportion.
		w := nr
		if cols < nr {
			w = cl.bl.edgeNR(cols)
		}
		pb := panel[jr*kb : jr*kb+w*kb]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			// Likewise the last, partial row panel (h high).
			h := mr
			if rows < mr {
				h = cl.bl.edgeMR(rows)
			}
			ap := pa[ir*kb : ir*kb+h*kb]
			off := (ic+ir)*ldc + jc + jr
			if cl.bDirect && cols == nr {
				// B read in place from row pc, column jc+jr.
				var bs []T
				var boff []int
				if cl.boff != nil {
					bs, boff = cl.b[jc+jr:], cl.boff[bk.pc:]
				} else {
					bs = cl.b[bk.pc*cl.ldb+jc+jr:]
				}
				if cl.cT || rows != h {
					cl.microB(h, kb, ap, bs, boff, tile, nr, alpha, 0)
					if cl.cT {
						cl.mergeT(tile, nr, ic+ir, jc+jr, rows, cols, beta)
					} else {
						cl.merge(tile, nr, off, rows, cols, beta)
					}
				} else {
					cl.microB(h, kb, ap, bs, boff, cl.c[off:], ldc, alpha, beta)
				}
				continue
			}
			if cl.cT {
				cl.micro(h, w, kb, ap, pb, tile, w, alpha, 0)
				cl.mergeT(tile, w, ic+ir, jc+jr, rows, cols, beta)
				continue
			}
			if rows == h && cols == w {
				cl.micro(h, w, kb, ap, pb, cl.c[off:], ldc, alpha, beta)
				continue
			}
			// Edge: whole tile into scratch, then merge the valid part.
			cl.micro(h, w, kb, ap, pb, tile, w, alpha, 0)
			cl.merge(tile, w, off, rows, cols, beta)
		}
	}
	if epi && chi > e0 {
		cl.epi(ic, ic+mb, jc+e0, jc+chi)
	}
}

// epiCols is about how many columns of C an epilogue call takes: a strip
// of an MC block. Strips of 16 or 64 columns (in L1) measured slower than
// a separate pass for GELU (the calls cost more than the cache misses they
// save: GELU is compute-bound); at 256 the two are level.
const epiCols = 256

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
