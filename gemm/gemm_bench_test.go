package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

type benchShape struct {
	tA, tB  Transpose
	m, n, k int
}

func (s benchShape) name() string {
	n := fmt.Sprintf("shape=%dx%dx%d", s.m, s.n, s.k)
	if s.tA != NoTrans || s.tB != NoTrans {
		n += fmt.Sprintf("/op=%c%c", s.tA, s.tB)
	}
	return n
}

var benchShapes = []benchShape{
	{NoTrans, NoTrans, 8, 8, 8},
	{NoTrans, NoTrans, 16, 16, 16},
	{NoTrans, NoTrans, 32, 32, 32},
	{NoTrans, NoTrans, 64, 64, 64},
	{NoTrans, NoTrans, 96, 96, 96},
	{NoTrans, NoTrans, 128, 128, 128},
	{NoTrans, NoTrans, 256, 256, 256},
	{NoTrans, NoTrans, 1024, 1024, 1024},
	{NoTrans, Trans, 1024, 1024, 1024},
	{Trans, NoTrans, 1024, 1024, 1024},
	{NoTrans, NoTrans, 256, 512, 784},
	{NoTrans, NoTrans, 256, 10, 512},
	// The MLP's backward products: X̄ = Z̄·Yᵀ and Ȳ = Xᵀ·Z̄.
	{Trans, NoTrans, 784, 512, 256},
	{NoTrans, Trans, 256, 784, 512},
	{NoTrans, Trans, 256, 512, 10},
	{Trans, NoTrans, 512, 10, 256},
}

// BenchmarkSgemm reports GFLOP/s (2·m·n·k per call) for every kernel this
// CPU can run at one and two threads. Narrow it with -bench, e.g.
// -bench 'Sgemm/shape=1024x1024x1024/impl=avx512/threads=1$'.
func BenchmarkSgemm(b *testing.B) { benchGemm[float32](b) }

// BenchmarkDgemm is BenchmarkSgemm for float64.
func BenchmarkDgemm(b *testing.B) { benchGemm[float64](b) }

func benchGemm[T float](b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sh := range benchShapes {
		b.Run(sh.name(), func(b *testing.B) {
			a := make([]T, sh.m*sh.k)
			bb := make([]T, sh.k*sh.n)
			c := make([]T, sh.m*sh.n)
			for i := range a {
				a[i] = T(rng.Float64())
			}
			for i := range bb {
				bb[i] = T(rng.Float64())
			}
			lda, ldb := sh.k, sh.n
			if sh.tA == Trans {
				lda = sh.m
			}
			if sh.tB == Trans {
				ldb = sh.k
			}
			for _, impl := range Kernels() {
				for _, th := range []int{1, 2} {
					b.Run(fmt.Sprintf("impl=%s/threads=%d", impl, th), func(b *testing.B) {
						prevK := Kernel()
						if err := SetKernel(impl); err != nil {
							b.Fatal(err)
						}
						prevT := parallel.SetThreads(th)
						defer func() {
							parallel.SetThreads(prevT)
							_ = SetKernel(prevK)
						}()
						for b.Loop() {
							callGemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, a, lda, bb, ldb, 0, c, sh.n)
						}
						flops := 2 * float64(sh.m) * float64(sh.n) * float64(sh.k)
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		})
	}
}
