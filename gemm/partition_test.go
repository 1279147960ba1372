package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/parallel"
)

// TestPartition checks the task grid at P = 1..16 over panels from one
// tile to many: the rectangles cover every tile exactly once, there are at
// most P of them and none is empty, their row runs differ by at most one
// tile row and their column runs by at most one tile column, and no other
// grid of at most P tasks has a smaller largest task (checked by brute
// force).
func TestPartition(t *testing.T) {
	bl := blocking{mr: 8, nr: 48}
	for p := 1; p <= 16; p++ {
		for _, m := range []int{1, 7, 8, 9, 24, 31, 64, 100, 128, 256, 784} {
			for _, nb := range []int{1, 47, 48, 49, 100, 256, 512, 784, 2016} {
				t.Run(fmt.Sprintf("P=%d/m=%d/nb=%d", p, m, nb), func(t *testing.T) {
					mt, nt := ceilDiv(m, bl.mr), ceilDiv(nb, bl.nr)
					tm, tn := grid(p, mt, nt)
					require.LessOrEqual(t, tm*tn, p)
					require.LessOrEqual(t, tm, mt)
					require.LessOrEqual(t, tn, nt)
					hits := make([]int, mt*nt)
					minR, maxR, minC, maxC := mt, 0, nt, 0
					largest := 0
					for i := range tm * tn {
						rlo, rhi, clo, chi := taskRect(bl, m, nb, tm, tn, i)
						require.Less(t, rlo, rhi, "task %d has no rows", i)
						require.Less(t, clo, chi, "task %d has no columns", i)
						require.Zero(t, rlo%bl.mr, "rows start on a tile")
						require.Zero(t, clo%bl.nr, "columns start on a tile")
						r0, r1 := rlo/bl.mr, ceilDiv(rhi, bl.mr)
						c0, c1 := clo/bl.nr, ceilDiv(chi, bl.nr)
						minR, maxR = min(minR, r1-r0), max(maxR, r1-r0)
						minC, maxC = min(minC, c1-c0), max(maxC, c1-c0)
						largest = max(largest, (r1-r0)*(c1-c0))
						for r := r0; r < r1; r++ {
							for c := c0; c < c1; c++ {
								hits[r*nt+c]++
							}
						}
					}
					for i, h := range hits {
						require.Equal(t, 1, h, "tile (%d, %d) covered %d times", i/nt, i%nt, h)
					}
					require.LessOrEqual(t, maxR-minR, 1, "row runs unbalanced")
					require.LessOrEqual(t, maxC-minC, 1, "column runs unbalanced")
					for r := 1; r <= min(p, mt); r++ {
						for c := 1; r*c <= p && c <= nt; c++ {
							require.LessOrEqual(t, largest, ceilDiv(mt, r)*ceilDiv(nt, c),
								"grid %d×%d beats the chosen %d×%d", r, c, tm, tn)
						}
					}
				})
			}
		}
	}
}

// threadCounts are the counts every determinism test runs: oversubscribed
// beyond this machine's cores, to exercise the partitions of larger ones.
var threadCounts = []int{1, 2, 3, 4, 8, 16}

// TestGemmThreadCounts checks, for every kernel, that the result at 2, 3,
// 4, 8 and 16 threads is bitwise the one-thread result, and that the
// 16-thread result is correct against the float64 loop. The shapes sit
// either side of each switch in the parallel driver: the parallel cut-off,
// the grid's change from rows only to rows and columns (fewer row tiles
// than threads), the in-place B of short products (with and without a
// partial last panel, over several depth blocks, and
// split over columns), several depth blocks
// (the B panel's double buffer is reused and C accumulates across depth
// blocks) and several column panels.
func TestGemmThreadCounts(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { withKernel(t, testThreadCounts[float32]) })
	t.Run("type=f64", func(t *testing.T) { withKernel(t, testThreadCounts[float64]) })
}

func testThreadCounts[T float](t *testing.T) { threadCounts1[T](t, testing.Short()) }

