package parallel

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDoEachIndexOnceAnyThreads: every index runs exactly once for counts
// below, at and above the thread count, at 1 to 16 threads, from several
// callers at once while another goroutine keeps changing the thread count.
func TestDoEachIndexOnceAnyThreads(t *testing.T) {
	defer SetThreads(Threads())
	counts := []int{1, 2, 3, 5, 8, 15, 16, 17, 100}
	var wg sync.WaitGroup
	var stop atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			SetThreads([]int{1, 2, 3, 4, 8, 16}[i%6])
			time.Sleep(50 * time.Microsecond)
		}
	}()
	var callers sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 3 {
		callers.Add(1)
		go func() {
			defer callers.Done()
			for round := range 200 {
				n := counts[(round+g)%len(counts)]
				seen := make([]atomic.Int32, n)
				Do(n, func(i int) { seen[i].Add(1) })
				for i := range seen {
					if v := seen[i].Load(); v != 1 {
						select {
						case errs <- fmt.Sprintf("count %d: index %d ran %d times", n, i, v):
						default:
						}
						return
					}
				}
			}
		}()
	}
	callers.Wait()
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
