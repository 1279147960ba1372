package optim

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// BenchmarkStep measures one update of the parameters of cmd/mnist's
// default MLP (784-512-256-10: 535,818 float32 values in six tensors).
func BenchmarkStep(b *testing.B) {
	shapes := [][]int{{784, 512}, {512}, {512, 256}, {256}, {256, 10}, {10}}
	rng := rand.New(rand.NewPCG(1, 1))
	var params []*autograd.Var[float32]
	var grads [][]float32
	n := 0
	for _, s := range shapes {
		p := tensor.New[float32](s...)
		g := make([]float32, p.Size())
		for i := range g {
			p.Data()[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		params = append(params, autograd.NewVar(p, true))
		grads = append(grads, g)
		n += p.Size()
	}
	setGrads(b, autograd.NewTape[float32](), params, grads...)
	opts := map[string]func() Optimizer{
		"sgd":      func() Optimizer { return NewSGD(params, SGDConfig{LR: 1e-3}) },
		"momentum": func() Optimizer { return NewSGD(params, SGDConfig{LR: 1e-3, Momentum: 0.9}) },
		"adam":     func() Optimizer { return NewAdam(params, AdamConfig{}) },
	}
	for _, name := range []string{"sgd", "momentum", "adam"} {
		impls := map[string][3]bool{"default": {hasAVX512, hasAVX2, hasNEON}}
		if name == "adam" {
			impls = kernels()
		}
		for impl, k := range impls {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("opt=%s/impl=%s/threads=%d", name, impl, threads), func(b *testing.B) {
					defer parallel.SetThreads(parallel.SetThreads(threads))
					withKernel(b, k)
					o := opts[name]()
					o.Step()
					for b.Loop() {
						o.Step()
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
				})
			}
		}
	}
}
