package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/hf"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/parallel"
)

// BenchmarkEncoderGemm times the GEMMs of one MiniLM-L6-shaped encoder
// layer (128 tokens, width 384, FFN 1536) alone, as the onnx and hf paths
// call them: activations A (m×k, NoTrans) times a weight B that is k×n
// NoTrans (ONNX MatMul) or n×k Trans (PyTorch's Linear layout), for every
// implementation this build has (openblas with -tags openblas). Reports
// GFLOP/s (and per CPU-second), to set against the FMA peak (cmd/gemmbench measures it) and
// the other implementations; docs/encoder-tuning.md has the figures.
func BenchmarkEncoderGemm(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
	}{
		{"qkv", 128, 384, 384}, {"qkv_fused", 128, 1152, 384},
		{"ffn_up", 128, 1536, 384}, {"ffn_down", 128, 384, 1536},
	}
	for _, s := range shapes {
		for _, tB := range []gemm.Transpose{gemm.NoTrans, gemm.Trans} {
			impls := Impls()
			for _, im := range impls {
				if im.Name == gemm.Kernel() {
					// The same kernel with B packed once (gemm.PackB), as
					// the onnx and hf paths multiply their weights.
					p := im
					p.Name += "-packed"
					p.Sgemm = packedSgemm()
					impls = append(impls, p)
					break
				}
			}
			for _, im := range impls {
				if im.MaxDim != 0 || im.Name == "gonum" || im.Name == "generic" {
					continue
				}
				for _, th := range []int{1, 2} {
					name := fmt.Sprintf("shape=%s_%dx%dx%d/tB=%v/impl=%s/threads=%d", s.name, s.m, s.n, s.k, tB == gemm.Trans, im.Name, th)
					b.Run(name, func(b *testing.B) {
						restore := im.Use(th)
						defer restore()
						a := make([]float32, s.m*s.k)
						w := make([]float32, s.n*s.k)
						c := make([]float32, s.m*s.n)
						for i := range a {
							a[i] = float32(i%7) * 0.1
						}
						for i := range w {
							w[i] = float32(i%5) * 0.1
						}
						ldb := s.n
						if tB == gemm.Trans {
							ldb = s.k
						}
						c0 := cpuTime()
						for b.Loop() {
							im.Sgemm(gemm.NoTrans, tB, s.m, s.n, s.k, 1, a, s.k, w, ldb, 0, c, s.n)
						}
						fl := 2 * float64(s.m*s.n*s.k) * float64(b.N)
						b.ReportMetric(fl/b.Elapsed().Seconds()/1e9, "GFLOP/s")
						// Per CPU-second (all threads): on a loaded machine
						// closer to the kernel's own speed than wall time.
						b.ReportMetric(fl/(cpuTime()-c0).Seconds()/1e9, "cpu-GFLOP/s")
					})
				}
			}
		}
	}
}

// packedSgemm returns an Sgemmer that packs B on its first call and then
// multiplies through gemm.GemmPacked (the benchmark's B never changes).
func packedSgemm() Sgemmer {
	var pb *gemm.PackedB[float32]
	return func(tA, tB gemm.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		if pb == nil {
			pb = gemm.PackB(tB, k, n, b, ldb)
		}
		gemm.GemmPacked(tA, m, n, k, alpha, a, lda, pb, beta, c, ldc)
	}
}

// BenchmarkBertPacked is BenchmarkBertMiniLM's forward pass with the
// weights packed once (hf.BertModel.PackWeights) against the same model
// unpacked, alternating, at 1 and 2 threads; ms/op and cpu-ms/op.
func BenchmarkBertPacked(b *testing.B) {
	c := miniLMConfig(testing.Short())
	m := hf.NewBertModel[float32](c, rand.New(rand.NewPCG(1, 1)), 0.02)
	nn.Train(m, false)
	const t = 128
	rng := rand.New(rand.NewPCG(2, 2))
	in := hf.BertInput{B: 1, T: t, InputIDs: make([]int, t), AttentionMask: make([]int, t)}
	for i := range in.InputIDs {
		in.InputIDs[i], in.AttentionMask[i] = rng.IntN(c.VocabSize), 1
	}
	for _, threads := range []int{1, 2} {
		for _, packed := range []bool{false, true} {
			b.Run(fmt.Sprintf("threads=%d/packed=%v", threads, packed), func(b *testing.B) {
				defer parallel.SetThreads(parallel.SetThreads(threads))
				if packed {
					m.PackWeights()
					defer m.UnpackWeights()
				}
				tp := autograd.NewTape[float32]()
				tp.NoGrad(true)
				emb := func() {
					tp.Reset()
					h := m.Forward(tp, in)
					hf.Pool(nil, h.Value(), in.AttentionMask, 1, t, "mean", true)
				}
				emb()
				b.ReportAllocs()
				// Each forward timed, for best-ms and median-ms as
				// BenchmarkONNX and bench/onnx_ort_bench.js report them.
				ts := make([]time.Duration, 0, 1<<12)
				c0 := cpuTime()
				for b.Loop() {
					t0 := time.Now()
					emb()
					if len(ts) < cap(ts) {
						ts = append(ts, time.Since(t0))
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/op")
				b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N)*1e3, "cpu-ms/op")
				slices.Sort(ts)
				b.ReportMetric(float64(ts[0].Microseconds())/1e3, "best-ms")
				b.ReportMetric(float64(ts[len(ts)/2].Microseconds())/1e3, "median-ms")
			})
		}
	}
}
