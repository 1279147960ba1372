package gemm

import (
	"errors"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShortMessageOverflow: when (rows-1)·ld + cols does not fit an int64
// the short-slice message printed a negative requirement ("len(a) 4 < -…",
// issue 9 item 6). It now says the need exceeds MaxInt64.
func TestShortMessageOverflow(t *testing.T) {
	if bits.UintSize < 64 {
		t.Skip("needs 64-bit ints to express the sizes")
	}
	s := 32 // a variable, so that the 32-bit build compiles
	m, k, lda := 1<<s, 2, 1<<s
	want := "gemm: Sgemm: len(a) 4 < 4294967295·4294967296 + 2 (more than MaxInt64) (4294967296×2, ld 4294967296)"
	defer func() {
		err, ok := recover().(error)
		require.True(t, ok)
		require.True(t, errors.Is(err, ErrShort))
		require.Equal(t, want, err.Error())
	}()
	Sgemm(NoTrans, NoTrans, m, 2, k, 1, make([]float32, 4), lda, make([]float32, 4), 2, 0, make([]float32, 4), 2)
}
