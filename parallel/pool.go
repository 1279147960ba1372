package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/adjoint-go/adjoint/internal/osyield"
)

// job is one call of Do (or For), shared by the goroutines working on it.
// It is recycled through freeJobs once the last goroutine holding a
// reference (the caller, and each worker it was handed to) lets go, so a
// caller need not wait for workers that woke up too late to find any task.
type job struct {
	body  func(i int)
	rbody func(lo, hi int) // For's body, used when body is nil
	n     int              // For's iteration count
	count int
	next  atomic.Int64 // next task index to claim
	left  atomic.Int64 // tasks not yet finished
	refs  atomic.Int32 // goroutines still holding the job
	skip  atomic.Bool  // a task panicked: claim the rest without running them
	// wait is the caller's state once its own tasks are done: waitRunning
	// while it spins, waitParked once it blocks on done, waitDone when the
	// last task has finished. The goroutine finishing the last task swaps
	// in waitDone and sends on done only if the caller had parked.
	wait   atomic.Int32
	done   chan struct{} // capacity 1
	mu     sync.Mutex
	pnc    any // first panic value, if any
	failed bool
}

const (
	waitRunning = iota
	waitParked
	waitDone
)

// freeJobs holds recycled jobs. Not a sync.Pool: a pool is emptied by every
// second garbage collection, and each refill allocates (a job and its
// channel) inside what should be an allocation-free training step.
//
// How many jobs can be in use at once is bounded, and ensureWorkers makes
// that many up front, so that a warm call never allocates however late its
// workers are. A job is held by its caller and by every worker it was
// offered to until each lets go, and a worker handed a job while parked may
// wake only milliseconds later on a loaded machine, after its caller has
// finished and made more calls, each offered to another parked worker (CI
// once saw five new jobs in ten calls at two threads, with fifteen workers
// started by earlier tests). But a worker holds at most one job at a time
// (it is offered work only when idle), so with w workers, one caller and no
// nesting at most w+1 jobs are ever in use. Nested and concurrent callers
// may need more; those are made on demand and kept, so jobsMade is the peak
// ever in use, and freeJobs has room for all of them (putJob never grows
// it).
var (
	freeMu   sync.Mutex
	freeJobs []*job
	jobsMade int
)

func newJob() *job { return &job{done: make(chan struct{}, 1)} }

func getJob() *job {
	freeMu.Lock()
	defer freeMu.Unlock()
	n := len(freeJobs)
	if n == 0 {
		jobsMade++
		if cap(freeJobs) < jobsMade {
			freeJobs = make([]*job, 0, 2*jobsMade)
		}
		return newJob()
	}
	j := freeJobs[n-1]
	freeJobs[n-1] = nil
	freeJobs = freeJobs[:n-1]
	return j
}

func putJob(j *job) {
	freeMu.Lock()
	freeJobs = append(freeJobs, j) // within capacity: see freeJobs
	freeMu.Unlock()
}

// reserveJobs makes jobs until at least n exist, free or in use.
func reserveJobs(n int) {
	freeMu.Lock()
	defer freeMu.Unlock()
	if cap(freeJobs) < n {
		fj := make([]*job, len(freeJobs), 2*n)
		copy(fj, freeJobs)
		freeJobs = fj
	}
	for ; jobsMade < n; jobsMade++ {
		freeJobs = append(freeJobs, newJob())
	}
}

// work claims and runs tasks until none are left.
func (j *job) work() {
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.count {
			return
		}
		j.run(i)
	}
}

// run runs task i, recording a panic before marking the task done so the
// caller, released by the last task, always sees it.
func (j *job) run(i int) {
	defer func() {
		if p := recover(); p != nil {
			j.mu.Lock()
			if !j.failed {
				j.failed, j.pnc = true, p
			}
			j.mu.Unlock()
			j.skip.Store(true)
		}
		if j.left.Add(-1) == 0 && j.wait.Swap(waitDone) == waitParked {
			j.done <- struct{}{}
			// The send made the caller runnable on this P, in its
			// runnext slot, where it would wait until this goroutine
			// blocks or yields (an idle P may not steal it at once):
			// yield now, so that the caller runs here and this worker
			// moves to the run queue, where an idle P takes it.
			runtime.Gosched()
		}
	}()
	if j.skip.Load() {
		return
	}
	if j.body != nil {
		j.body(i)
		return
	}
	// Range i of For: the ranges differ in length by at most one.
	q, r := j.n/j.count, j.n%j.count
	lo := i*q + min(i, r)
	hi := lo + q
	if i < r {
		hi++
	}
	j.rbody(lo, hi)
}

