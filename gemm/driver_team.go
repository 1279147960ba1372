package gemm

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/adjoint-go/adjoint/internal/osyield"
)

// The team of a parallel call: the goroutines that walk the call's blocks
// together (see teamRun), claiming work from shared counters and waiting
// only for work another goroutine has claimed.

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
		if cl.pre != nil {
			pb = cl.pre[s] // packed by PackB: nothing to pack or wait for
		} else if cl.pb[1] != nil {
			pb = cl.pb[s&1]
			if s >= 2 {
				prev := &cl.blk[s-2]
				pt := cl.block(s - 2)
				if !cl.waitFor(&prev.taskDone, int64(pt.tm*pt.tn)) {
					return
				}
			}
		}
		if cl.pre == nil && !cl.packShares(&bk, st, pb) {
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
// that kept polling would hold the CPU that thread needs (bench's
// BenchmarkLoaded; docs/gemm-tuning.md). It returns false, at once, if the
// team aborted.
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
