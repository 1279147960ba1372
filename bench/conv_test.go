package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// convLayers are the two convolutions of BenchmarkCNNStep's network.
var convLayers = []struct {
	name              string
	n, c, h, w, oc, k int
	pad               int
}{
	{"conv1", cnnBatch, 1, 28, 28, 32, 5, 2},
	{"conv2", cnnBatch, 32, 14, 14, 64, 5, 2},
}

// BenchmarkConv2d times autograd's Conv2d over cmd/mnist's two layers, at
// one and two threads: the forward (patches, GEMM, bias) by each path,
// path=im2col (the patch matrix built, then GEMM) and path=implicit (GEMM
// packing the patches straight into its panels, internal/igemm), and the
// one autograd's rule picks (path=auto); the backward, W̄ and b̄ alone
// (pass=backward-w) and, for conv2, with x̄ too (pass=backward); and, as the
// yardstick, the forward's GEMMs alone (per image M = OC, N = OH·OW,
// K = C·KH·KW, one thread, no patches, B and C reused and so in cache;
// pass=gemm-stream writes each image's C afresh, as the forward must).
// GFLOP/s counts 2·N·OC·OH·OW·C·KH·KW per product (one forward, one for
// W̄, one for x̄). Target (issue 11): forward at ≥ 75% of the one-thread GEMM
// rate.
func BenchmarkConv2d(b *testing.B) {
	defer func(p int) { igemm.ConvPath = p }(igemm.ConvPath)
	for _, l := range convLayers {
		r := rand.New(rand.NewPCG(1, 2))
		x := tensor.RandNormal[float32](r, 0, 1, l.n, l.c, l.h, l.w)
		w := tensor.RandNormal[float32](r, 0, 0.1, l.oc, l.c, l.k, l.k)
		bias := tensor.RandNormal[float32](r, 0, 0.1, l.oc)
		xv, xw := autograd.NewVar(x, true), autograd.NewVar(x, false)
		wv, bv := autograd.NewVar(w, true), autograd.NewVar(bias, true)
		o := autograd.Conv2dOptions{Padding: [2]int{l.pad, l.pad}}
		oh, ow := l.h, l.w // "same" padding
		prod := 2.0 * float64(l.n*l.oc*oh*ow*l.c*l.k*l.k)
		tp := autograd.NewTape[float32]()
		seed := tensor.Full[float32](1, l.n, l.oc, oh, ow)
		for _, threads := range []int{1, 2} {
			pre := fmt.Sprintf("layer=%s/threads=%d", l.name, threads)
			for _, path := range []struct {
				name string
				p    int
			}{{"im2col", igemm.ConvIm2Col}, {"implicit", igemm.ConvImplicit}, {"auto", igemm.ConvAuto}} {
				b.Run(pre+"/pass=forward/path="+path.name, func(b *testing.B) {
					defer parallel.SetThreads(parallel.SetThreads(threads))
					igemm.ConvPath = path.p
					tp.Reset()
					tp.Conv2d(xw, wv, bv, o) // warm: the tape's first use faults its pages in
					c0 := cpuTime()
					for b.Loop() {
						tp.Reset()
						tp.Conv2d(xw, wv, bv, o)
					}
					reportConv(b, prod, c0)
				})
			}
			igemm.ConvPath = igemm.ConvAuto
			// Backward only: each pass records a fresh forward (and zeroes
			// the leaves' gradients, as a training step does) with the timer
			// stopped, so the figure is the backward alone, on the tape state
			// a training step gives it. cpu-GFLOP/s counts the backward's CPU
			// time only.
			back := func(name string, xin *autograd.Var[float32], products float64) {
				b.Run(pre+"/pass="+name, func(b *testing.B) {
					defer parallel.SetThreads(parallel.SetThreads(threads))
					record := func() *autograd.Var[float32] {
						tp.Reset()
						xin.ZeroGrad()
						wv.ZeroGrad()
						bv.ZeroGrad()
						return tp.Conv2d(xin, wv, bv, o)
					}
					if err := tp.BackwardSeed(record(), seed); err != nil { // warm
						b.Fatal(err)
					}
					var cpu time.Duration
					for b.Loop() {
						b.StopTimer()
						y := record()
						b.StartTimer()
						c0 := cpuTime()
						if err := tp.BackwardSeed(y, seed); err != nil {
							b.Fatal(err)
						}
						cpu += cpuTime() - c0
					}
					reportConvCPU(b, products*prod, cpu)
				})
			}
			back("backward-w", xw, 1)
			if l.c > 1 { // conv1's input (the images) needs no adjoint
				back("backward", xv, 2)
			}
		}
		b.Run(fmt.Sprintf("layer=%s/threads=1/pass=gemm", l.name), func(b *testing.B) {
			defer parallel.SetThreads(parallel.SetThreads(1))
			m, n, k := l.oc, oh*ow, l.c*l.k*l.k
			a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
			for i := range bb {
				bb[i] = float32(i%7) / 7
			}
			c0 := cpuTime()
			for b.Loop() {
				for range l.n {
					gemm.Sgemm(gemm.NoTrans, gemm.NoTrans, m, n, k, 1, a, k, bb, n, 1, c, n)
				}
			}
			reportConv(b, prod, c0)
		})
		// The same GEMMs writing each image's product to its own C, as
		// the forward writes y: what the output's trip to memory costs
		// (conv1: 12.8 MB a batch, against 100 KB reused in cache above).
		b.Run(fmt.Sprintf("layer=%s/threads=1/pass=gemm-stream", l.name), func(b *testing.B) {
			defer parallel.SetThreads(parallel.SetThreads(1))
			m, n, k := l.oc, oh*ow, l.c*l.k*l.k
			a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, l.n*m*n)
			for i := range bb {
				bb[i] = float32(i%7) / 7
			}
			c0 := cpuTime()
			for b.Loop() {
				for i := range l.n {
					gemm.Sgemm(gemm.NoTrans, gemm.NoTrans, m, n, k, 1, a, k, bb, n, 0, c[i*m*n:], n)
				}
			}
			reportConv(b, prod, c0)
		})
	}
}

// reportConv reports GFLOP/s for flops per op, by wall time and by the
// process's CPU time since c0 (one thread: what an idle machine would
// give, near enough, where wall time on a loaded one measures the
// neighbours too).
func reportConv(b *testing.B, flops float64, c0 time.Duration) {
	reportConvCPU(b, flops, cpuTime()-c0)
}

// reportConvCPU is reportConv with the CPU time given.
func reportConvCPU(b *testing.B, flops float64, cpu time.Duration) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}
