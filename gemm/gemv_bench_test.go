package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

// gemvBenchShapes: SmolLM-135M's projections (PyTorch [out, in], NoTrans:
// q/o, k/v, gate/up, down, the tied head), GPT-2's Conv1D ([in, out],
// Trans: c_attn, c_fc, c_proj of the MLP), and a 64 MB matrix, larger than
// most L3 caches.
var gemvBenchShapes = []struct {
	tA   Transpose
	m, n int
}{
	{NoTrans, 576, 576},
	{NoTrans, 192, 576},
	{NoTrans, 1536, 576},
	{NoTrans, 576, 1536},
	{NoTrans, 49152, 576},
	{NoTrans, 4096, 4096},
	{Trans, 768, 2304},
	{Trans, 768, 3072},
	{Trans, 3072, 768},
	{Trans, 4096, 4096},
}

// BenchmarkSgemv reports the bytes of A read per second (GB/s, the figure to
// set against the memory bandwidth: a matrix-vector product reads A once)
// for every kernel at one and two threads. Compare with bench's
// BenchmarkCopyBandwidth in the same command:
//
//	go test -run '^$' -bench 'Sgemv|CopyBandwidth' ./gemm/ ./bench/
func BenchmarkSgemv(b *testing.B) { benchGemv[float32](b) }

// BenchmarkDgemv is BenchmarkSgemv for float64.
func BenchmarkDgemv(b *testing.B) { benchGemv[float64](b) }

func benchGemv[T float](b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sh := range gemvBenchShapes {
		if testing.Short() && sh.m*sh.n > 1<<20 {
			continue
		}
		a := make([]T, sh.m*sh.n)
		for i := range a {
			a[i] = T(rng.Float64())
		}
		x, y := make([]T, max(sh.m, sh.n)), make([]T, max(sh.m, sh.n))
		b.Run(fmt.Sprintf("shape=%dx%d/op=%c", sh.m, sh.n, sh.tA), func(b *testing.B) {
			for _, impl := range Kernels() {
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("impl=%s/threads=%d", impl, threads), func(b *testing.B) {
						prev := Kernel()
						if err := SetKernel(impl); err != nil {
							b.Fatal(err)
						}
						defer SetKernel(prev)
						defer parallel.SetThreads(parallel.SetThreads(threads))
						lx, ly := sh.n, sh.m
						if sh.tA == Trans {
							lx, ly = sh.m, sh.n
						}
						var z T
						b.SetBytes(int64(len(a)) * int64(sizeOf(z)))
						for b.Loop() {
							callGemv(sh.tA, sh.m, sh.n, 1, a, sh.n, x[:lx], 0, y[:ly])
						}
					})
				}
			}
		})
	}
}

func sizeOf[T float](T) int {
	var z T
	if _, ok := any(z).(float64); ok {
		return 8
	}
	return 4
}

// BenchmarkSgemmVector times Sgemm on products with one side a vector,
// handed to the GEMV kernels (route=gemv) or computed by the blocked path
// (route=gemm), at one thread: GFLOP/s (2·m·n·k per call).
func BenchmarkSgemmVector(b *testing.B) {
	shapes := []struct {
		tA, tB  Transpose
		m, n, k int
	}{
		{NoTrans, Trans, 1, 16, 16},
		{NoTrans, Trans, 1, 64, 64},
		{NoTrans, Trans, 1, 576, 576},
		{NoTrans, NoTrans, 1, 576, 576},
		{NoTrans, Trans, 1, 1536, 576},
		{NoTrans, NoTrans, 1, 2304, 768},
		{NoTrans, NoTrans, 64, 1, 64},
		{NoTrans, NoTrans, 576, 1, 576},
		{Trans, NoTrans, 576, 1, 576},
	}
	defer parallel.SetThreads(parallel.SetThreads(1))
	for _, sh := range shapes {
		a := make([]float32, sh.m*sh.k)
		bb := make([]float32, sh.k*sh.n)
		c := make([]float32, sh.m*sh.n)
		for i := range a {
			a[i] = float32(i%7) - 3
		}
		for i := range bb {
			bb[i] = float32(i%5) - 2
		}
		lda, ldb := sh.k, sh.n
		if sh.tA == Trans {
			lda = sh.m
		}
		if sh.tB == Trans {
			ldb = sh.k
		}
		for _, route := range []bool{true, false} {
			name := map[bool]string{true: "gemv", false: "gemm"}[route]
			b.Run(fmt.Sprintf("shape=%dx%dx%d/op=%c%c/route=%s", sh.m, sh.n, sh.k, sh.tA, sh.tB, name), func(b *testing.B) {
				defer func(r bool) { routeGemv = r }(routeGemv)
				routeGemv = route
				for b.Loop() {
					Sgemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, a, lda, bb, ldb, 0, c, sh.n)
				}
				b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
