package bench

import (
	"fmt"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/mat"

	"github.com/adjoint-go/adjoint/gonumblas"
	"github.com/adjoint-go/adjoint/parallel"
)

// BenchmarkMatDenseMul times gonum's mat.Dense.Mul (float64) with gonum's
// own BLAS and with adjoint's (blas64.Use(gonumblas.Implementation{})).
// Target (issue 6): at 1024, one thread, adjoint ≥ 8× gonum.
func BenchmarkMatDenseMul(b *testing.B) {
	impls := []struct {
		name string
		impl blas.Float64
	}{{"gonum", gonum.Implementation{}}, {"adjoint", gonumblas.Implementation{}}}
	for _, n := range []int{256, 1024} {
		for _, im := range impls {
			for _, th := range benchThreads {
				b.Run(fmt.Sprintf("size=%d/blas=%s/threads=%d", n, im.name, th), func(b *testing.B) {
					if testing.Short() && n >= 1024 && im.name == "gonum" {
						b.Skip("gonum from 1024 skipped in -short mode")
					}
					prevImpl := blas64.Implementation()
					blas64.Use(im.impl)
					defer blas64.Use(prevImpl)
					// gonum's Dgemm splits over GOMAXPROCS, ours over parallel's threads.
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(th))
					defer parallel.SetThreads(parallel.SetThreads(th))
					x := mat.NewDense(n, n, fill[float64](n*n, 1))
					y := mat.NewDense(n, n, fill[float64](n*n, 2))
					z := mat.NewDense(n, n, nil)
					for b.Loop() {
						z.Mul(x, y)
					}
					b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
