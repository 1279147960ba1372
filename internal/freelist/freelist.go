// Package freelist is a bounded stack of reusable objects for the module's
// allocation-free hot paths (GEMM call state and pack arenas, the pooled
// tasks of tensor's parallel loops).
//
// Unlike a sync.Pool it survives garbage collections. A pool is emptied by
// every second GC, and refilling it allocates inside what should be an
// allocation-free training step: as soon as anything else in the program
// triggers a GC, each parallel tensor operation allocated again (4 objects
// for an Add, 8 for a SumAll, seen at two threads) and GEMM page-faulted
// megabytes of fresh pack buffers. A List keeps at most Max objects, so the
// memory it holds is bounded by the peak number of concurrent users.
package freelist

import (
	"runtime"
	"sync"
)

// List is a bounded stack of X, usually a pointer type (or any, to use it
// as a drop-in for a sync.Pool of several types). The zero value is ready
// to use and keeps up to DefaultMax() objects; set Max before first use to
// change that.
type List[X any] struct {
	mu    sync.Mutex
	items []X
	Max   int
}

// DefaultMax is enough for every goroutine of a parallel team plus a few
// concurrent callers: 2·GOMAXPROCS + 4.
func DefaultMax() int { return 2*runtime.GOMAXPROCS(0) + 4 }

// Get pops an object, or returns the zero X (nil) if the list is empty.
func (f *List[X]) Get() X {
	f.mu.Lock()
	var x, zero X
	if n := len(f.items); n > 0 {
		x = f.items[n-1]
		f.items[n-1] = zero
		f.items = f.items[:n-1]
	}
	f.mu.Unlock()
	return x
}

// Put pushes x, or drops it if the list already holds Max objects. It
// allocates only while the list grows towards its peak size.
func (f *List[X]) Put(x X) {
	f.mu.Lock()
	max := f.Max
	if max <= 0 {
		max = DefaultMax()
	}
	if len(f.items) < max {
		f.items = append(f.items, x)
	}
	f.mu.Unlock()
}
