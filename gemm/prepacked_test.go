package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/stretchr/testify/require"
)

// TestGemmPackedMatchesGemm: GemmPacked on a PackB'd B gives Gemm's bits
// on that B, for every kernel this CPU runs, both transposes of A and B,
// shapes either side of the tile, KC and NC, 1 and 2 threads; and falls
// back to Gemm (same bits) after the kernel changes.
func TestGemmPackedMatchesGemm(t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	prev := Kernel()
	defer func() { require.NoError(t, SetKernel(prev)) }()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, kn := range Kernels() {
		require.NoError(t, SetKernel(kn))
		bl := blocks[current.Load()][0]
		ms := []int{2, bl.mr + 1, 37, 128}
		ns := []int{bl.nr - 1, bl.nr + 3, 100, bl.nc + 5}
		ks := []int{1, 17, bl.kc + 3}
		if testing.Short() {
			ms, ns, ks = []int{bl.mr + 1, 37}, []int{bl.nr + 3, 2*bl.nr + 5}, []int{17, bl.kc + 3}
		}
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range ks {
					for _, tr := range [][2]Transpose{{NoTrans, NoTrans}, {NoTrans, Trans}, {Trans, Trans}} {
						tA, tB := tr[0], tr[1]
						name := fmt.Sprintf("%s/m=%d/n=%d/k=%d/%c%c", kn, m, n, k, tA, tB)
						lda, ldb, ldc := k+1, n+2, n+3
						if tA == Trans {
							lda = m + 1
						}
						if tB == Trans {
							ldb = k + 2
						}
						a := randSlice(rng, lda*max(m, k))
						b := randSlice(rng, ldb*max(n, k))
						c0 := randSlice(rng, ldc*m)
						pb := PackB(tB, k, n, b, ldb)
						for _, th := range []int{1, 2} {
							parallel.SetThreads(th)
							want := append([]float32(nil), c0...)
							got := append([]float32(nil), c0...)
							Sgemm(tA, tB, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, ldc)
							GemmPacked(tA, m, n, k, 1.5, a, lda, pb, 0.5, got, ldc)
							require.Equal(t, want, got, "%s threads=%d", name, th)
						}
					}
				}
			}
		}
	}
	// Matrix-vector shapes (m or n of 1) take Gemm's path: same bits.
	for _, mn := range [][2]int{{1, 40}, {40, 1}, {1, 1}} {
		m, n := mn[0], mn[1]
		a, b := randSlice(rng, m*50), randSlice(rng, 50*n)
		pb := PackB(NoTrans, 50, n, b, n)
		want, got := make([]float32, m*n), make([]float32, m*n)
		Sgemm(NoTrans, NoTrans, m, n, 50, 1, a, 50, b, n, 0, want, n)
		GemmPacked(NoTrans, m, n, 50, 1, a, 50, pb, 0, got, n)
		require.Equal(t, want, got, "m=%d n=%d", m, n)
	}
	// Packed for one kernel, run under another: Gemm's path, same bits.
	ks := Kernels()
	require.NoError(t, SetKernel(ks[len(ks)-1]))
	a, b := randSlice(rng, 64*70), randSlice(rng, 70*50)
	pb := PackB(NoTrans, 70, 50, b, 50)
	require.NoError(t, SetKernel(ks[0]))
	want, got := make([]float32, 64*50), make([]float32, 64*50)
	Sgemm(NoTrans, NoTrans, 64, 50, 70, 1, a, 70, b, 50, 0, want, 50)
	GemmPacked(NoTrans, 64, 50, 70, 1, a, 70, pb, 0, got, 50)
	require.Equal(t, want, got)
	require.Panics(t, func() { GemmPacked(NoTrans, 64, 51, 70, 1, a, 70, pb, 0, got, 50) })
	require.Panics(t, func() { PackB(NoTrans, 70, 50, b[:10], 50) })
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// TestGemmPackedNoAlloc: a steady-state GemmPacked allocates nothing.
func TestGemmPackedNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := randSlice(rng, 128*384), randSlice(rng, 384*384), make([]float32, 128*384)
	pb := PackB(Trans, 384, 384, b, 384)
	GemmPacked(NoTrans, 128, 384, 384, 1, a, 384, pb, 0, c, 384)
	require.Zero(t, testing.AllocsPerRun(5, func() { GemmPacked(NoTrans, 128, 384, 384, 1, a, 384, pb, 0, c, 384) }))
}

