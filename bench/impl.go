package bench

import (
	"fmt"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/parallel"
)

// Sgemmer and Dgemmer have the signatures of gemm.Sgemm and gemm.Dgemm.
type (
	Sgemmer func(tA, tB gemm.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	Dgemmer func(tA, tB gemm.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
)

// Impl is one GEMM implementation under comparison.
type Impl struct {
	Name  string
	Sgemm Sgemmer
	Dgemm Dgemmer
	// Use makes the implementation run on threads threads (and, for
	// adjoint's kernels, selects the kernel) and returns a function that
	// restores the previous settings.
	Use func(threads int) (restore func())
	// SingleThread is set for implementations that only run serially.
	SingleThread bool
	// MaxDim, if not 0, is the largest m, n or k worth timing (naive loops).
	MaxDim int
}

// openblas is set by openblas.go when built with -tags openblas.
var openblas *Impl

// openblasCore names the OpenBLAS kernel in use ("" without OpenBLAS).
var openblasCore string

// OpenBLASCore returns the name of the OpenBLAS core (kernel family) chosen
// at load time, as openblas_get_corename reports it, or "" when built without
// -tags openblas.
func OpenBLASCore() string { return openblasCore }

// Impls returns the implementations this build and CPU can run: "naive",
// adjoint's kernels as gemm.Kernels lists them ("generic", "avx2",
// "avx512"), "gonum" (gonum.org/v1/gonum/blas/gonum), and "openblas" when
// built with -tags openblas.
func Impls() []Impl {
	impls := []Impl{{
		Name: "naive", Sgemm: Naive[float32], Dgemm: Naive[float64],
		Use: func(int) func() { return func() {} }, SingleThread: true, MaxDim: 256,
	}}
	for _, k := range gemm.Kernels() {
		impls = append(impls, Impl{Name: k, Sgemm: gemm.Sgemm, Dgemm: gemm.Dgemm, Use: useKernel(k)})
	}
	impls = append(impls, Impl{Name: "gonum", Sgemm: gonumSgemm, Dgemm: gonumDgemm, Use: useGOMAXPROCS})
	if openblas != nil {
		impls = append(impls, *openblas)
	}
	return impls
}

func useKernel(name string) func(int) func() {
	return func(threads int) func() {
		prevK := gemm.Kernel()
		if err := gemm.SetKernel(name); err != nil {
			panic(fmt.Sprintf("bench: %v", err))
		}
		prevT := parallel.SetThreads(threads)
		return func() {
			parallel.SetThreads(prevT)
			if err := gemm.SetKernel(prevK); err != nil {
				panic(fmt.Sprintf("bench: %v", err))
			}
		}
	}
}

// useGOMAXPROCS: gonum's GEMM splits work over runtime.GOMAXPROCS(0)
// goroutines.
func useGOMAXPROCS(threads int) func() {
	prev := runtime.GOMAXPROCS(threads)
	return func() { runtime.GOMAXPROCS(prev) }
}

func gonumTrans(t gemm.Transpose) blas.Transpose {
	if t == gemm.Trans {
		return blas.Trans
	}
	return blas.NoTrans
}

func gonumSgemm(tA, tB gemm.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonum.Implementation{}.Sgemm(gonumTrans(tA), gonumTrans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func gonumDgemm(tA, tB gemm.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(gonumTrans(tA), gonumTrans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Naive is the textbook loop a Go programmer would write first: for each
// row of C, accumulate alpha·A(i,p)·B(p,:) (the i-p-j order, which walks B
// and C along rows); with transposes it uses the dot-product order instead.
// It does not check its arguments.
func Naive[T float32 | float64](tA, tB gemm.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
		if tA == gemm.NoTrans && tB == gemm.NoTrans {
			for p := range k {
				s := alpha * a[i*lda+p]
				brow := b[p*ldb : p*ldb+n]
				for j, v := range brow {
					row[j] += s * v
				}
			}
			continue
		}
		for j := range row {
			var s T
			for p := range k {
				ia, ib := i*lda+p, p*ldb+j
				if tA == gemm.Trans {
					ia = p*lda + i
				}
				if tB == gemm.Trans {
					ib = j*ldb + p
				}
				s += a[ia] * b[ib]
			}
			row[j] += alpha * s
		}
	}
}
