package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/internal/osyield"
	"github.com/adjoint-go/adjoint/parallel"
)

// parMinFlops is the smallest product (2·m·n·k) split across goroutines.
// A call hands work to the pool once; a worker still spinning from the
// previous call takes it within about a microsecond, a parked one in tens.
// Measured on the idle 2-core Zen 5 VM (tuning harness, best of 40, wall
// time, f32 avx512, B read in place), GFLOP/s one thread → two, with the
// workers awake (parallel calls back to back, as in a training step): 96³
// 201 → 238, 128³ 206 → 276, 160³ 205 → 356, 192³ 216 → 409, 224³ 215 →
// 389; with them parked (each parallel call after a serial one of about
// 100 µs): 128³ 209 → 213, 160³ 210 → 194, 192³ 222 → 207. So from 128³ a
// split gains a third or more in a sequence of calls and loses at most 7%
// for a lone call. (At load 2.5–4 the first version measured losses up to
// 240³ and split only from there.)
var parMinFlops = 2 * 128 * 128 * 128

// swapEdges enables the transposed computation of products narrower than a
// tile (a variable so that the tuning harness can compare).
var swapEdges = true

// directBRows is, per kernel and type (f32, f64), the most rows (m, after
// any swap) for which the kernel reads NoTrans B in place instead of
// packing it (0: never; only the AVX-512 and AVX2 families have in-place
// variants). Packing is a read and a write of all of B, and on two threads
// also a barrier (every goroutine waits until the shared panel is packed),
// while the AVX-512 kernel's 8×48 (8×24) tile needs only 3 vector loads of
// B per 24 FMAs, which stream well from L2. Only the last, partial column
// panel is packed.
//
// Measured on the Zen 5 VM (tuning harness, best of 40 interleaved calls,
// wall time, idle machine), GFLOP/s packed -> in place, f32: one thread
// 256³ 202 -> 216, 512³ 194 -> 211, 256×512×784 188 -> 220, 784×512×256 TN
// 186 -> 201, 256×2048×512 171 -> 175, but 1024³ 194 -> 177 and
// 1024×2048×256 194 -> 177; two threads 256³ 166 -> 373, 512³ 303 -> 401,
// 256×512×784 283 -> 394, 784×512×256 TN 257 -> 389, 1024³ 369 -> 343.
// f64: one thread 256³ 86 -> 109 but 512³ 95 -> 89 and 256×512×784 88 -> 87;
// two threads 256³ 109 -> 202, 256×512×784 135 -> 153. (On Zen 4 the first
// cut-off, 64, came from one-thread runs: in place gained up to m = 96 at
// ldb = 512 and tied at ldb = 1024 and 2048.) Either way the kernels do the
// same arithmetic in the same order, so the cut-off changes no result.
//
// The AVX2 kernels (6×16, 6×8) read a row of B (64 bytes) per 12 FMAs.
// Measured on the Zen 3 VM (AMD EPYC family 25 model 1, L1D 32 KB, L2 512
// KB; tuning harness, best of 40, wall time, idle), GFLOP/s packed -> in place, one
// thread then two, f32: 128x512x256 70 -> 85, 92 -> 125; 256x512x784 80 ->
// 86, 134 -> 153; 256x784x512 89 -> 92, 155 -> 176; 384³ 88 -> 87, 151 ->
// 169; but 512x640x512 91 -> 86, 164 -> 164 and 768³ 91 -> 79, 173 -> 160.
// f64: 256³ 44 -> 43, 67 -> 80; 256x784x512 43 -> 44, 73 -> 87; but 384³ 45
// -> 36, 77 -> 68. Rows a multiple of 4 KB apart are always packed for
// these kernels (see packAliased).
//
// A variable so that the tuning harness can compare.
var directBRows = [numKernels][2]int{
	kernAVX512: {800, 256},
	kernAVX2:   {384, 256},
}

