package gemm

import (
	"errors"
	"math"
	"math/bits"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStridedHugeStrides is issue 23 item 14: a stride of 1<<62 with 3
// products, a stride whose multiple wraps round, or a batch of 1<<62 used
// to pass the length check (its int64 arithmetic wrapped) and end in Go's
// "slice bounds out of range", once after C_0 was written. Each is now
// ErrShort before anything is written.
func TestStridedHugeStrides(t *testing.T) {
	if bits.UintSize == 32 {
		t.Skip("strides near 1<<62 need a 64-bit int")
	}
	s62 := 1 << (bits.UintSize - 2)
	wrap := math.MaxInt/2 + 2 // ·2 wraps to a small negative
	a := make([]float32, 64)
	b := make([]float32, 64)
	c := make([]float32, 64)
	for i := range c {
		c[i] = float32(i)
	}
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"strideA 1<<62", "len(a) 64 < 2·4611686018427387904 + 4 (more than MaxInt64)", func() {
			SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, s62, b, 2, 4, 0, c, 2, 4, 3)
		}},
		{"strideC wraps", "len(c) 64 < 2·", func() {
			SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, 4, b, 2, 4, 0, c, 2, wrap, 3)
		}},
		{"strideB wraps", "len(b) 64 < 2·", func() {
			SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, 4, b, 2, wrap, 0, c, 2, 4, 3)
		}},
		{"batch 1<<62", "len(c) 64 < 4611686018427387903·4 + 4 (more than MaxInt64)", func() {
			SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, a, 2, 0, b, 2, 0, 0, c, 2, 4, s62)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c0 := append([]float32(nil), c...)
			defer func() {
				err, ok := recover().(error)
				require.True(t, ok, "no error panic")
				require.True(t, errors.Is(err, ErrShort), "%v", err)
				require.True(t, strings.Contains(err.Error(), "SgemmStrided: "+tc.want), "%v", err)
				require.Equal(t, c0, c, "c written before the panic")
			}()
			tc.f()
		})
	}
}

// TestStridedOverlapManyProducts is issue 23 item 7: A and C interleaved
// in one buffer (A_i then C_i, 40,000 tiny products) made the overlap
// check compare every pair, 1.6e9 probes and 7–11 s. The rows are now
// sorted and searched; the products still match a loop of Sgemm calls, and
// a layout that does overlap is still found, naming the right products.
func TestStridedOverlapManyProducts(t *testing.T) {
	const m, n, k = 2, 2, 2
	batch := 40000
	if testing.Short() {
		batch = 4000
	}
	// Per product: A_i (m×k) then C_i (m×n), stride 8.
	buf := make([]float32, 8*batch)
	for i := range buf {
		buf[i] = float32(i%13) - 6
	}
	b := []float32{1, 2, 3, 4}
	want := append([]float32(nil), buf...)
	for i := range batch {
		Sgemm(NoTrans, NoTrans, m, n, k, 1, want[8*i:], k, b, n, 0.5, want[8*i+4:], n)
	}
	SgemmStrided(NoTrans, NoTrans, m, n, k, 1, buf, k, 8, b, n, 0, 0.5, buf[4:], n, 8, batch)
	require.Equal(t, want, buf)

	// C_i one element later: C_i's last element is A_{i+1}'s first.
	overlap := func() {
		SgemmStrided(NoTrans, NoTrans, m, n, k, 1, buf, k, 8, b, n, 0, 0.5, buf[5:], n, 8, batch-1)
	}
	require.PanicsWithError(t, "gemm: SgemmStrided: c of product 0 overlaps a of product 1", overlap)
	// Transposed A of other shape and a different leading dimension.
	buf2 := make([]float32, 8*batch+8)
	require.PanicsWithError(t, "gemm: SgemmStrided: c of product 0 overlaps a of product 1", func() {
		// A_j rows [8j, 8j+2), [8j+3, 8j+5) (lda 3); C_i rows [8i+5, 8i+7),
		// [8i+7, 8i+9) (ldc 2): C_0 misses A_0 but its last element is A_1's
		// first. Different leading dimensions, so rows are compared.
		SgemmStrided(Trans, NoTrans, m, n, k, 1, buf2, 3, 8, b, n, 0, 0.5, buf2[5:], n, 8, batch)
	})
	// A layout that interleaves without sharing an element passes:
	// A_j rows [8j, 8j+2), [8j+4, 8j+6) (lda 4), C_i rows [8i+2, 8i+4),
	// [8i+6, 8i+8) (ldc 4).
	SgemmStrided(Trans, NoTrans, m, n, k, 1, buf2, 4, 8, b, n, 0, 0.5, buf2[2:], 4, 8, batch)
}

func BenchmarkSgemmStridedOverlapCheck(b *testing.B) {
	const batch = 40000
	buf := make([]float32, 8*batch)
	w := []float32{1, 2, 3, 4}
	for b.Loop() {
		SgemmStrided(NoTrans, NoTrans, 2, 2, 2, 1, buf, 2, 8, w, 2, 0, 0, buf[4:], 2, 8, batch)
	}
}
