package gonumblas_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/blas/testblas"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/testlapack"
	"gonum.org/v1/gonum/mat"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/gonumblas"
)

var impl gonumblas.Implementation

// forEachKernel runs f once per GEMM kernel this CPU can run.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	prev := gemm.Kernel()
	t.Cleanup(func() { require.NoError(t, gemm.SetKernel(prev)) })
	for _, k := range gemm.Kernels() {
		require.NoError(t, gemm.SetKernel(k))
		t.Run("kernel="+k, f)
	}
}

// gonum's own Level-3 GEMM test suite.
func TestGonumTestblasDgemm(t *testing.T) {
	forEachKernel(t, func(t *testing.T) { testblas.TestDgemm(t, impl) })
}

// testblas has no float32 GEMM suite; its float64 cases hold small integers
// that float32 represents exactly, so they run through Sgemm unchanged.
type sgemmAsDgemm struct{}

func (sgemmAsDgemm) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	a32, b32, c32 := to32(a), to32(b), to32(c)
	impl.Sgemm(tA, tB, m, n, k, float32(alpha), a32, lda, b32, ldb, float32(beta), c32, ldc)
	for i, v := range c32 {
		c[i] = float64(v)
	}
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func TestGonumTestblasSgemm(t *testing.T) {
	forEachKernel(t, func(t *testing.T) { testblas.TestDgemm(t, sgemmAsDgemm{}) })
}

// The rest of gonum's Level-3 suite runs through the embedded routines; it
// proves the embedding exposes them unchanged.
func TestGonumTestblasLevel3Others(t *testing.T) {
	testblas.DsymmTest(t, impl)
	testblas.DtrsmTest(t, impl)
	testblas.DsyrkTest(t, impl)
	testblas.Dsyr2kTest(t, impl)
	testblas.DtrmmTest(t, impl)
}

// useBLAS installs ours for blas64 and blas32 until the test ends.
func useBLAS(t *testing.T) {
	p64, p32 := blas64.Implementation(), blas32.Implementation()
	blas64.Use(impl)
	blas32.Use(impl)
	t.Cleanup(func() { blas64.Use(p64); blas32.Use(p32) })
}

// gonum's LAPACK takes its BLAS from blas64, so with ours installed its
// blocked factorisations drive Dgemm with many sub-matrix shapes and leading
// dimensions, checked by gonum's own LAPACK tests.
func TestGonumLapackThroughOurDgemm(t *testing.T) {
	if testing.Short() {
		t.Skip("LAPACK suites are slow")
	}
	useBLAS(t)
	l := lapackgonum.Implementation{}
	t.Run("Dgetrf", func(t *testing.T) { testlapack.DgetrfTest(t, l) })
	t.Run("Dgetri", func(t *testing.T) { testlapack.DgetriTest(t, l) })
	t.Run("Dpotrf", func(t *testing.T) { testlapack.DpotrfTest(t, l) })
	t.Run("Dgeqrf", func(t *testing.T) { testlapack.DgeqrfTest(t, l) })
}

// Random shapes, strides, scalars and all transpose flags (ConjTrans
// included), compared with gonum's own Dgemm/Sgemm on the same inputs, with
// NaN guards around every buffer and inputs checked unchanged.
func TestAgainstGonum(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(1, 2))
		flags := []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}
		dims := []int{0, 1, 2, 5, 8, 9, 17, 24, 25, 48, 49, 70}
		scalars := []float64{0, 1, -1, 0.5}
		for iter := range 400 {
			tA, tB := flags[rnd.IntN(3)], flags[rnd.IntN(3)]
			m, n, k := dims[rnd.IntN(len(dims))], dims[rnd.IntN(len(dims))], dims[rnd.IntN(len(dims))]
			alpha, beta := scalars[rnd.IntN(4)], scalars[rnd.IntN(4)]
			name := fmt.Sprintf("%d/%c%c/m=%d/n=%d/k=%d/alpha=%g/beta=%g", iter, tA, tB, m, n, k, alpha, beta)
			compareOne(t, rnd, name, tA, tB, m, n, k, alpha, beta)
		}
		// Sizes that cross the blocking and parallel cut-offs.
		for _, s := range [][3]int{{300, 300, 300}, {513, 257, 129}, {129, 700, 600}} {
			for _, tA := range flags[:2] {
				for _, tB := range flags[:2] {
					compareOne(t, rnd, fmt.Sprintf("big/%c%c/%v", tA, tB, s), tA, tB, s[0], s[1], s[2], 0.5, -1)
				}
			}
		}
	})
}

const guard = 3

func guarded(rnd *rand.Rand, n int) []float64 {
	s := make([]float64, n+2*guard)
	for i := range s {
		s[i] = math.NaN()
	}
	for i := guard; i < guard+n; i++ {
		s[i] = rnd.NormFloat64()
	}
	return s
}

