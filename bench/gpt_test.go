package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/parallel"
)

// gptBench is one training step of cmd/chargpt's default configuration
// (nanoGPT's CPU character-level example: 4 layers, 4 heads, width 128,
// context 64, batch 12, biases, tanh-GELU MLP 512, float32): forward,
// cross-entropy over the 768×256 logits, backward, AdamW (betas 0.9/0.99,
// weight decay 0.1 on matrices and embeddings, none on biases and
// LayerNorms; optim.NewAdamWGroups), gradient clipping to global norm 1.0
// and ZeroGrad, as cmd/chargpt trains and bench/torch/gpt.py step times
// it. The batch is random bytes drawn once (the work does not depend on
// the values).
type gptBench struct {
	g           *nn.GPT[float32]
	tp          *autograd.Tape[float32]
	opt         optim.Optimizer
	params      []*autograd.Var[float32]
	idx, target []int
	loss        float32
}

const gptBatch = 12

func newGPTBench(seed uint64) *gptBench {
	rng := rand.New(rand.NewPCG(seed, seed))
	g := nn.NewGPT[float32](rng, nn.GPTConfig{})
	decay, rest := nn.DecaySplit(nn.NamedParameters(g))
	m := &gptBench{g: g, tp: autograd.NewTape[float32](), params: append(append([]*autograd.Var[float32](nil), decay...), rest...),
		opt: optim.NewAdamWGroups([]optim.Group[float32]{{Params: decay, WeightDecay: 0.1}, {Params: rest}},
			optim.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99})}
	n := gptBatch * g.Config.BlockSize
	m.idx, m.target = make([]int, n), make([]int, n)
	for i := range m.idx {
		m.idx[i], m.target[i] = rng.IntN(256), rng.IntN(256)
	}
	return m
}

func (m *gptBench) step() {
	m.tp.Reset()
	m.opt.ZeroGrad()
	loss := m.g.Loss(m.tp, m.idx, m.target, gptBatch, m.g.Config.BlockSize)
	if err := m.tp.Backward(loss); err != nil {
		panic(err)
	}
	optim.ClipGradNorm(m.params, 1.0)
	m.opt.Step()
	m.loss = loss.Value().Data()[0]
}

// BenchmarkGPTStep times one training step of cmd/chargpt's default model
// (see gptBench) and reports ms/step. Target (issue 12): at most PyTorch
// 1.13's time for the same step at one and at two threads, run alternated
// with bench/torch/gpt.py. cpu-ms/step is the process's CPU time per step
// (user + system), which a loaded machine inflates less than wall time.
func BenchmarkGPTStep(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			defer parallel.SetThreads(parallel.SetThreads(threads))
			m := newGPTBench(1)
			m.step()
			first := m.loss
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				m.step()
			}
			cpu := cpuTime() - c0
			// The same batch every step: the loss must fall.
			if l := float64(m.loss); math.IsNaN(l) || !(m.loss < first) {
				b.Fatalf("loss %v after %d steps, %v after the first", m.loss, b.N+1, first)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/step")
			b.ReportMetric(cpu.Seconds()/float64(b.N)*1e3, "cpu-ms/step")
		})
	}
}

// BenchmarkGPTSample times sampling from the default model at one thread
// (KV cache, the layers' own code on a no-grad tape) and reports bytes/s, and bytes per CPU-second
// (cpu-bytes/s, less inflated by a loaded machine). Target (issue 12):
// ≥ 2,000 bytes/s.
func BenchmarkGPTSample(b *testing.B) {
	defer parallel.SetThreads(parallel.SetThreads(1))
	g := nn.NewGPT[float32](rand.New(rand.NewPCG(1, 1)), nn.GPTConfig{})
	gen := nn.NewGenerator(g)
	rng := rand.New(rand.NewPCG(2, 2))
	const n = 256
	dst := make([]int, 0, n)
	// Warm up through a context restart, so the loop measures the steady
	// state (no allocation per token).
	gen.Generate(dst, []int{'f', 'u', 'n', 'c', ' '}, n, 0.8, rng)
	b.ReportAllocs()
	start, c0 := time.Now(), cpuTime()
	for b.Loop() {
		dst = gen.Generate(dst[:0], nil, n, 0.8, rng)
	}
	b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "bytes/s")
	if cpu := cpuTime() - c0; cpu > 0 {
		b.ReportMetric(float64(b.N*n)/cpu.Seconds(), "cpu-bytes/s")
	}
}
