package tensor

import (
	"math"
	"math/bits"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckShape(t *testing.T) {
	big := 1 << (bits.UintSize/2 - 1) // 1<<31 on 64-bit, 1<<15 on 32-bit
	for _, c := range []struct {
		name  string
		shape []int
		size  int
		n     int
		msg   string
	}{
		{"scalar", nil, 4, 1, ""},
		{"empty", []int{0, 3}, 8, 0, ""},
		{"max rank", make([]int, MaxRank), 4, 0, ""},
		{"rank above max", make([]int, MaxRank+1), 4, 0, "17 dimensions, more than MaxRank 16"},
		{"negative", []int{2, -1}, 4, 0, "negative dimension -1 in shape [2 -1]"},
		{"zero with overflowing strides", []int{0, big, big, big, big}, 4, 0, "more than"},
		{"bytes overflow", []int{math.MaxInt / 4}, 8, 0, "more than"},
		{"bytes fit", []int{math.MaxInt / 8}, 8, math.MaxInt / 8, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := CheckShape(c.shape, c.size)
			if c.msg == "" {
				require.NoError(t, err)
				assert.Equal(t, c.n, n)
				return
			}
			require.ErrorIs(t, err, ErrShape)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
	requirePanicIs(t, ErrShape, func() { CheckShape([]int{1}, 0) }, "CheckShape: elemSize 0 < 1")
	requirePanicIs(t, ErrShape, func() { New[float32](make([]int, 3_000_000)...) }, "New: shape [0 0 0 0 0 0 0 0 ...(3000000 dims)] has 3000000 dimensions")
}

func TestMulSizes(t *testing.T) {
	big := 1 << (bits.UintSize / 4) // 1<<16 on 64-bit: big^5 overflows
	n, ok := MulSizes(3, 4, 5)
	assert.True(t, ok)
	assert.Equal(t, 60, n)
	n, ok = MulSizes()
	assert.True(t, ok)
	assert.Equal(t, 1, n)
	for _, c := range [][]int{{math.MaxInt/2 + 1, 2}, {-1, 0}, {0, -1}, {big, big, big, big, big}} {
		_, ok := MulSizes(c...)
		assert.False(t, ok, "%v", c)
	}
	n, ok = MulSizes(math.MaxInt, 1, 0)
	assert.True(t, ok)
	assert.Equal(t, 0, n)
	_, ok = AddSizes(math.MaxInt, 1)
	assert.False(t, ok)
	n, ok = AddSizes(2, 3)
	assert.True(t, ok)
	assert.Equal(t, 5, n)
}

func TestQuoteName(t *testing.T) {
	assert.Equal(t, `"w.0"`, QuoteName("w.0"))
	long := strings.Repeat("é", 1000) // 2 bytes a rune: cut at a rune boundary
	q := QuoteName(long)
	assert.Equal(t, `"`+strings.Repeat("é", 32)+`"...(2000 bytes)`, q)
	assert.Equal(t, "[1 2]", FormatShape([]int{1, 2}))
}

func TestBudget(t *testing.T) {
	b := NewBudget(10)
	assert.True(t, b.Spend(BudgetFactor*10+BudgetMargin))
	assert.False(t, b.Spend(1))
	var z Budget
	assert.False(t, z.Spend(1))
	b = NewBudget(math.MaxInt64)
	assert.True(t, b.Spend(1<<40))
}

func TestShapeFromInt64(t *testing.T) {
	shape, n, err := ShapeFromInt64([]int64{2, 3, 0}, 4)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3, 0}, shape)
	assert.Zero(t, n)
	shape, n, err = ShapeFromInt64(nil, 8)
	require.NoError(t, err)
	assert.Equal(t, []int{}, shape)
	assert.Equal(t, 1, n)
	for _, c := range []struct {
		dims []int64
		msg  string
	}{
		{make([]int64, MaxRank+1), "more than MaxRank"},
		{[]int64{3, -1}, "negative dimension -1 at 1"},
		{[]int64{math.MaxInt64}, "too large"},
		{[]int64{1 << 62, 1 << 62, 0}, "too large"},
	} {
		_, _, err := ShapeFromInt64(c.dims, 4)
		require.ErrorIs(t, err, ErrShape)
		if bits.UintSize == 64 || c.msg != "too large" {
			assert.Contains(t, err.Error(), c.msg)
		}
	}
	if bits.UintSize == 32 {
		_, _, err := ShapeFromInt64([]int64{1 << 40}, 4)
		assert.ErrorContains(t, err, "does not fit an int")
	}
}