func compareOne(t *testing.T, rnd *rand.Rand, name string, tA, tB blas.Transpose, m, n, k int, alpha, beta float64) {
	t.Helper()
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	lda, ldb, ldc := max(1, ac)+rnd.IntN(3), max(1, bc)+rnd.IntN(3), max(1, n)+rnd.IntN(3)
	// Exactly the length gonum requires (no slack after the last row);
	// gonum checks no lengths when m or n is 0.
	need := func(r, c, ld int) int {
		if m == 0 || n == 0 {
			return 0
		}
		return max(0, (r-1)*ld+c)
	}
	a := guarded(rnd, need(ar, ac, lda))
	b := guarded(rnd, need(br, bc, ldb))
	c0 := guarded(rnd, need(m, n, ldc))
	if beta == 0 {
		for i := guard; i < len(c0)-guard; i++ {
			c0[i] = math.NaN() // must be overwritten, never read
		}
	}
	in := func(s []float64) []float64 { return s[guard : len(s)-guard] }
	aCopy, bCopy := append([]float64(nil), a...), append([]float64(nil), b...)

	want := append([]float64(nil), c0...)
	gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, in(a), lda, in(b), ldb, beta, in(want), ldc)
	got := append([]float64(nil), c0...)
	impl.Dgemm(tA, tB, m, n, k, alpha, in(a), lda, in(b), ldb, beta, in(got), ldc)
	assertClose(t, name+"/f64", want, got, 1e-12*float64(k+1))
	assert.True(t, sameBits(a, aCopy) && sameBits(b, bCopy), "%s: inputs changed", name)

	a32, b32, c32 := to32(a), to32(b), to32(c0)
	in32 := func(s []float32) []float32 { return s[guard : len(s)-guard] }
	want32 := append([]float32(nil), c32...)
	gonum.Implementation{}.Sgemm(tA, tB, m, n, k, float32(alpha), in32(a32), lda, in32(b32), ldb, float32(beta), in32(want32), ldc)
	got32 := append([]float32(nil), c32...)
	impl.Sgemm(tA, tB, m, n, k, float32(alpha), in32(a32), lda, in32(b32), ldb, float32(beta), in32(got32), ldc)
	w, g := make([]float64, len(want32)), make([]float64, len(got32))
	for i := range w {
		w[i], g[i] = float64(want32[i]), float64(got32[i])
	}
	assertClose(t, name+"/f32", w, g, 1e-5*float64(k+1))
}

func sameBits(x, y []float64) bool {
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return false
		}
	}
	return true
}

// assertClose compares element by element; NaN must match NaN (the guards,
// and C rows gonum leaves alone), and any other value must agree to tol
// relative to max(1, |want|).
func assertClose(t *testing.T, name string, want, got []float64, tol float64) {
	t.Helper()
	for i := range want {
		w, g := want[i], got[i]
		if math.IsNaN(w) || math.IsNaN(g) {
			if math.IsNaN(w) != math.IsNaN(g) {
				t.Errorf("%s: element %d: want %v, got %v", name, i, w, g)
				return
			}
			continue
		}
		if math.Abs(w-g) > tol*max(1, math.Abs(w)) {
			t.Errorf("%s: element %d: want %v, got %v (tol %g)", name, i, w, g, tol)
			return
		}
	}
}

