package gemm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSmallExactSlices runs small-path products on operands allocated to
// exactly their last used element, so that under -race (which enables
// checkptr) any pointer formed one past the end of a, b or c fails: the
// product reported from tensor's tests (Sgemm NN m=2, n=33, k=1, lda=1,
// len(a)=2) and its transposes and float64 twin.
func TestSmallExactSlices(t *testing.T) {
	for _, tp := range transPairs {
		for _, sz := range [][3]int{{2, 33, 1}, {2, 2, 1}, {3, 5, 2}, {2, 7, 9}, {4, 4, 4}} {
			m, n, k := sz[0], sz[1], sz[2]
			require.True(t, isSmall(int(current.Load()), m, n, k), "must take the small path")
			testSmallExact[float32](t, tp[0], tp[1], m, n, k)
			testSmallExact[float64](t, tp[0], tp[1], m, n, k)
		}
	}
}

func testSmallExact[T float](t *testing.T, tA, tB Transpose, m, n, k int) {
	lda, ldb := k, n
	if tA == Trans {
		lda = m
	}
	if tB == Trans {
		ldb = k
	}
	a := make([]T, m*k) // fresh allocations of exactly the needed length
	b := make([]T, k*n)
	c := make([]T, m*n)
	for i := range a {
		a[i] = T(i%5 + 1)
	}
	for i := range b {
		b[i] = T(i%3 - 1)
	}
	callGemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, n)
	for i := range m {
		for j := range n {
			var s T
			for p := range k {
				ai, bj := i*lda+p, p*ldb+j
				if tA == Trans {
					ai = p*lda + i
				}
				if tB == Trans {
					bj = j*ldb + p
				}
				s += a[ai] * b[bj]
			}
			require.Equal(t, s, c[i*n+j], "%c%c m=%d n=%d k=%d C(%d,%d)", tA, tB, m, n, k, i, j)
		}
	}
}