// TestGemmPackedAMatchesGemm: GemmPackedA on a PackA'd A gives Gemm's bits
// on that A, and agrees with a naive loop in float64, for every kernel this
// CPU runs, both transposes of A and B, shapes either side of the tile, KC
// and MC, 1 and 2 threads, float32 and float64; and falls back to Gemm
// (same bits) for matrix-vector shapes and after the kernel changes.
func TestGemmPackedAMatchesGemm(t *testing.T) {
	t.Run("float32", testGemmPackedA[float32])
	t.Run("float64", testGemmPackedA[float64])
}

func testGemmPackedA[T float32 | float64](t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	lowParMin(t)
	prev := Kernel()
	defer func() { require.NoError(t, SetKernel(prev)) }()
	rng := rand.New(rand.NewPCG(13, 14))
	rnd := func(n int) []T {
		s := make([]T, n)
		for i := range s {
			s[i] = T(rng.NormFloat64())
		}
		return s
	}
	ti := typeIndex[T]()
	for _, kn := range Kernels() {
		require.NoError(t, SetKernel(kn))
		bl := blocks[current.Load()][ti]
		ms := []int{2, bl.mr - 1, bl.mr + 1, 37, bl.mc + 3}
		ns := []int{bl.nr - 1, bl.nr + 3, 100, 2*bl.nr + 5}
		ks := []int{1, 17, bl.kc + 3}
		if testing.Short() {
			ms, ns, ks = []int{bl.mr + 1, 37, bl.mc + 3}, []int{bl.nr + 3, 2*bl.nr + 5}, []int{17, bl.kc + 3}
		}
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range ks {
					for _, tr := range [][2]Transpose{{NoTrans, NoTrans}, {NoTrans, Trans}, {Trans, NoTrans}, {Trans, Trans}} {
						tA, tB := tr[0], tr[1]
						name := fmt.Sprintf("%s/m=%d/n=%d/k=%d/%c%c", kn, m, n, k, tA, tB)
						lda, ldb, ldc := k+1, n+2, n+3
						if tA == Trans {
							lda = m + 1
						}
						if tB == Trans {
							ldb = k + 2
						}
						a := rnd(lda * max(m, k))
						b := rnd(ldb * max(n, k))
						c0 := rnd(ldc * m)
						a0 := append([]T(nil), a...)
						pa := PackA(tA, m, k, a, lda)
						// The naive product, in float64.
						ref := make([]float64, m*n)
						for i := range m {
							for j := range n {
								var s float64
								for p := range k {
									av, bv := a[i*lda+p], b[p*ldb+j]
									if tA == Trans {
										av = a[p*lda+i]
									}
									if tB == Trans {
										bv = b[j*ldb+p]
									}
									s += float64(av) * float64(bv)
								}
								ref[i*n+j] = 1.5*s + 0.5*float64(c0[i*ldc+j])
							}
						}
						tol := 1e-4
						if ti == 1 {
							tol = 1e-12
						}
						for _, th := range []int{1, 2} {
							parallel.SetThreads(th)
							want := append([]T(nil), c0...)
							got := append([]T(nil), c0...)
							Gemm(tA, tB, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, ldc)
							GemmPackedA(tB, m, n, k, 1.5, pa, b, ldb, 0.5, got, ldc)
							require.Equal(t, want, got, "%s threads=%d", name, th)
							for i := range m {
								for j := range n {
									d := float64(got[i*ldc+j]) - ref[i*n+j]
									require.InDelta(t, 0, d, tol*float64(k+1), "%s threads=%d (%d,%d)", name, th, i, j)
								}
								// Padding between rows untouched.
								require.Equal(t, c0[i*ldc+n:i*ldc+ldc], got[i*ldc+n:i*ldc+ldc], name)
							}
						}
						require.Equal(t, a0, a, "%s: A changed", name)
					}
				}
			}
		}
	}
	// Matrix-vector shapes (m or n of 1) take Gemm's path: same bits.
	for _, mn := range [][2]int{{1, 40}, {40, 1}, {1, 1}} {
		m, n := mn[0], mn[1]
		a, b := rnd(m*50), rnd(50*n)
		pa := PackA(NoTrans, m, 50, a, 50)
		want, got := make([]T, m*n), make([]T, m*n)
		Gemm(NoTrans, NoTrans, m, n, 50, 1, a, 50, b, n, 0, want, n)
		GemmPackedA(NoTrans, m, n, 50, 1, pa, b, n, 0, got, n)
		require.Equal(t, want, got, "m=%d n=%d", m, n)
	}
	// Packed for one kernel, run under another: Gemm's path, same bits.
	ks := Kernels()
	require.NoError(t, SetKernel(ks[len(ks)-1]))
	a, b := rnd(64*70), rnd(70*50)
	pa := PackA(NoTrans, 64, 70, a, 70)
	require.NoError(t, SetKernel(ks[0]))
	want, got := make([]T, 64*50), make([]T, 64*50)
	Gemm(NoTrans, NoTrans, 64, 50, 70, 1, a, 70, b, 50, 0, want, 50)
	GemmPackedA(NoTrans, 64, 50, 70, 1, pa, b, 50, 0, got, 50)
	require.Equal(t, want, got)
	require.Panics(t, func() { GemmPackedA(NoTrans, 63, 50, 70, 1, pa, b, 50, 0, got, 50) })
	require.Panics(t, func() { PackA(NoTrans, 64, 70, a[:10], 70) })
	// Empty operands pack to nothing and multiply as Gemm does.
	pe := PackA(NoTrans, 3, 0, a, 1)
	c := rnd(3 * 4)
	want = append([]T(nil), c...)
	Gemm(NoTrans, NoTrans, 3, 4, 0, 1, a, 1, b, 4, 0.5, want, 4)
	GemmPackedA(NoTrans, 3, 4, 0, 1, pe, b, 4, 0.5, c, 4)
	require.Equal(t, want, c)
}