// recovered returns the panic value of f, or nil.
func recovered(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// Bad arguments panic with exactly gonum's values (strings), in gonum's
// order of checks, and before C is written.
func TestPanicsMatchGonum(t *testing.T) {
	s := func(n int) []float64 { return make([]float64, n) }
	N, T, C := blas.NoTrans, blas.Trans, blas.ConjTrans
	type args struct {
		tA, tB  blas.Transpose
		m, n, k int
		a       []float64
		lda     int
		b       []float64
		ldb     int
		c       []float64
		ldc     int
	}
	cases := map[string]args{
		"bad tA":            {'X', N, 2, 2, 2, s(4), 2, s(4), 2, s(4), 2},
		"bad tB":            {N, 0, 2, 2, 2, s(4), 2, s(4), 2, s(4), 2},
		"m<0":               {N, N, -1, 2, 2, s(4), 2, s(4), 2, s(4), 2},
		"n<0":               {N, N, 2, -1, 2, s(4), 2, s(4), 2, s(4), 2},
		"k<0":               {N, N, 2, 2, -1, s(4), 2, s(4), 2, s(4), 2},
		"lda<k":             {N, N, 2, 2, 3, s(6), 2, s(6), 2, s(4), 2},
		"lda<m trans":       {T, N, 3, 2, 2, s(6), 2, s(4), 2, s(6), 2},
		"lda 0 with k 0":    {N, N, 2, 2, 0, s(4), 0, s(4), 2, s(4), 2},
		"ldb<n":             {N, N, 2, 3, 2, s(4), 2, s(6), 2, s(6), 3},
		"ldb<k trans":       {N, C, 2, 2, 3, s(6), 3, s(6), 2, s(4), 2},
		"ldc<n":             {N, N, 2, 2, 2, s(4), 2, s(4), 2, s(4), 1},
		"short a":           {N, N, 2, 2, 2, s(3), 2, s(4), 2, s(4), 2},
		"short a trans":     {T, N, 2, 2, 3, s(5), 2, s(6), 2, s(4), 2},
		"short b":           {N, N, 2, 2, 2, s(4), 2, s(3), 2, s(4), 2},
		"short b trans":     {N, T, 2, 3, 2, s(4), 2, s(5), 2, s(6), 3},
		"short c":           {N, N, 2, 2, 2, s(4), 2, s(4), 2, s(3), 2},
		"ld checked before": {N, N, 2, 2, 2, nil, 1, nil, 2, nil, 2},
		"m=0 skips lengths": {N, N, 0, 2, 2, nil, 2, nil, 2, nil, 2},
		"nil a with k 0":    {N, N, 2, 2, 0, nil, 1, nil, 2, s(4), 2},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			want := recovered(func() {
				gonum.Implementation{}.Dgemm(c.tA, c.tB, c.m, c.n, c.k, 1, c.a, c.lda, c.b, c.ldb, 0, append([]float64(nil), c.c...), c.ldc)
			})
			cOurs := append([]float64(nil), c.c...)
			for i := range cOurs {
				cOurs[i] = 7
			}
			got := recovered(func() {
				impl.Dgemm(c.tA, c.tB, c.m, c.n, c.k, 1, c.a, c.lda, c.b, c.ldb, 0, cOurs, c.ldc)
			})
			assert.Equal(t, want, got, "Dgemm")
			if want != nil {
				for _, v := range cOurs {
					require.Equal(t, 7.0, v, "C written before the panic")
				}
			}
			a32, b32, c32 := make([]float32, len(c.a)), make([]float32, len(c.b)), make([]float32, len(c.c))
			want32 := recovered(func() {
				gonum.Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, a32, c.lda, b32, c.ldb, 0, append([]float32(nil), c32...), c.ldc)
			})
			got32 := recovered(func() {
				impl.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, a32, c.lda, b32, c.ldb, 0, c32, c.ldc)
			})
			assert.Equal(t, want32, got32, "Sgemm")
		})
	}
}

// mat.Dense.Mul with ours installed agrees with gonum's, for float64, and
// blas32's General multiply for float32.
func TestMatMul(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	randDense := func(r, c int) *mat.Dense {
		d := make([]float64, r*c)
		for i := range d {
			d[i] = rnd.NormFloat64()
		}
		return mat.NewDense(r, c, d)
	}
	for _, s := range [][3]int{{1, 1, 1}, {7, 5, 3}, {64, 64, 64}, {200, 130, 170}} {
		a, b := randDense(s[0], s[2]), randDense(s[2], s[1])
		var want, got, gotT mat.Dense
		want.Mul(a, b)
		func() {
			useBLAS(t)
			got.Mul(a, b)
			gotT.Mul(b.T(), a.T()) // transposed operands reach Dgemm as Trans flags
		}()
		assert.True(t, mat.EqualApprox(&want, &got, 1e-12*float64(s[2])), "Mul %v", s)
		assert.True(t, mat.EqualApprox(want.T(), &gotT, 1e-12*float64(s[2])), "Mul of transposes %v", s)
	}
}

func TestBlas32Gemm(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	gen := func(r, c int) blas32.General {
		g := blas32.General{Rows: r, Cols: c, Stride: c, Data: make([]float32, r*c)}
		for i := range g.Data {
			g.Data[i] = float32(rnd.NormFloat64())
		}
		return g
	}
	a, b := gen(33, 65), gen(65, 17)
	want, got := gen(33, 17), gen(33, 17)
	copy(got.Data, want.Data)
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1.5, a, b, 0.5, want)
	useBLAS(t)
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1.5, a, b, 0.5, got)
	for i := range want.Data {
		require.InDelta(t, want.Data[i], got.Data[i], 1e-4*float64(65))
	}
}

// The in-place trailing update of a blocked LU: C, A and B are disjoint
// blocks of one matrix whose address ranges interleave. gonum's BLAS accepts
// it, so ours must too, with the same result.
func TestDisjointBlocksOfOneMatrix(t *testing.T) {
	prev := gemm.Kernel()
	defer func() { require.NoError(t, gemm.SetKernel(prev)) }()
	for _, kern := range gemm.Kernels() {
		require.NoError(t, gemm.SetKernel(kern))
		const n, ld = 40, 40
		rnd := rand.New(rand.NewPCG(7, 8))
		want := make([]float64, n*ld)
		for i := range want {
			want[i] = rnd.NormFloat64()
		}
		got := append([]float64(nil), want...)
		// C = rows 10.., cols 10..; A = rows 10.., cols 0..9; B = rows 0..9, cols 10..
		call := func(dgemm func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int), s []float64) {
			dgemm(blas.NoTrans, blas.NoTrans, n-10, n-10, 10, -1, s[10*ld:], ld, s[10:], ld, 1, s[10*ld+10:], ld)
		}
		call(gonum.Implementation{}.Dgemm, want)
		call(impl.Dgemm, got)
		assertClose(t, "kernel="+kern, want, got, 1e-12*10)
	}
}
