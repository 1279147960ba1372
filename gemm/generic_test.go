package gemm

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

type myFloat64 float64

// The generic entries reach the typed ones: results equal a naive loop, for
// both element types and a type defined on float64.
func TestGenericEntries(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testGenericEntries[float32](t, 1e-5) })
	t.Run("float64", func(t *testing.T) { testGenericEntries[float64](t, 1e-12) })
	t.Run("defined", func(t *testing.T) { testGenericEntries[myFloat64](t, 1e-12) })
}

func testGenericEntries[T Float](t *testing.T, tol float64) {
	r := rand.New(rand.NewPCG(3, 4))
	const m, n, k, batch = 7, 5, 9, 3
	fill := func(s []T) {
		for i := range s {
			s[i] = T(r.Float64()*2 - 1)
		}
	}
	a, b := make([]T, batch*m*k), make([]T, batch*k*n)
	fill(a)
	fill(b)
	naive := func(a, b []T) []float64 { // A m×k, B k×n
		c := make([]float64, m*n)
		for i := range m {
			for j := range n {
				for p := range k {
					c[i*n+j] += float64(a[i*k+p]) * float64(b[p*n+j])
				}
			}
		}
		return c
	}
	near := func(want []float64, got []T) {
		t.Helper()
		for i := range want {
			require.InDelta(t, want[i], float64(got[i]), tol, "element %d", i)
		}
	}
	c := make([]T, m*n)
	Gemm(NoTrans, NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
	near(naive(a, b), c)

	cs := make([]T, batch*m*n)
	GemmStrided(NoTrans, NoTrans, m, n, k, 1, a, k, m*k, b, n, k*n, 0, cs, n, m*n, batch)
	for i := range batch {
		near(naive(a[i*m*k:], b[i*k*n:]), cs[i*m*n:(i+1)*m*n])
	}

	x, y := b[:k], make([]T, m)
	Gemv(NoTrans, m, k, 1, a, k, x, 0, y)
	want := make([]float64, m)
	for i := range m {
		for p := range k {
			want[i] += float64(a[i*k+p]) * float64(x[p])
		}
	}
	near(want, y)
}
