package gonumblas_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/adjoint-go/adjoint/gonumblas"
	"github.com/adjoint-go/adjoint/tensor"
)

func TestToMatShares(t *testing.T) {
	data := []float64{1, 2, 3, 4, 5, 6}
	x := tensor.FromSlice(data, 2, 3)
	m := gonumblas.ToMat(x)
	r, c := m.Dims()
	require.Equal(t, [2]int{2, 3}, [2]int{r, c})
	for i := range 2 {
		for j := range 3 {
			assert.Equal(t, x.At(i, j), m.At(i, j))
		}
	}
	m.Set(1, 2, -9)
	assert.Equal(t, -9.0, x.At(1, 2), "write through mat.Dense not seen by tensor")
	x.Set(42, 0, 1)
	assert.Equal(t, 42.0, m.At(0, 1), "write through tensor not seen by mat.Dense")
}

func TestFromMatShares(t *testing.T) {
	m := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6})
	x := gonumblas.FromMat(m)
	require.Equal(t, []int{3, 2}, x.Shape())
	for i := range 3 {
		for j := range 2 {
			assert.Equal(t, m.At(i, j), x.At(i, j))
		}
	}
	x.Set(-1, 2, 0)
	assert.Equal(t, -1.0, m.At(2, 0), "write through tensor not seen by mat.Dense")
	m.Set(0, 1, 8)
	assert.Equal(t, 8.0, x.At(0, 1), "write through mat.Dense not seen by tensor")
}

// A column slice of a mat.Dense has stride > cols: FromMat copies it.
func TestFromMatStridedCopies(t *testing.T) {
	m := mat.NewDense(3, 4, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	sub := m.Slice(0, 3, 1, 3).(*mat.Dense) // 3×2, stride 4
	x := gonumblas.FromMat(sub)
	require.Equal(t, []int{3, 2}, x.Shape())
	for i := range 3 {
		for j := range 2 {
			assert.Equal(t, sub.At(i, j), x.At(i, j))
		}
	}
	x.Set(100, 0, 0)
	assert.Equal(t, 2.0, m.At(0, 1), "copy must be independent")
}

func TestRoundTrip(t *testing.T) {
	x := tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 3, 2)
	y := gonumblas.FromMat(gonumblas.ToMat(x))
	y.Set(9, 0, 0)
	assert.Equal(t, 9.0, x.At(0, 0), "round trip of a contiguous tensor shares storage")
}

func TestFromMatEmpty(t *testing.T) {
	x := gonumblas.FromMat(&mat.Dense{})
	assert.Equal(t, []int{0, 0}, x.Shape())
}

func TestToMatPanics(t *testing.T) {
	for name, x := range map[string]*tensor.Dense[float64]{
		"1-D":       tensor.New[float64](4),
		"3-D":       tensor.New[float64](2, 2, 2),
		"zero rows": tensor.New[float64](0, 3),
		"zero cols": tensor.New[float64](3, 0),
	} {
		t.Run(name, func(t *testing.T) {
			v := recovered(func() { gonumblas.ToMat(x) })
			err, ok := v.(error)
			require.True(t, ok, "panic value %v is not an error", v)
			assert.True(t, errors.Is(err, gonumblas.ErrShape), "%v", err)
			assert.Contains(t, err.Error(), "ToMat")
		})
	}
}

// Views that are not contiguous (a transpose, a column slice) are copied:
// the values match, and writes no longer reach the tensor.
func TestToMatViewsCopy(t *testing.T) {
	base := tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 4)
	for name, v := range map[string]*tensor.Dense[float64]{
		"transpose":    base.T(),
		"column slice": base.Slice(1, 1, 3),
	} {
		t.Run(name, func(t *testing.T) {
			require.False(t, v.IsContiguous())
			m := gonumblas.ToMat(v)
			r, c := m.Dims()
			require.Equal(t, v.Shape(), []int{r, c})
			for i := range r {
				for j := range c {
					assert.Equal(t, v.At(i, j), m.At(i, j))
				}
			}
			before := v.At(0, 0)
			m.Set(0, 0, -1)
			assert.Equal(t, before, v.At(0, 0), "copy must be independent")
		})
	}
	// A row slice of a contiguous tensor is contiguous: shared.
	rows := base.Slice(0, 1, 3)
	require.True(t, rows.IsContiguous())
	gonumblas.ToMat(rows).Set(0, 0, 50)
	assert.Equal(t, 50.0, base.At(1, 0))
}
