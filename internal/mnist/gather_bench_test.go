package mnist

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkGather gathers a shuffled batch of 128 28×28 images into
// float32, as cmd/mnist does every step.
func BenchmarkGather(b *testing.B) {
	const n, batch = 60000, 128
	rng := rand.New(rand.NewPCG(1, 2))
	ds := Dataset{N: n, Rows: 28, Cols: 28, Images: make([]byte, n*784), Labels: make([]byte, n)}
	for i := range ds.Images {
		ds.Images[i] = byte(rng.IntN(256))
	}
	idx := rng.Perm(n)[:batch]
	x, y := make([]float32, batch*784), make([]int, batch)
	b.SetBytes(batch * 784)
	for b.Loop() {
		Gather(ds, idx, x, y)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/batch")
}
