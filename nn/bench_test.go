package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// BenchmarkTrainStep times one training step of cmd/mnist's default
// configuration through nn and optim: MLP 784-512-256-10 ReLU, float32,
// batch 128, cross-entropy from logits, Adam; forward, backward, update,
// ZeroGrad and tape reset. Compare with bench's BenchmarkMLPStep (a bigger
// 784-512-512-10 net, batch 256, plain SGD written by hand).
func BenchmarkTrainStep(b *testing.B) {
	const batch = 128
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			defer parallel.SetThreads(parallel.SetThreads(threads))
			rng := rand.New(rand.NewPCG(1, 1))
			m := nn.NewMLP[float32](rng, []int{784, 512, 256, 10}, nn.ReLU)
			opt := optim.NewAdam(nn.Parameters(m), optim.AdamConfig{})
			x := tensor.New[float32](batch, 784)
			for i := range x.Data() {
				x.Data()[i] = float32(rng.Float64())
			}
			labels := make([]int, batch)
			for i := range labels {
				labels[i] = rng.IntN(10)
			}
			xv := autograd.NewVar(x, false)
			tp := autograd.NewTape[float32]()
			step := func() {
				tp.Reset()
				if err := tp.Backward(tp.CrossEntropy(m.Forward(tp, xv), labels)); err != nil {
					b.Fatal(err)
				}
				opt.Step()
				opt.ZeroGrad()
			}
			step()
			step()
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
		})
	}
}
