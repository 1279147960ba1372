package gemm

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGemmPanics checks every misuse panics with its sentinel and message,
// and that C is untouched when it does.
func TestGemmPanics(t *testing.T) {
	s := func(n int) []float32 { return make([]float32, n) }
	const hugeLD = math.MaxInt - 2
	buf := s(100)
	cases := []struct {
		name string
		want error
		msg  string
		call func(c []float32)
	}{
		{"tA", ErrTranspose, "gemm: Sgemm: tA 'x' is neither NoTrans nor Trans",
			func(c []float32) { Sgemm('x', NoTrans, 2, 2, 2, 1, s(4), 2, s(4), 2, 0, c, 2) }},
		{"tB", ErrTranspose, "gemm: Sgemm: tB 'n' is neither NoTrans nor Trans",
			func(c []float32) { Sgemm(NoTrans, 'n', 2, 2, 2, 1, s(4), 2, s(4), 2, 0, c, 2) }},
		{"m", ErrShape, "gemm: Sgemm: m -1 < 0",
			func(c []float32) { Sgemm(NoTrans, NoTrans, -1, 2, 2, 1, s(4), 2, s(4), 2, 0, c, 2) }},
		{"n", ErrShape, "gemm: Sgemm: n -2 < 0",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, -2, 2, 1, s(4), 2, s(4), 2, 0, c, 2) }},
		{"k", ErrShape, "gemm: Sgemm: k -3 < 0",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, -3, 1, s(4), 2, s(4), 2, 0, c, 2) }},
		{"lda", ErrLeadingDim, "gemm: Sgemm: lda 3 < k 4",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 4, 1, s(16), 3, s(16), 2, 0, c, 2) }},
		{"lda/trans", ErrLeadingDim, "gemm: Sgemm: lda 1 < m 2",
			func(c []float32) { Sgemm(Trans, NoTrans, 2, 2, 4, 1, s(16), 1, s(16), 2, 0, c, 2) }},
		{"lda/zero", ErrLeadingDim, "gemm: Sgemm: lda 0 < 1",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 0, 1, nil, 0, nil, 2, 0, c, 2) }},
		{"ldb", ErrLeadingDim, "gemm: Sgemm: ldb 1 < n 2",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 2, 1, s(4), 2, s(4), 1, 0, c, 2) }},
		{"ldb/trans", ErrLeadingDim, "gemm: Sgemm: ldb 2 < k 3",
			func(c []float32) { Sgemm(NoTrans, Trans, 2, 2, 3, 1, s(6), 3, s(6), 2, 0, c, 2) }},
		{"ldc", ErrLeadingDim, "gemm: Sgemm: ldc 1 < n 2",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 2, 1, s(4), 2, s(4), 2, 0, c, 1) }},
		{"len(a)", ErrShort, "gemm: Sgemm: len(a) 5 < 6 (2×3, ld 3)",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 3, 1, s(5), 3, s(6), 2, 0, c, 2) }},
		{"len(b)", ErrShort, "gemm: Sgemm: len(b) 6 < 7 (2×3, ld 4)",
			func(c []float32) { Sgemm(NoTrans, Trans, 2, 2, 3, 1, s(6), 3, s(6), 4, 0, c, 2) }},
		{"len(c)", ErrShort, "gemm: Sgemm: len(c) 3 < 4 (2×2, ld 2)",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 2, 1, s(4), 2, s(4), 2, 0, c[:3], 2) }},
		// (rows-1)*ld + cols overflows int: still reported, with the true need.
		{"len(a)/overflow", ErrShort, fmt.Sprintf("gemm: Sgemm: len(a) 4 < %d (2×2, ld %d)", int64(hugeLD)+2, hugeLD),
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 2, 1, s(4), hugeLD, s(4), 2, 0, c, 2) }},
		{"overlap/a", ErrOverlap, "gemm: Sgemm: c overlaps a",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 2, 1, buf[3:7], 2, s(4), 2, 0, buf[:4], 2) }},
		{"overlap/b", ErrOverlap, "gemm: Sgemm: c overlaps b",
			func(c []float32) { Sgemm(NoTrans, NoTrans, 2, 2, 2, 1, s(4), 2, buf[10:14], 2, 0, buf[5:14], 4) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := []float32{1, 2, 3, 4}
			require.PanicsWithError(t, tc.msg, func() { tc.call(c) })
			func() {
				defer func() {
					err, ok := recover().(error)
					require.True(t, ok, "panic value is not an error")
					require.True(t, errors.Is(err, tc.want), "%v does not wrap %v", err, tc.want)
				}()
				tc.call(c)
			}()
			require.Equal(t, []float32{1, 2, 3, 4}, c, "C written before the panic")
		})
	}
	// Dgemm names itself.
	require.PanicsWithError(t, "gemm: Dgemm: ldc 1 < n 2", func() {
		Dgemm(NoTrans, NoTrans, 2, 2, 2, 1, make([]float64, 4), 2, make([]float64, 4), 2, 0, make([]float64, 4), 1)
	})
}

// TestGemmNoOverlapFalsePositive: disjoint parts of one slice are fine, as is
// A aliasing B.
func TestGemmNoOverlapFalsePositive(t *testing.T) {
	buf := make([]float64, 12)
	for i := range 8 {
		buf[i] = float64(i + 1)
	}
	// A = buf[0:4] (2×2), B = the same, C = buf[8:12].
	Dgemm(NoTrans, Trans, 2, 2, 2, 1, buf[:4], 2, buf[:4], 2, 0, buf[8:], 2)
	require.Equal(t, []float64{5, 11, 11, 25}, buf[8:])
	// Row gaps: C's rows interleave with A's without sharing an element
	// would still be an address-range overlap, which is reported; but C right
	// after A's last used element is fine.
	Dgemm(NoTrans, NoTrans, 1, 2, 2, 1, buf[0:2], 2, buf[2:6], 2, 0, buf[6:8], 2)
	require.Equal(t, []float64{1*3 + 2*5, 1*4 + 2*6}, buf[6:8])
}
