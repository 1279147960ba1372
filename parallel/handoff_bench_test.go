package parallel

import (
	"fmt"
	"testing"
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
