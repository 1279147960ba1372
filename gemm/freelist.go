package gemm

import (
	"runtime"
	"sync"
)

// freeList is a bounded stack of reusable objects (call state, pack
// arenas). Unlike a sync.Pool it survives garbage collections: a pool is
// emptied by every second GC, and refilling it means allocating and
// page-faulting megabytes of pack buffers again in the middle of a
// training step (seen as allocations in a warm loop after another part of
// the program triggered a GC). It keeps at most max objects, so memory held
// is bounded by the peak number of concurrent users.
type freeList[X any] struct {
	mu    sync.Mutex
	items []*X
	max   int
}

func (f *freeList[X]) get() *X {
	f.mu.Lock()
	var x *X
	if n := len(f.items); n > 0 {
		x = f.items[n-1]
		f.items[n-1] = nil
		f.items = f.items[:n-1]
	}
	f.mu.Unlock()
	return x
}

func (f *freeList[X]) put(x *X) {
	f.mu.Lock()
	if len(f.items) < f.max {
		f.items = append(f.items, x)
	}
	f.mu.Unlock()
}

// listMax bounds each free list: enough for every goroutine of a team plus
// a few concurrent callers.
func listMax() int { return 2*runtime.GOMAXPROCS(0) + 4 }

var (
	calls32  = freeList[call[float32]]{max: listMax()}
	calls64  = freeList[call[float64]]{max: listMax()}
	arenas32 = freeList[arena[float32]]{max: listMax()}
	arenas64 = freeList[arena[float64]]{max: listMax()}
)

func callList[T float32 | float64]() *freeList[call[T]] {
	if l, ok := any(&calls32).(*freeList[call[T]]); ok {
		return l
	}
	return any(&calls64).(*freeList[call[T]])
}

func arenaList[T float32 | float64]() *freeList[arena[T]] {
	if l, ok := any(&arenas32).(*freeList[arena[T]]); ok {
		return l
	}
	return any(&arenas64).(*freeList[arena[T]])
}