// threadCounts1 is testThreadCounts; with short, each shape runs one
// transpose pair (NT and TN in turn) and only the first is checked against
// the float64 loop.
func threadCounts1[T float](t *testing.T, short bool) {
	lowParMin(t)
	defer parallel.SetThreads(parallel.Threads())
	bl := blocks[current.Load()][typeIndex[T]()]
	rng := rand.New(rand.NewPCG(11, 12))
	c := ceilDiv(curDesc().parMinFlops, 2*96*96) // k at the cut-off for 96×96
	shapes := [][3]int{
		{96, 96, c},             // at the cut-off: parallel
		{96, 96, c - 1},         // just below: serial
		{3 * bl.mr, 300, 200},   // 3 row tiles: P = 4 needs columns too
		{4*bl.mr + 1, 300, 200}, // 5 row tiles
		{max(curDesc().directBRows[typeIndex[T]()], 1), 4*bl.nr + 5, 100},
		{curDesc().directBRows[typeIndex[T]()] + 1, 4*bl.nr + 5, 100},
		{2*bl.mr + 3, bl.nr + 5, 4*bl.kc + 1},  // five depth blocks
		{bl.mr + 1, 2*bl.nc + bl.nr + 3, 200},  // three column panels
		{3*bl.mr + 2, bl.nc + 7, 2*bl.kc + 10}, // both
		{5*bl.mr + 3, 4 * bl.nr, 2*bl.kc + 1},  // B in place, no partial panel
		{bl.mr + 1, 3*bl.nr + 5, 2*bl.kc + 3},  // B in place, columns split, partial panel
	}
	for si, sh := range shapes {
		pairs := transPairs
		if short {
			pairs = transPairs[1+si%2 : 2+si%2] // NT and TN in turn
		}
		for _, tp := range pairs {
			tc := gemmCase{tA: tp[0], tB: tp[1], m: sh[0], n: sh[1], k: sh[2], alpha: 0.5, beta: -1, ldPad: 1}
			o := makeOperands[T](rng, tc)
			var ref []T
			for _, th := range threadCounts {
				parallel.SetThreads(th)
				c := o.c.clone()
				o.run(tc, c[guardPad:guardPad+len(o.c.s)])
				if ref == nil {
					ref = c
					continue
				}
				for i := range c {
					require.Equal(t, bitsOf(ref[i]), bitsOf(c[i]), "%v: threads=%d differs at %d", tc, th, i)
				}
			}
			if !short || sh == shapes[0] {
				checkGemm[T](t, rng, tc) // at 16 threads
			}
		}
	}
}

// TestGemmWaitSleeping is TestGemmThreadCounts -short for the default
// kernel with waitSpin = waitPolite = 0: every wait of the team that does not end
// within its first polls sleeps on the call's condition variable until
// signal wakes it (at 8 and 16 threads on two cores, most do). The results
// must still be bitwise the one-thread ones, and some waits must have
// slept.
func TestGemmWaitSleeping(t *testing.T) {
	prevSpin, prevPolite := waitSpin, waitPolite
	defer func() { waitSpin, waitPolite = prevSpin, prevPolite }()
	waitSpin, waitPolite = 0, 0
	before := sleeps.Load()
	t.Run("type=f32", func(t *testing.T) { threadCounts1[float32](t, true) })
	t.Run("type=f64", func(t *testing.T) { threadCounts1[float64](t, true) })
	require.Greater(t, sleeps.Load(), before, "no wait slept")
}

