package tensor

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestItem(t *testing.T) {
	require.Equal(t, 2.5, Full[float64](2.5).Item())
	require.Equal(t, float32(-1), FromSlice([]float32{-1}, 1, 1).Item())
	m := FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	require.Equal(t, 6.0, m.Slice(0, 1, 2).Slice(1, 2, 3).Item(), "a view at an offset")
	require.PanicsWithError(t, "tensor: Item: shape [2 3] holds 6 elements, not 1", func() { m.Item() })
	require.Panics(t, func() { New[float32](0).Item() })
}