// aliasedRows reports whether rows of B ldb elements apart (type index ti)
// start a multiple of 4 KB apart. The in-place kernels then stream a
// depth block's rows through one set of the L1 cache (its sets repeat every
// 4 KB: 48 KB, 12 ways), which evicts them before the next tile reads them
// again, so such a B is packed even below directBRows. Measured on the Zen
// 5 VM (tuning harness as above), GFLOP/s in place -> packed, one thread
// then two: f64 256×512×784 93 -> 99, 180 -> 191; f64 256×512×512 94 ->
// 103, 180 -> 197; f64 256×1024×512 97 -> 103; f32 256×1024×512 198 ->
// 214, 377 -> 410; f32 128×2048×256 200 -> 207. Other strides keep the
// in-place read, which wins there: f64 256³ (2 KB rows) 107 -> 103, 205 ->
// 191; f64 128×640×512 111 -> 99; f32 256×512×784 (2 KB) 224 -> 214, 438
// -> 406.
func aliasedRows(ldb, ti int) bool {
	size := 4
	if ti == 1 {
		size = 8
	}
	return ldb*size%4096 == 0
}

// packAliased enables aliasedRows, per kernel, where it was measured to
// pay. For AVX-512: on the Zen 5 VM (L1D 48 KB, 12 ways) above, but not on the Zen 4 VM (L1D 32
// KB, 8 ways, 512-bit FMAs issued as two halves), where the in-place read
// won at every aliased stride (tuning harness, best of 40, wall time,
// idle, GFLOP/s packed -> in place, one thread then two): f64 256×512×784
// 46.5 -> 48.2, 87-89 -> 95-98; f64 256×512×512 47.2 -> 49.0, 88-91 -> 97;
// f64 128×512×256 45.0 -> 54.7, 80-89 -> 106; f32 256×1024×512 97 -> 104,
// 179-187 -> 209-210; f32 128×2048×256 88 -> 100, 146-179 -> 184-198. The
// L1 size is what tells the two apart; other CPUs follow the one whose L1
// they share.
//
// The AVX2 kernels always pack such a B: on the Zen 3 VM (L1D 32 KB, 8 ways) the in-place read of such
// a B ran at 57-60% of the packed speed (tuning harness as above, GFLOP/s
// packed -> in place, one thread then two: f32 256x1024x512 89 -> 57, 146
// -> 109; f32 512x1024x256 92 -> 57; f64 256x512x512 44 -> 25, 75 -> 49;
// f64 128x512x256 40 -> 25), where the AVX-512 kernels on Zen 4, with the
// same L1, gained. Probably because their tile row is one cache line of B
// per k step, all of a depth block's lines in one L1 set, while the
// AVX-512 tile reads three consecutive lines per row (not measured further).
//
// A variable so that the tuning harness can compare.
var packAliased = [numKernels]bool{
	kernAVX512: hostCaches().l1 >= 48<<10,
	kernAVX2:   true,
}

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
	bDirect     bool            // full B micro-panels read in place (see directB)
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

	pb     [2][]T // B panels: block s packs into pb[s%2] when team > 1
	bArena [2]arena[T]
	doTeam func(int)
}

// blockState is the shared progress of one (jc, pc) block: B shares claimed
// and packed, compute tasks claimed and finished. Padded so that two blocks'
// counters never share a cache line.
type blockState struct {
	packNext, packDone, taskNext, taskDone atomic.Int64
	_                                      [32]byte
}

type paddedInt64 struct {
	atomic.Int64
	_ [56]byte
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
	drivePacked(kern, ti, tA, tB, m, n, k, alpha, a, lda, b, ldb, nil, nil, beta, c, ldc, cT)
}