// finish waits until every task has finished: it spins for up to spinFor,
// since the tasks still running are usually about to end and a parked
// goroutine takes tens of microseconds to wake on a virtual machine, then
// blocks.
func (j *job) finish() {
	if j.left.Load() == 0 {
		return
	}
	if spinUntil(func() bool { return j.left.Load() == 0 }) {
		return
	}
	if j.wait.CompareAndSwap(waitRunning, waitParked) {
		<-j.done
	}
}

// release drops one reference and recycles the job with the last one.
func (j *job) release() {
	if j.refs.Add(-1) == 0 {
		j.body, j.rbody, j.pnc = nil, nil, nil
		putJob(j)
	}
}

// The pool. Each worker is idle-spinning (polling its slot), idle-parked
// (blocked on its wake channel) or busy. A caller claims an idle worker by
// moving its state to busy with a compare-and-swap, then puts the job in its
// slot (and, for a parked worker, sends a wake-up). A caller never blocks
// waiting for a worker: if none is idle it does the work itself. That is what
// makes nested and concurrent calls safe: a worker inside For that calls For
// only hands work to idle workers and otherwise runs it inline.
//
// Why spin: handing a job to a parked goroutine readies it on the caller's
// own P, from where an idle P must first wake up (an OS thread wake-up) and
// then steal it, which costs from several to tens of microseconds on these
// VMs: as long as a whole elementwise pass or a 128³ product. A worker that
// has just finished a job therefore polls its slot for up to spinFor before
// parking, so the calls of a training step, which follow each other within
// microseconds, find it awake. At most GOMAXPROCS−1 workers spin at once, and
// a spinning worker yields its P regularly, so spinning never takes a P from
// runnable goroutines for long.
const (
	stBusy = iota
	stSpin
	stPark
)

type worker struct {
	state atomic.Int32
	slot  atomic.Pointer[job]
	wake  chan struct{} // capacity 1
	_     [40]byte      // keep workers on separate cache lines
}

var (
	poolMu   sync.Mutex
	pool     atomic.Pointer[[]*worker] // copy on write under poolMu
	spinners atomic.Int32              // workers spinning now
	maxSpin  atomic.Int32              // GOMAXPROCS−1, refreshed when workers start
	workers  atomic.Int64              // started so far; they live for the life of the process
)

// spinFor bounds how long an idle worker (or a caller waiting for the last
// task) polls flat out; politeFor how long it then goes on polling with
// osyield.Yield between polls, giving its CPU to any other runnable thread,
// before it blocks. Blocking costs a futex wake-up to resume: 15 to 60 µs
// on the Zen 4 VM, enough that the calls of a training step, a few tens of
// µs to a millisecond apart, kept finding the worker parked (an execution
// trace of a GEMM followed by a two-task Do showed the caller parked at the
// end of the GEMM, resumed 28 µs after the worker's last task, and the Do
// run serially because the worker was not back in time). Politely polling
// costs nothing another thread could use. Where the OS offers no yield
// (osyield.Supported false) the polite phase is skipped. Variables so that
// tests and benchmarks can compare.
var (
	spinFor   = 50 * time.Microsecond
	politeFor = politeDefault()
)

func politeDefault() time.Duration {
	if osyield.Supported {
		return time.Millisecond
	}
	return 0
}

// A spinning goroutine polls pollsPerCheck times between looks at the
// clock, and yields its P (runtime.Gosched) once yieldEvery has passed since
// its last yield. A poll is an atomic load, a look at the clock tens of
// nanoseconds, a yield a trip through the scheduler that takes the global
// scheduler lock (0.1–0.5 µs). Yielding after every 128 polls, as the first
// version did, put runtime.gosched_m at a third of the CPU samples of a
// two-thread training step; a few yields per spin window are enough for
// fairness, since a goroutine waiting for this P waits at most yieldEvery.
const (
	pollsPerCheck = 256
	yieldEvery    = 5 * time.Microsecond
)

