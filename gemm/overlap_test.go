package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOverlapsExact compares the overlap check with the brute-force answer
// (the set of element offsets each matrix touches) for blocks of one backing
// slice: exact when the leading dimensions agree, never missing an overlap
// when they differ.
func TestOverlapsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const size = 400
	buf := make([]float64, size)
	for trial := range 20000 {
		ldc := 1 + rng.IntN(12)
		ldx := ldc
		if trial%4 == 0 {
			ldx = 1 + rng.IntN(12)
		}
		m, n := 1+rng.IntN(6), 1+rng.IntN(ldc)
		rows, cols := 1+rng.IntN(6), 1+rng.IntN(ldx)
		co := rng.IntN(size - ((m-1)*ldc + n) + 1)
		xo := rng.IntN(size - ((rows-1)*ldx + cols) + 1)
		want := false
		inC := map[int]bool{}
		for i := range m {
			for j := range n {
				inC[co+i*ldc+j] = true
			}
		}
		for p := range rows {
			for q := range cols {
				if inC[xo+p*ldx+q] {
					want = true
				}
			}
		}
		got := overlaps(buf[xo:], rows, cols, ldx, buf[co:], m, n, ldc)
		desc := fmt.Sprintf("x at %d %dx%d ld %d, c at %d %dx%d ld %d", xo, rows, cols, ldx, co, m, n, ldc)
		if ldx == ldc {
			require.Equal(t, want, got, desc)
		} else if want {
			require.True(t, got, "missed overlap: %s", desc)
		}
	}
}

// TestDisjointBlocksOfOneMatrix is what LAPACK-style callers do: C and A are
// different column blocks of one row-major matrix. That is not an overlap.
func TestDisjointBlocksOfOneMatrix(t *testing.T) {
	const rows, ld = 20, 30
	w := make([]float32, rows*ld)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	b := make([]float32, 10*10)
	for i := range b {
		b[i] = float32(i%5) - 2
	}
	// A = columns 0..9 of w (20×10), C = columns 10..19 (20×10).
	want := make([]float32, rows*10)
	for i := range rows {
		for j := range 10 {
			var s float32
			for p := range 10 {
				s += w[i*ld+p] * b[p*10+j]
			}
			want[i*10+j] = s + w[i*ld+10+j]
		}
	}
	Sgemm(NoTrans, NoTrans, rows, 10, 10, 1, w, ld, b, 10, 1, w[10:], ld)
	for i := range rows {
		for j := range 10 {
			require.InDelta(t, want[i*10+j], w[i*ld+10+j], 1e-4, "C(%d,%d)", i, j)
		}
	}
	// Shifting C one column left makes it share column 9 with A.
	require.PanicsWithError(t, "gemm: Sgemm: c overlaps a", func() {
		Sgemm(NoTrans, NoTrans, rows, 10, 10, 1, w, ld, b, 10, 1, w[9:], ld)
	})
}
