package gonumblas_test

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/blas/testblas"
)

// gonum's own Dgemm benchmark harness (testblas.DgemmBenchmark: alpha 3,
// beta 1), with gonum's implementation and ours side by side.
func BenchmarkDgemm(b *testing.B) {
	impls := []struct {
		name string
		impl testblas.Dgemmer
	}{{"gonum", gonum.Implementation{}}, {"adjoint", impl}}
	for _, n := range []int{64, 256, 1024} {
		for _, tr := range [][2]blas.Transpose{{blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans}, {blas.NoTrans, blas.Trans}} {
			for _, im := range impls {
				b.Run(fmt.Sprintf("size=%d/trans=%c%c/impl=%s", n, tr[0], tr[1], im.name), func(b *testing.B) {
					if testing.Short() && n >= 1024 && im.name == "gonum" {
						b.Skip("gonum from 1024 skipped in -short mode")
					}
					testblas.DgemmBenchmark(b, im.impl, n, n, n, tr[0], tr[1])
					b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
