package autograd

import (
	"testing"

	"github.com/adjoint-go/adjoint/tensor"
)

// BenchmarkTinyStep is a training step on 4-element tensors, so that what
// it measures is the tape's per-op overhead (recording, the in-use flag,
// Backward's walk), not arithmetic: 8 ops, Backward and Reset per step.
func BenchmarkTinyStep(b *testing.B) {
	tp := NewTape[float32]()
	w := NewVar(tensor.FromSlice([]float32{0.1, 0.2, 0.3, 0.4}, 4), true)
	x := tensor.FromSlice([]float32{1, 2, 3, 4}, 4)
	step := func() {
		tp.Reset()
		xc := tp.Const(x)
		h := tp.Tanh(tp.Mul(xc, w))
		h = tp.Sigmoid(tp.Add(h, w))
		loss := tp.Mean(tp.Square(tp.Sub(h, xc)))
		if err := tp.Backward(loss); err != nil {
			b.Fatal(err)
		}
		w.ZeroGrad()
	}
	step()
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/9, "ns/op-recorded")
}
