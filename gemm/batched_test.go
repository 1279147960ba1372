package gemm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
)

func callStrided[T float](tA, tB Transpose, m, n, k int, alpha T, a []T, lda, sA int, b []T, ldb, sB int, beta T, c []T, ldc, sC, batch int) {
	switch a := any(a).(type) {
	case []float32:
		SgemmStrided(tA, tB, m, n, k, float32(alpha), a, lda, sA, any(b).([]float32), ldb, sB, float32(beta), any(c).([]float32), ldc, sC, batch)
	case []float64:
		DgemmStrided(tA, tB, m, n, k, float64(alpha), a, lda, sA, any(b).([]float64), ldb, sB, float64(beta), any(c).([]float64), ldc, sC, batch)
	}
}

type stridedCase struct {
	tA, tB      Transpose
	m, n, k     int
	batch       int
	interleaveC bool // C_i side by side in one row (ldc = batch·n, strideC = n)
	broadcastB  bool // strideB 0
}

func (c stridedCase) String() string {
	return fmt.Sprintf("%c%c/m=%d/n=%d/k=%d/batch=%d/inter=%v/bcastB=%v", c.tA, c.tB, c.m, c.n, c.k, c.batch, c.interleaveC, c.broadcastB)
}

// TestGemmStridedMatchesLoop checks the batched call bitwise against a loop
// of single Sgemm/Dgemm calls, for every transpose pair, with padded
// leading dimensions, gaps between products, interleaved C, a broadcast B,
// and thread counts 1, 2 and 3 (bitwise identical).
func TestGemmStridedMatchesLoop(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { testStrided[float32](t) })
	t.Run("type=f64", func(t *testing.T) { testStrided[float64](t) })
}

func testStrided[T float](t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][4]int{{1, 1, 1, 1}, {5, 7, 3, 4}, {64, 64, 32, 6}, {17, 33, 9, 1}, {3, 2, 0, 3}, {130, 70, 90, 3}}
	for _, pr := range transPairs {
		for _, sh := range shapes {
			for _, variant := range []int{0, 1, 2} {
				tc := stridedCase{tA: pr[0], tB: pr[1], m: sh[0], n: sh[1], k: sh[2], batch: sh[3], interleaveC: variant == 1, broadcastB: variant == 2}
				t.Run(tc.String(), func(t *testing.T) { checkStrided1[T](t, rng, tc) })
			}
		}
	}
}

func checkStrided1[T float](t *testing.T, rng *rand.Rand, tc stridedCase) {
	ar, ac := tc.m, tc.k
	if tc.tA == Trans {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.tB == Trans {
		br, bc = tc.n, tc.k
	}
	lda, ldb := ac+1, bc+2
	sA := ar*lda + 3
	sB := br*ldb + 1
	if tc.broadcastB {
		sB = 0
	}
	ldc, sC := tc.n+1, tc.m*(tc.n+1)+2
	if tc.interleaveC {
		ldc, sC = tc.batch*tc.n+1, tc.n
	}
	fill := func(n int) []T {
		x := make([]T, n)
		for i := range x {
			x[i] = T(rng.Float64()*2 - 1)
		}
		return x
	}
	a := fill(tc.batch*sA + 5)
	b := fill(tc.batch*max(sB, 1) + br*ldb + 5)
	c0 := fill(tc.batch*sC + tc.m*ldc + 5)
	a0, b0 := append([]T(nil), a...), append([]T(nil), b...)
	alpha, beta := T(0.75), T(-0.5)
	want := append([]T(nil), c0...)
	for i := range tc.batch {
		callGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, alpha, a[i*sA:], lda, b[i*sB:], ldb, beta, want[i*sC:], ldc)
	}
	for _, th := range []int{1, 2, 3} {
		parallel.SetThreads(th)
		got := append([]T(nil), c0...)
		callStrided(tc.tA, tc.tB, tc.m, tc.n, tc.k, alpha, a, lda, sA, b, ldb, sB, beta, got, ldc, sC, tc.batch)
		for i := range got {
			require.Equal(t, bitsOf(want[i]), bitsOf(got[i]), "threads=%d: element %d", th, i)
		}
	}
	require.Equal(t, a0, a, "a changed")
	require.Equal(t, b0, b, "b changed")
}

func TestGemmStridedPanics(t *testing.T) {
	a := make([]float32, 100)
	b := make([]float32, 100)
	c := make([]float32, 100)
	cases := []struct {
		name string
		want error
		f    func()
	}{
		{"batch<0", ErrShape, func() { SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, 4, b, 2, 4, 0, c, 2, 4, -1) }},
		{"strideA<0", ErrShape, func() { SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, -4, b, 2, 4, 0, c, 2, 4, 2) }},
		{"lda", ErrLeadingDim, func() { SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 1, 4, b, 2, 4, 0, c, 2, 4, 2) }},
		{"short a", ErrShort, func() { SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a[:20], 2, 10, b, 2, 4, 0, c, 2, 4, 3) }},
		{"short c", ErrShort, func() { SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, 4, b, 2, 4, 0, c[:11], 2, 4, 3) }},
		{"c overlap", ErrOverlap, func() { SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, 4, b, 2, 4, 0, c, 2, 3, 3) }},
		{"c stride 0", ErrOverlap, func() { SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, 4, b, 2, 4, 0, c, 2, 0, 3) }},
		{"transpose", ErrTranspose, func() { SgemmStrided('x', NoTrans, 2, 2, 2, 1, a, 2, 4, b, 2, 4, 0, c, 2, 4, 2) }},
	}
	for _, tc := range cases[:len(cases)-1] {
		t.Run(tc.name, func(t *testing.T) {
			cc := append([]float32(nil), c...)
			defer func() {
				r := recover()
				require.NotNil(t, r)
				err, ok := r.(error)
				require.True(t, ok)
				require.True(t, errors.Is(err, tc.want), "%v", err)
				require.Equal(t, cc, c, "c written before the panic")
			}()
			tc.f()
		})
	}
	t.Run("c overlaps a of a later product", func(t *testing.T) {
		buf := make([]float32, 64)
		// A_0 = A_1 = buf[24:28) (stride 0); C_0 = buf[0:4) misses it,
		// C_1 = buf[24:28) does not.
		require.PanicsWithError(t, "gemm: SgemmStrided: c of product 1 overlaps a of product 0", func() {
			SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, buf[24:], 2, 0, b, 2, 4, 0, buf, 2, 24, 2)
		})
	})
	t.Run("transpose", func(t *testing.T) {
		require.Panics(t, cases[len(cases)-1].f)
	})
}

func TestGemmStridedNoAllocs(t *testing.T) {
	if stridedRace {
		t.Skip("sync.Pool drops items under the race detector")
	}
	defer parallel.SetThreads(parallel.SetThreads(2))
	const m, n, k, batch = 16, 16, 8, 8
	a, b, c := make([]float32, batch*m*k), make([]float32, batch*k*n), make([]float32, batch*m*n)
	SgemmStrided(NoTrans, Trans, m, n, k, 1, a, k, m*k, b, k, n*k, 0, c, n, m*n, batch)
	require.Zero(t, testing.AllocsPerRun(20, func() {
		SgemmStrided(NoTrans, Trans, m, n, k, 1, a, k, m*k, b, k, n*k, 0, c, n, m*n, batch)
	}))
}