// drivePacked is drive with B packed by pk when pk is not nil (NoTrans;
// see implicit.go). With pk, b is unused unless boff is not nil: then row
// r of B also lies at b[boff[r]:] (igemm.InPlace), and the AVX-512 kernels
// read full micro-panels from there as they read a stored B in place.
func drivePacked[T float32 | float64](kern, ti int, tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, pk igemm.Packer[T], boff []int, beta T, c []T, ldc int, cT bool) {
	cl := getCall[T]()
	cl.kern, cl.ti, cl.bl = kern, ti, blocks[kern][ti]
	cl.tA, cl.tB, cl.m, cl.n, cl.k = tA, tB, m, n, k
	cl.alpha, cl.beta = alpha, beta
	cl.a, cl.b, cl.c, cl.lda, cl.ldb, cl.ldc = a, b, c, lda, ldb, ldc
	cl.cT = cT
	cl.pk, cl.boff = pk, boff
	cl.bDirect = tB == NoTrans && m <= directBRows[kern][ti] && (boff != nil || pk == nil && !(packAliased[kern] && aliasedRows(ldb, ti)))

	threads := parallel.Threads()
	if flops(m, n, k) < float64(parMinFlops) {
		threads = 1
	}
	cl.plan(threads)
	if cl.team > 1 {
		parallel.Do(cl.team, cl.doTeam)
	} else {
		cl.teamRun(0)
	}
	cl.a, cl.b, cl.c, cl.pk, cl.boff = nil, nil, nil, nil, nil
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

// teamRun is run by every goroutine of the team (the caller's included); a
// goroutine that joins late, or not at all, is not waited for. Each block
// goes through two phases, and every piece of work is claimed from a shared
// counter by whichever goroutine gets there first:
//
//  1. B shares: pack micro-panels [q0, q1) of the panel into pb[s%2], then
//     wait until the shares claimed by others are packed too.
//  2. Compute tasks: rectangle t of the block's grid; it packs its rows of A
//     in MC blocks and runs the kernels against its columns of the panel.
//
// Three waits keep it correct, and each waits only for work already claimed
// by a running goroutine (a goroutine claims in block s only once everything
// in blocks before s is claimed), so none can deadlock, even when the caller
// ends up doing everything alone:
//   - phase 2 of block s starts once its panel is complete;
//   - packing block s into pb[s%2] starts once block s−2's tasks, which read
//     that buffer, are done (so one wait per block serves as the barrier);
//   - task t of a depth block other than the first starts once task t of
//     the block before it (the same rectangle of C, one depth block earlier)
//     is done, so C accumulates in depth order and no two goroutines write
//     the same tile at once.
//
// If any goroutine panics, abort makes the others stop waiting and return,
// and parallel.Do re-raises the panic on the caller's goroutine.
func (cl *call[T]) teamRun(int) {
	bl := &cl.bl
	var ar *arena[T]
	var pa, tile []T
	defer func() {
		if r := recover(); r != nil {
			cl.abort.Store(true)
			cl.signal()
			panic(r)
		}
		if ar != nil {
			arenaList[T]().Put(ar)
		}
	}()
	for s := range cl.nblk {
		bk := cl.block(s)
		st := &cl.blk[s]
		pb := cl.pb[0]
		if cl.pb[1] != nil {
			pb = cl.pb[s&1]
			if s >= 2 {
				prev := &cl.blk[s-2]
				pt := cl.block(s - 2)
				if !cl.waitFor(&prev.taskDone, int64(pt.tm*pt.tn)) {
					return
				}
			}
		}
		if !cl.packShares(&bk, st, pb) {
			return
		}
		nt := int64(bk.tm * bk.tn)
		for t := st.taskNext.Add(1) - 1; t < nt; t = st.taskNext.Add(1) - 1 {
			if ar == nil {
				ar = getArena[T]()
				buf := ar.get(bl.mc*ceilDiv(cl.k, cl.nk) + bl.mr*bl.nr)
				pa, tile = buf[:bl.mc*ceilDiv(cl.k, cl.nk)], buf[bl.mc*ceilDiv(cl.k, cl.nk):]
			}
			rd := &cl.rectDone[t]
			if !bk.first && !cl.waitFor(&rd.Int64, int64(s)) {
				return
			}
			cl.computeTask(&bk, pb, pa, tile, int(t))
			// rectDone only grows: task t of a later panel's first block
			// may finish before task t of this panel's last one.
			for v := rd.Load(); v < int64(s+1) && !rd.CompareAndSwap(v, int64(s+1)); v = rd.Load() {
			}
			st.taskDone.Add(1)
			cl.signal()
		}
	}
}

// packShares claims and packs B shares of block bk until none are left,
// then waits for the panel to be complete; false if the team aborted.
func (cl *call[T]) packShares(bk *block, st *blockState, pb []T) bool {
	n := int64(bk.nPack)
	bl := &cl.bl
	for s := st.packNext.Add(1) - 1; s < n; s = st.packNext.Add(1) - 1 {
		q0, q1 := split(bk.q1-bk.q0, bk.nPack, int(s))
		if cl.pk != nil {
			cl.pk.PackB(pb, bk.pc, bk.jc, bk.nb, bk.kb, bl.nr, bl.edgeNR(bk.nb%bl.nr), bk.q0+q0, bk.q0+q1)
		} else {
			packB(pb, cl.tB, cl.b, cl.ldb, bk.pc, bk.jc, bk.nb, bk.kb, bl.nr, bl.edgeNR(bk.nb%bl.nr), bk.q0+q0, bk.q0+q1)
		}
		st.packDone.Add(1)
		cl.signal()
	}
	return cl.waitFor(&st.packDone, n)
}

// waitFor waits until v >= want: the work it waits for has been claimed by
// a goroutine of the team, usually running and microseconds from done. It
// polls, yielding the processor every pollsPerYield polls, for up to
// waitSpin; then for up to waitPolite it also yields the CPU to the OS
// between polls (osyield); then it sleeps until signal reports progress.
// Yielding the CPU, or sleeping, is what keeps two threads from being
// slower than one on a loaded machine: there the goroutine it waits for may
// sit on an OS thread that lost its CPU to another process, and a waiter
// that kept polling would hold the CPU that thread needs (with one
// competing process, a 256×512×512 product took 2.3–2.9 ms on two threads
// polling against 1.3–1.5 ms on one: BenchmarkLoaded). It returns false, at
// once, if the team aborted.
func (cl *call[T]) waitFor(v *atomic.Int64, want int64) bool {
	if v.Load() >= want {
		return true
	}
	var start time.Time
	for i := 1; v.Load() < want; i++ {
		if cl.abort.Load() {
			return false
		}
		if i%pollsPerYield != 0 {
			continue
		}
		if i == pollsPerYield {
			start = time.Now()
		} else if d := time.Since(start); d > waitSpin+waitPolite {
			return cl.sleep(v, want)
		} else if d > waitSpin {
			osyield.Yield()
		}
		runtime.Gosched()
	}
	return true
}

// sleeps counts the waits that slept, for the tests.
var sleeps atomic.Int64

// sleep blocks on cl.wake until v >= want or the team aborts.
func (cl *call[T]) sleep(v *atomic.Int64, want int64) bool {
	sleeps.Add(1)
	cl.wakeMu.Lock()
	cl.sleepers.Add(1)
	for v.Load() < want && !cl.abort.Load() {
		cl.wake.Wait()
	}
	cl.sleepers.Add(-1)
	cl.wakeMu.Unlock()
	return v.Load() >= want
}

// signal wakes the goroutines sleeping in waitFor, if any, after a counter
// they may wait on has moved (or abort was set). A sleeper registers in
// sleepers before it checks its counter, and signal reads sleepers after
// the counter moved, so one of the two sees the other: either the sleeper
// finds its counter done, or signal finds the sleeper and, taking wakeMu,
// which the sleeper holds until it waits, broadcasts after it waits.
//
// The woken goroutines become runnable on this goroutine's P, behind it,
// so signal then yields: otherwise they would wait for this goroutine to
// block, since an idle P does not take a P's next goroutine at once.
func (cl *call[T]) signal() {
	if cl.sleepers.Load() > 0 {
		cl.wakeMu.Lock()
		cl.wake.Broadcast()
		cl.wakeMu.Unlock()
		runtime.Gosched()
	}
}

// pollsPerYield: a poll is two atomic loads (a few ns), a yield a trip
// through the scheduler under its global lock (0.1–0.5 µs), so yielding
// every 64 polls, as the first version did, spent more time in the
// scheduler than polling; 2048 polls are a few microseconds.
const pollsPerYield = 2048

// waitSpin is how long waitFor polls before it sleeps: long enough that
// on an idle machine a wait (for a panel share or a task that is running)
// ends while polling, since a sleeper takes tens of microseconds to wake on
// these VMs; short against the milliseconds an OS thread that lost its CPU
// waits for it back. A variable so that the tuning harness can compare.
var waitSpin = 50 * time.Microsecond

// waitPolite is how long waitFor then goes on polling with osyield.Yield
// between polls before it sleeps: the yield lets a thread that shares this
// CPU (the one it may wait for) run at once, as sleeping would, without the
// 15–60 µs futex wake-up sleeping costs when the wait ends (see
// parallel's politeFor). None where the OS has no yield. A variable so that
// the tuning harness can compare.
var waitPolite = func() time.Duration {
	if osyield.Supported {
		return time.Millisecond
	}
	return 0
}()

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
	for jr := clo; jr < chi; jr += nr {
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

func pf32[T float32 | float64](s []T) *float32 { return (*float32)(unsafe.Pointer(&s[0])) }
func pf64[T float32 | float64](s []T) *float64 { return (*float64)(unsafe.Pointer(&s[0])) }
