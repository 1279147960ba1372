package bench

import (
	"fmt"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

// BenchmarkCopyBandwidth copies a 128 MB buffer (past any L3) at one and
// two threads, each thread its own part. Its MB/s is bytes copied; the
// memory traffic, read plus write, is twice that: the copy bandwidth that
// BenchmarkSmolLMDecode's weight-GB/s is set against (issue 22: at least
// 70% of it). Run the two in one command, e.g.
//
//	go test -run '^$' -bench 'SmolLMDecode|CopyBandwidth' ./bench/
func BenchmarkCopyBandwidth(b *testing.B) {
	size := 128 << 20
	if testing.Short() {
		size = 8 << 20 // a smoke test
	}
	src, dst := make([]byte, size), make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	copy(dst, src) // fault the pages in
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("size=%dMB/threads=%d", size>>20, threads), func(b *testing.B) {
			defer parallel.SetThreads(parallel.SetThreads(threads))
			b.SetBytes(int64(size))
			body := func(lo, hi int) { copy(dst[lo<<20:hi<<20], src[lo<<20:hi<<20]) }
			for b.Loop() {
				parallel.For(size>>20, 1, body)
			}
			b.ReportMetric(2*float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "traffic-GB/s")
		})
	}
}
