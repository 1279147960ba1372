package autograd

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

func TestVarItem(t *testing.T) {
	tp := NewTape[float64]()
	x := NewVar(tensor.FromSlice([]float64{1, 2, 3, 4}, 2, 2), true)
	loss := tp.Sum(tp.Mul(x, x))
	require.Equal(t, 30.0, loss.Item(), "a scalar node")
	require.Equal(t, float32(-1.5), NewVar(tensor.FromSlice([]float32{-1.5}, 1, 1), false).Item(), "size 1, not rank 0")

	for name, f := range map[string]func(){
		"matrix": func() { x.Item() },
		"nil":    func() { (*Var[float64])(nil).Item() },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				err, ok := recover().(error)
				require.True(t, ok, "panics with an error")
				require.True(t, errors.Is(err, ErrShape), "%v", err)
				require.Contains(t, err.Error(), "Item")
			}()
			f()
		})
	}
	require.PanicsWithError(t, "autograd: Item: Var made by Leaf has shape [2 2] (4 elements, not 1)", func() { x.Item() })
}
