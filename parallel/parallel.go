package parallel

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// ErrThreads is the panic value (wrapped with the offending number) for a
// non-positive thread count passed to SetThreads.
var ErrThreads = fmt.Errorf("parallel: thread count must be positive")

// EnvThreads is the environment variable read once at start-up to set the
// default number of threads. Unset, empty or invalid, GOMAXPROCS is used.
const EnvThreads = "ADJOINT_NUM_THREADS"

var threads atomic.Int64

// maxThreads is the cap on the thread count: 8 goroutines per CPU, and at
// least 64 so that tests of uneven splits run on any machine. More threads
// than that only add scheduling and memory (a goroutine's stack each: 10^5
// threads cost 273 MB) without any more work done at once.
var maxThreads = max(8*runtime.NumCPU(), 64)

func init() {
	n := runtime.GOMAXPROCS(0)
	if s := os.Getenv(EnvThreads); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	threads.Store(int64(min(n, maxThreads)))
}

// MaxThreads returns the largest thread count SetThreads and
// ADJOINT_NUM_THREADS will set: 8 times runtime.NumCPU, and at least 64.
func MaxThreads() int { return maxThreads }

// Threads reports how many goroutines a loop may use at most, counting the
// caller's own.
func Threads() int { return int(threads.Load()) }

// SetThreads sets the number of threads loops may use and returns the
// previous value. A count above MaxThreads sets MaxThreads. It panics if
// n < 1. It is safe to call at any time; loops already running keep the
// count they started with.
func SetThreads(n int) int {
	if n < 1 {
		panic(fmt.Errorf("%w: SetThreads(%d)", ErrThreads, n))
	}
	return int(threads.Swap(int64(min(n, maxThreads))))
}

// job is one call of Do (or For), shared by the goroutines working on it.
// It is recycled through jobPool once the last goroutine holding a
// reference (the caller, and each worker it was handed to) lets go, so a
// caller need not wait for workers that woke up too late to find any task.
type job struct {
	body   func(i int)
	rbody  func(lo, hi int) // For's body, used when body is nil
	n      int              // For's iteration count
	count  int
	next   atomic.Int64 // next task index to claim
	refs   atomic.Int32 // goroutines still holding the job
	skip   atomic.Bool  // a task panicked: claim the rest without running them
	wg     sync.WaitGroup
	mu     sync.Mutex
	pnc    any // first panic value, if any
	failed bool
}

var jobPool = sync.Pool{New: func() any { return new(job) }}

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
// caller, released by the WaitGroup, always sees it.
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
		j.wg.Done()
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

// release drops one reference and recycles the job with the last one.
func (j *job) release() {
	if j.refs.Add(-1) == 0 {
		j.body, j.rbody, j.pnc = nil, nil, nil
		jobPool.Put(j)
	}
}

// The pool: workers block on an unbuffered channel, so a send succeeds only
// when a worker is idle. A caller never blocks waiting for a worker; if none
// is idle it does the work itself. That is what makes nested calls safe: a
// worker inside For that calls For only hands work to idle workers and
// otherwise runs it inline.
var (
	tasks   = make(chan *job)
	poolMu  sync.Mutex
	workers atomic.Int64 // started so far; they live for the life of the process
)

func worker() {
	for j := range tasks {
		j.work()
		j.release()
	}
}

// ensureWorkers starts workers up to n; they persist and are shared by all
// callers.
func ensureWorkers(n int) {
	if workers.Load() >= int64(n) {
		return
	}
	poolMu.Lock()
	for workers.Load() < int64(n) {
		workers.Add(1)
		go worker()
	}
	poolMu.Unlock()
}

// Do calls body(i) for every i in [0, count), using up to Threads()
// goroutines including the caller's, and returns when all calls are done.
// Each index is passed exactly once, so it may select per-task scratch space.
// With count 1 or one thread, everything runs on the caller's goroutine.
//
// If body panics, the tasks not yet started are skipped and Do re-panics on
// the caller's goroutine with the first panic value once the running tasks
// have returned.
func Do(count int, body func(i int)) {
	if count <= 0 {
		return
	}
	t := Threads()
	if count == 1 || t == 1 {
		for i := range count {
			body(i)
		}
		return
	}
	run(t, count, body, nil, 0)
}

// run hands count tasks (body, or the ranges of rbody over n) to up to t
// goroutines and waits for them. Keeping For's range arithmetic in the job,
// rather than in a closure around Do, is what lets For run without
// allocating.
func run(t, count int, body func(i int), rbody func(lo, hi int), n int) {
	j := jobPool.Get().(*job)
	j.body, j.rbody, j.n, j.count = body, rbody, n, count
	j.next.Store(0)
	j.skip.Store(false)
	j.pnc, j.failed = nil, false
	j.refs.Store(1) // the caller's
	j.wg.Add(count)
	ensureWorkers(t - 1)
	// Offer the job to up to min(count, t)-1 idle workers.
	for h := 1; h < min(count, t); h++ {
		j.refs.Add(1)
		select {
		case tasks <- j:
		default:
			j.refs.Add(-1)
			h = count // nobody idle now: stop offering
		}
	}
	j.work()
	j.wg.Wait()
	failed, p := j.failed, j.pnc
	j.release()
	if failed {
		panic(p)
	}
}

// For calls body over [0, n) split into NumChunks(n, grain) contiguous ranges
// of nearly equal size, at least grain iterations each (grain < 1 is taken as
// 1), running them as Do does. Below 2*grain iterations, or with one thread,
// body(0, n) runs on the caller's goroutine: that is the serial cut-off.
func For(n, grain int, body func(lo, hi int)) {
	c := NumChunks(n, grain)
	switch c {
	case 0:
		return
	case 1:
		body(0, n)
		return
	}
	run(Threads(), c, nil, body, n)
}

// NumChunks reports how many ranges For splits n iterations into with the
// given grain under the current thread count: at most Threads(), each at
// least grain long, and 1 when n < 2*grain. It is 0 when n <= 0.
func NumChunks(n, grain int) int {
	if n <= 0 {
		return 0
	}
	if grain < 1 {
		grain = 1
	}
	return max(min(n/grain, Threads()), 1)
}