// TestGemmThreadsChanging multiplies on several goroutines at once while
// another changes the thread count between 1 and 8; every result must be
// bitwise the serial one (run with -race).
func TestGemmThreadsChanging(t *testing.T) {
	lowParMin(t)
	defer parallel.SetThreads(parallel.Threads())
	const m, n, k = 70, 200, 450 // two depth blocks with KC = 384, split at 2+ threads
	require.GreaterOrEqual(t, flops(m, n, k), float64(curDesc().parMinFlops))
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	parallel.SetThreads(1)
	want := make([]float32, m*n)
	Sgemm(NoTrans, Trans, m, n, k, 1, a, k, transposed(b, k, n), k, 0, want, n)
	bt := transposed(b, k, n)
	reps := 60
	if testing.Short() {
		reps = 15
	}
	var stop atomic.Bool
	var flip sync.WaitGroup
	flip.Go(func() {
		for i := 0; !stop.Load(); i++ {
			parallel.SetThreads(1 + i%8)
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			c := make([]float32, m*n)
			for r := range reps {
				Sgemm(NoTrans, Trans, m, n, k, 1, a, k, bt, k, 0, c, n)
				for i := range c {
					if c[i] != want[i] {
						errs <- fmt.Errorf("goroutine %d rep %d: C[%d] = %v, want %v", g, r, i, c[i], want[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	flip.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestGemmParallelNoAllocs: a warm call split across threads allocates
// nothing (pools, the per-call block state and the hand-off included).
func TestGemmParallelNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	defer parallel.SetThreads(parallel.Threads())
	m, n, k := 100, 300, 800
	calls := 30
	if testing.Short() {
		// A fifth of the work, still parallel and two depth blocks deep:
		// under qemu (CI's Haswell run) the full size took 158 s.
		m, n, k, calls = 48, 256, 416, 10
	}
	require.GreaterOrEqual(t, flops(m, n, k), float64(curDesc().parMinFlops))
	a32, b32, c32 := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	a64, b64, c64 := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
	for _, th := range []int{2, 4} {
		parallel.SetThreads(th)
		// Warm: every pack arena on the free lists (some left small by
		// earlier tests' shapes) grows to this shape's size on first use.
		// Late workers holding jobs need no warm-up: the pool makes every
		// job they can hold when it starts them (parallel's
		// TestLateWorkersDoNotAllocate).
		// Several rounds with pauses, so that every arena a team member can
		// hold at once has been used at this size.
		for range 5 {
			for range calls {
				Sgemm(NoTrans, NoTrans, m, n, k, 1, a32, k, b32, n, 0, c32, n)
				Dgemm(Trans, NoTrans, m, n, k, 1, a64, m, b64, n, 0, c64, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		require.Zero(t, testing.AllocsPerRun(10, func() {
			Sgemm(NoTrans, NoTrans, m, n, k, 1, a32, k, b32, n, 0, c32, n)
		}), "Sgemm allocations at %d threads", th)
		require.Zero(t, testing.AllocsPerRun(10, func() {
			Dgemm(Trans, NoTrans, m, n, k, 1, a64, m, b64, n, 0, c64, n)
		}), "Dgemm allocations at %d threads", th)
	}
}

// TestGemmNoAllocsAfterGC: the call state, pack arenas and batched-call
// state live on free lists that survive garbage collections (a sync.Pool
// would be emptied, and refilling it would allocate and page-fault
// megabytes of pack buffers mid-step).
func TestGemmNoAllocsAfterGC(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	lowParMin(t)
	defer parallel.SetThreads(parallel.Threads())
	const m, n, k, batch = 100, 120, 130, 6
	a, b, c := make([]float32, batch*m*k), make([]float32, batch*k*n), make([]float32, batch*m*n)
	for _, th := range []int{1, 2} {
		parallel.SetThreads(th)
		one := func() { Sgemm(NoTrans, Trans, m, n, k, 1, a, k, b, k, 0, c, n) }
		many := func() {
			SgemmStrided(NoTrans, NoTrans, m, n, k, 1, a, k, m*k, b, n, k*n, 0, c, n, m*n, batch)
		}
		for range 20 {
			one()
			many()
		}
		time.Sleep(20 * time.Millisecond) // let late workers return their arenas
		require.Zero(t, testing.AllocsPerRun(3, func() { runtime.GC(); one() }), "Sgemm at %d threads after a GC", th)
		require.Zero(t, testing.AllocsPerRun(3, func() { runtime.GC(); many() }), "SgemmStrided at %d threads after a GC", th)
	}
}

// panicPacker packs a stored row-major B, panicking on its failAt-th PackB
// call, 20 ms after it started.
type panicPacker struct {
	b      []float32
	ldb    int
	calls  atomic.Int32
	failAt int32
}

func (p *panicPacker) PackB(dst []float32, p0, j0, nb, kb, nr, ew, q0, q1 int) {
	if p.calls.Add(1) == p.failAt {
		time.Sleep(20 * time.Millisecond) // long enough for the others to sleep
		panic("packer failed")
	}
	packB(dst, NoTrans, p.b, p.ldb, p0, j0, nb, kb, nr, ew, q0, q1)
}

// TestGemmTeamPanicWakesSleepers makes one goroutine of a team panic (in
// packing B for a later depth block) while the others may sleep in
// waitFor (waitSpin = waitPolite = 0): the call must re-raise that panic on the caller
// rather than hang, and the next calls must still be right.
func TestGemmTeamPanicWakesSleepers(t *testing.T) {
	lowParMin(t)
	prevSpin, prevPolite := waitSpin, waitPolite
	defer func() { waitSpin, waitPolite = prevSpin, prevPolite }()
	waitSpin, waitPolite = 0, 0
	defer parallel.SetThreads(parallel.Threads())
	kc := blocks[current.Load()][0].kc
	m, n, k := 200, 300, 2*kc+1 // three depth blocks
	rng := rand.New(rand.NewPCG(7, 8))
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	want := make([]float32, m*n)
	parallel.SetThreads(1)
	Sgemm(NoTrans, NoTrans, m, n, k, 1, a, k, b, n, 0, want, n)
	for _, th := range []int{2, 4, 16} {
		for _, failAt := range []int32{1, 3, 5} {
			parallel.SetThreads(th)
			pk := &panicPacker{b: b, ldb: n, failAt: failAt}
			c := make([]float32, m*n)
			done := make(chan any, 1)
			go func() {
				defer func() { done <- recover() }()
				implicit(m, n, k, 1, a, k, igemm.Packer[float32](pk), 0, c, n)
			}()
			select {
			case r := <-done:
				if int(pk.calls.Load()) >= int(failAt) {
					require.Equal(t, "packer failed", r, "threads=%d failAt=%d", th, failAt)
				}
			case <-time.After(time.Minute):
				t.Fatalf("threads=%d failAt=%d: the call did not return", th, failAt)
			}
			pk = &panicPacker{b: b, ldb: n}
			require.True(t, implicit(m, n, k, 1, a, k, igemm.Packer[float32](pk), 0, c, n))
			require.Equal(t, want, c, "threads=%d: the call after the panic", th)
		}
	}
}
