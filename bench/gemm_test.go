package bench

import (
	"fmt"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/adjoint-go/adjoint/gemm"
)

// Threads benchmarked for every implementation that can run in parallel.
var benchThreads = []int{1, 2}

func BenchmarkSgemm(b *testing.B) { benchGemm[float32](b) }
func BenchmarkDgemm(b *testing.B) { benchGemm[float64](b) }

var logOnce sync.Once

func logEnv(b *testing.B) {
	logOnce.Do(func() {
		b.Logf("adjoint kernels: %v (default %s)", gemm.Kernels(), gemm.Kernel())
		if core := OpenBLASCore(); core != "" {
			b.Logf("OpenBLAS core: %s", core)
			for _, v := range []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} {
				if s, ok := os.LookupEnv(v); ok {
					b.Logf("warning: %s=%s is set and may force an older OpenBLAS kernel; unset it (env -u %s)", v, s, v)
				}
			}
		}
	})
}

// skipReason says why a (shape, impl) pair is not timed: in -short mode the
// 2048 products, gonum from 1024 up, and the naive loops are left out so
// that `go test -short -bench . -benchtime=1x` stays quick; naive never runs
// above its MaxDim.
func skipReason(s Shape, impl Impl) string {
	if impl.MaxDim > 0 && s.MaxDim() > impl.MaxDim {
		return fmt.Sprintf("%s only up to %d", impl.Name, impl.MaxDim)
	}
	if !testing.Short() {
		return ""
	}
	switch {
	case s.MaxDim() >= 2048:
		return "2048 skipped in -short mode"
	case impl.Name == "gonum" && s.MaxDim() >= 1024:
		return "gonum from 1024 skipped in -short mode"
	case impl.Name == "naive":
		return "naive skipped in -short mode"
	}
	return ""
}

func benchGemm[T float32 | float64](b *testing.B) {
	for _, s := range Shapes() {
		for _, impl := range Impls() {
			for _, th := range benchThreads {
				if impl.SingleThread && th > 1 {
					continue
				}
				b.Run(fmt.Sprintf("%v/impl=%s/threads=%d", s, impl.Name, th), func(b *testing.B) {
					if why := skipReason(s, impl); why != "" {
						b.Skip(why)
					}
					logEnv(b) // in a sub-benchmark: a parent's log is not printed
					a, lda, bm, ldb, c, ldc := Operands[T](s)
					restore := impl.Use(th)
					defer restore()
					run := gemmOf[T](impl)
					// best-GFLOP/s is from the fastest single call: on a
					// shared, loaded machine the mean mostly measures the
					// other tenants, while the best call shows what the
					// code does when it gets the cores it asked for.
					best := time.Duration(math.MaxInt64)
					for b.Loop() {
						t0 := time.Now()
						run(s.TA, s.TB, s.M, s.N, s.K, 1, a, lda, bm, ldb, 0, c, ldc)
						best = min(best, time.Since(t0))
					}
					b.ReportMetric(s.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					b.ReportMetric(s.Flops()/best.Seconds()/1e9, "best-GFLOP/s")
				})
			}
		}
	}
}

// gemmOf returns impl's GEMM for T.
func gemmOf[T float32 | float64](impl Impl) func(tA, tB gemm.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if _, ok := any(T(0)).(float32); ok {
		return any((func(gemm.Transpose, gemm.Transpose, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int))(impl.Sgemm)).(func(tA, tB gemm.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int))
	}
	return any((func(gemm.Transpose, gemm.Transpose, int, int, int, float64, []float64, int, []float64, int, float64, []float64, int))(impl.Dgemm)).(func(tA, tB gemm.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int))
}

// Every implementation benchmarked computes the same product (so the
// benchmarks time real work): all transpose pairs, odd sizes, alpha and
// beta not 0 or 1, against a float64 loop.
func TestImplsAgree(t *testing.T) {
	N, T := gemm.NoTrans, gemm.Trans
	for _, impl := range Impls() {
		for _, th := range benchThreads {
			restore := impl.Use(th)
			for _, s := range []Shape{{37, 29, 41, N, N, ""}, {37, 29, 41, N, T, ""}, {37, 29, 41, T, N, ""}, {37, 29, 41, T, T, ""}, {130, 70, 300, N, N, ""}} {
				name := fmt.Sprintf("impl=%s/threads=%d/%v", impl.Name, th, s)
				a, lda, bm, ldb, c, ldc := Operands[float64](s)
				want := reference(s, a, lda, bm, ldb, c, ldc)
				got := append([]float64(nil), c...)
				impl.Dgemm(s.TA, s.TB, s.M, s.N, s.K, 0.75, a, lda, bm, ldb, -0.5, got, ldc)
				checkClose(t, name+"/f64", want, got, 1e-12)

				a32, lda, b32, ldb, c32, ldc := Operands[float32](s)
				want = reference(s, widen(a32), lda, widen(b32), ldb, widen(c32), ldc)
				impl.Sgemm(s.TA, s.TB, s.M, s.N, s.K, 0.75, a32, lda, b32, ldb, -0.5, c32, ldc)
				checkClose(t, name+"/f32", want, widen(c32), 1e-4)
			}
			restore()
		}
	}
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// reference computes 0.75·op(A)·op(B) − 0.5·C in float64, element by element.
func reference(s Shape, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) []float64 {
	out := append([]float64(nil), c...)
	for i := range s.M {
		for j := range s.N {
			var sum float64
			for p := range s.K {
				ia, ib := i*lda+p, p*ldb+j
				if s.TA == gemm.Trans {
					ia = p*lda + i
				}
				if s.TB == gemm.Trans {
					ib = j*ldb + p
				}
				sum += a[ia] * b[ib]
			}
			out[i*ldc+j] = 0.75*sum - 0.5*c[i*ldc+j]
		}
	}
	return out
}

func checkClose(t *testing.T, name string, want, got []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(want[i]-got[i]) > tol*max(1, math.Abs(want[i]))*10 {
			t.Errorf("%s: element %d: want %v, got %v", name, i, want[i], got[i])
			return
		}
	}
}
