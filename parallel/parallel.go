package parallel

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
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