// spinUntil polls cond until it holds (true) or spinFor+politeFor has
// passed (false), yielding its P every yieldEvery and, after spinFor, its
// CPU to the OS between polls.
func spinUntil(cond func() bool) bool {
	start := time.Now()
	last := start
	for {
		for range pollsPerCheck {
			if cond() {
				return true
			}
		}
		now := time.Now()
		if d := now.Sub(start); d > spinFor+politeFor {
			return cond()
		} else if d > spinFor {
			osyield.Yield()
		}
		if now.Sub(last) > yieldEvery {
			runtime.Gosched()
			last = time.Now()
		}
	}
}

// loop is a worker's life. It starts parked (ensureWorkers publishes it in
// that state, so a caller may claim it before the goroutine first runs).
func (w *worker) loop() {
	<-w.wake
	j := w.take()
	for {
		j.work()
		j.release()
		j = w.await()
	}
}

// await returns the next job handed to w, spinning for it first if fewer
// than maxSpin workers are spinning already.
func (w *worker) await() *job {
	if spinners.Add(1) <= maxSpin.Load() {
		w.state.Store(stSpin)
		got := spinUntil(func() bool { return w.slot.Load() != nil })
		if !got && !w.state.CompareAndSwap(stSpin, stPark) {
			// Claimed just as the spin ended: the job is on its way.
			for w.slot.Load() == nil {
				runtime.Gosched()
			}
			got = true
		}
		spinners.Add(-1)
		if got {
			return w.take()
		}
	} else {
		spinners.Add(-1)
		w.state.Store(stPark)
	}
	<-w.wake
	return w.take()
}

func (w *worker) take() *job {
	j := w.slot.Load()
	w.slot.Store(nil)
	return j
}

// offer hands j to up to want idle workers, spinning ones first, and
// returns how many took it. Each taker holds a reference to j.
func offer(j *job, want int) int {
	ws := pool.Load()
	if ws == nil || want <= 0 {
		return 0
	}
	got := 0
	for _, st := range [2]int32{stSpin, stPark} {
		for _, w := range *ws {
			if got == want {
				return got
			}
			if w.state.Load() != st || !w.state.CompareAndSwap(st, stBusy) {
				continue
			}
			j.refs.Add(1)
			w.slot.Store(j)
			if st == stPark {
				w.wake <- struct{}{}
			}
			got++
		}
	}
	return got
}

// ensureWorkers starts workers up to n; they persist and are shared by all
// callers.
func ensureWorkers(n int) {
	if ws := pool.Load(); ws != nil && len(*ws) >= n {
		return
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	maxSpin.Store(int32(runtime.GOMAXPROCS(0) - 1))
	var ws []*worker
	if p := pool.Load(); p != nil {
		ws = *p
	}
	if len(ws) >= n {
		return
	}
	ws = append(ws[:len(ws):len(ws)], make([]*worker, n-len(ws))...)
	for i := range ws {
		if ws[i] == nil {
			w := &worker{wake: make(chan struct{}, 1)}
			w.state.Store(stPark)
			ws[i] = w
			go w.loop()
		}
	}
	pool.Store(&ws)
	workers.Store(int64(len(ws)))
	// Each worker holds at most one job, and so does each caller: one
	// caller per P plus nested callers beyond that are made on demand.
	reserveJobs(len(ws) + runtime.GOMAXPROCS(0))
}

// run hands count tasks (body, or the ranges of rbody over n) to up to t
// goroutines and waits for them. Keeping For's range arithmetic in the job,
// rather than in a closure around Do, is what lets For run without
// allocating.
func run(t, count int, body func(i int), rbody func(lo, hi int), n int) {
	j := getJob()
	j.body, j.rbody, j.n, j.count = body, rbody, n, count
	j.next.Store(0)
	j.left.Store(int64(count))
	j.skip.Store(false)
	j.wait.Store(waitRunning)
	j.pnc, j.failed = nil, false
	j.refs.Store(1) // the caller's
	ensureWorkers(t - 1)
	offer(j, min(count, t)-1)
	j.work()
	j.finish()
	failed, p := j.failed, j.pnc
	j.release()
	if failed {
		panic(p)
	}
}