// TestGemmPackedANoAlloc: a steady-state GemmPackedA allocates nothing.
func TestGemmPackedANoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, c := randSlice(rng, 96*144), randSlice(rng, 144*784), make([]float32, 96*784)
	pa := PackA(NoTrans, 96, 144, a, 144)
	GemmPackedA(NoTrans, 96, 784, 144, 1, pa, b, 784, 0, c, 784)
	require.Zero(t, testing.AllocsPerRun(5, func() { GemmPackedA(NoTrans, 96, 784, 144, 1, pa, b, 784, 0, c, 784) }))
}

// TestGemmPackedEpilogue: the epilogue sees every element of C exactly
// once, after GemmPacked's final value is written (it records that value,
// compared with GemmPacked's bits), on the packed path and the fallback to
// Gemm, at 1 and 2 threads, for every kernel this CPU runs.
func TestGemmPackedEpilogue(t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	prev := Kernel()
	defer func() { require.NoError(t, SetKernel(prev)) }()
	rng := rand.New(rand.NewPCG(13, 14))
	for _, kn := range Kernels() {
		require.NoError(t, SetKernel(kn))
		bl := blocks[current.Load()][0]
		shapes := [][3]int{{1, 7, 5}, {2, 3, 2}, {bl.mr + 1, bl.nr + 3, 17}, {128, 2*bl.nr + 5, bl.kc + 3}, {bl.mc + 7, bl.nc + 5, 40}, {128, 384, 384}}
		if testing.Short() {
			shapes = shapes[:4]
		}
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			ldc := n + 3
			a := randSlice(rng, m*k)
			b := randSlice(rng, k*n)
			c0 := randSlice(rng, ldc*m)
			pb := PackB(NoTrans, k, n, b, n)
			for _, th := range []int{1, 2} {
				parallel.SetThreads(th)
				want := append([]float32(nil), c0...)
				GemmPacked(NoTrans, m, n, k, 1.5, a, k, pb, 0.5, want, ldc)
				got := append([]float32(nil), c0...)
				seen := make([]float32, m*n)
				count := make([]int, m*n)
				GemmPackedEpilogue(NoTrans, m, n, k, 1.5, a, k, pb, 0.5, got, ldc, func(i0, i1, j0, j1 int) {
					for i := i0; i < i1; i++ {
						for j := j0; j < j1; j++ {
							seen[i*n+j] = got[i*ldc+j]
							count[i*n+j]++
							got[i*ldc+j] = -got[i*ldc+j]
						}
					}
				})
				name := fmt.Sprintf("%s/m=%d/n=%d/k=%d/threads=%d", kn, m, n, k, th)
				for i := range m {
					for j := range n {
						require.Equal(t, 1, count[i*n+j], "%s: C(%d,%d) visits", name, i, j)
						require.Equal(t, want[i*ldc+j], seen[i*n+j], "%s: C(%d,%d) before the epilogue", name, i, j)
						require.Equal(t, -want[i*ldc+j], got[i*ldc+j], "%s: C(%d,%d) after", name, i, j)
					}
				}
			}
		}
	}
}
