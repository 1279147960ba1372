package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// BenchmarkElementwise times float32 tensor operations over 1M and 16M
// elements with a preallocated destination. SetBytes counts the bytes read
// plus written, so the MB/s column is memory traffic (add, mul: 12 B per
// element; exp, tanh, copy: 8; sum: 4); Gelem/s is elements per second.
//
// Targets (issue 3): add and mul ≥ 24 GB/s on one core; exp and tanh ≥ 1.5
// Gelem/s on one core; two threads ≥ 1.7× one at 16M.
func BenchmarkElementwise(b *testing.B) {
	type op struct {
		name  string
		bytes int
		run   func(d, x, y *tensor.Dense[float32])
	}
	var sink float32
	ops := []op{
		{"add", 12, func(d, x, y *tensor.Dense[float32]) { d.Add(x, y) }},
		{"mul", 12, func(d, x, y *tensor.Dense[float32]) { d.Mul(x, y) }},
		{"exp", 8, func(d, x, _ *tensor.Dense[float32]) { d.Exp(x) }},
		{"tanh", 8, func(d, x, _ *tensor.Dense[float32]) { d.Tanh(x) }},
		{"sum", 4, func(_, x, _ *tensor.Dense[float32]) { sink += tensor.SumAll(x) }},
		// Copy is the memory system's ceiling for the others: each range
		// is one runtime memmove, which at 16M uses non-temporal stores.
		// When two threads copy only 1.2–1.4 times as fast as one, no
		// split of add or mul can reach 1.7 times.
		{"copy", 8, func(d, x, _ *tensor.Dense[float32]) { d.Copy(x) }},
	}
	for _, size := range []int{1 << 20, 1 << 24} {
		rng := rand.New(rand.NewPCG(1, 2))
		x := tensor.RandUniform[float32](rng, -4, 4, size)
		y := tensor.RandUniform[float32](rng, -4, 4, size)
		d := tensor.New[float32](size)
		for _, o := range ops {
			for _, th := range []int{1, 2} {
				b.Run(fmt.Sprintf("op=%s/size=%dM/threads=%d", o.name, size>>20, th), func(b *testing.B) {
					defer parallel.SetThreads(parallel.SetThreads(th))
					b.SetBytes(int64(o.bytes * size))
					// Warm: the first pass over a fresh 16M destination
					// takes a page fault per 4 KiB page, and with b.N = 1
					// the benchmark would time that instead of the op.
					o.run(d, x, y)
					for b.Loop() {
						o.run(d, x, y)
					}
					b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
				})
			}
		}
	}
	_ = sink
}
