package parallel

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHandoff measures the fixed cost of one parallel call: two tasks
// that do little or nothing, so the time is mostly the hand-off to the pool.
func BenchmarkHandoff(b *testing.B) {
	for _, work := range []int{0, 2000} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("work=%d/threads=%d", work, threads), func(b *testing.B) {
				withThreads(b, threads, func() {
					var sink [2]float64
					body := func(i int) {
						x := 1.0
						for range work {
							x = x*1.0000001 + 1e-9
						}
						sink[i] = x
					}
					b.ReportAllocs()
					for b.Loop() {
						Do(2, body)
					}
				})
			})
		}
	}
}

// BenchmarkWake measures how long a task handed to the pool takes to start
// on a worker: the caller's task waits (up to 1 ms) for the other task to
// begin and the benchmark reports the mean delay as wake-µs. With idle=0
// the calls follow each other at once, so a worker is still spinning from
// the previous call; with idle=3ms the caller sleeps between calls, longer
// than the spin and polite phases (1.05 ms), so the worker has parked and
// must be woken.
func BenchmarkWake(b *testing.B) {
	for _, idle := range []time.Duration{0, 3 * time.Millisecond} {
		b.Run(fmt.Sprintf("idle=%v", idle), func(b *testing.B) {
			withThreads(b, 2, func() {
				var t0 time.Time
				var started, gaveUp atomic.Bool
				var delay time.Duration
				var missed int
				body := func(i int) {
					if i == 1 {
						if !gaveUp.Load() {
							delay += time.Since(t0)
						}
						started.Store(true)
						return
					}
					for !started.Load() {
						if time.Since(t0) > time.Millisecond {
							missed++ // nobody came: the caller runs task 1 itself
							gaveUp.Store(true)
							break
						}
					}
				}
				Do(2, body) // start the workers
				delay, missed = 0, 0
				for b.Loop() {
					if idle > 0 {
						b.StopTimer()
						time.Sleep(idle)
						b.StartTimer()
					}
					started.Store(false)
					gaveUp.Store(false)
					t0 = time.Now()
					Do(2, body)
				}
				b.ReportMetric(float64(delay.Nanoseconds())/1e3/float64(max(b.N-missed, 1)), "wake-µs")
				b.ReportMetric(float64(missed)/float64(b.N), "missed/op")
			})
		})
	}
}
