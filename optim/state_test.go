package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// TestStateDictKeys: PyTorch's optimizer state names, empty before the
// first step; a state that does not fit is refused and changes nothing.
func TestStateDictKeys(t *testing.T) {
	w := autograd.NewVar(tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2), true)
	b := autograd.NewVar(tensor.FromSlice([]float32{1}, 1), true)
	o := NewAdam([]*autograd.Var[float32]{w, b}, AdamConfig{})
	require.Empty(t, o.StateDict())
	tp := autograd.NewTape[float32]()
	require.NoError(t, tp.Backward(tp.Add(tp.Sum(w), tp.Sum(b))))
	o.Step()
	o.Step()
	sd := o.StateDict()
	var keys []string
	for k := range sd {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq"}, keys)
	assert.Equal(t, []float32{2}, sd["state.1.step"].Data())
	assert.Equal(t, []int{2, 2}, sd["state.0.exp_avg"].Shape())

	clone := func() map[string]*tensor.Dense[float32] {
		c := map[string]*tensor.Dense[float32]{}
		for k, v := range sd {
			c[k] = v.Clone()
		}
		return c
	}
	fresh := NewAdam([]*autograd.Var[float32]{w, b}, AdamConfig{})
	for name, tc := range map[string]struct {
		edit func(map[string]*tensor.Dense[float32])
		msg  string
	}{
		"missing":      {func(m map[string]*tensor.Dense[float32]) { delete(m, "state.1.exp_avg") }, "no state.1.exp_avg"},
		"unexpected":   {func(m map[string]*tensor.Dense[float32]) { m["state.2.step"] = tensor.New[float32](1) }, `unexpected keys "state.2.step"`},
		"shape":        {func(m map[string]*tensor.Dense[float32]) { m["state.0.exp_avg"] = tensor.New[float32](4) }, "state.0.exp_avg has shape [4], parameter 0 has [2 2]"},
		"steps differ": {func(m map[string]*tensor.Dense[float32]) { m["state.1.step"].Data()[0] = 3 }, "state.1.step is 3"},
		"NaN":          {func(m map[string]*tensor.Dense[float32]) { m["state.0.exp_avg"].Data()[2] = float32(math.NaN()) }, "state.0.exp_avg holds NaN at 2"},
		"negative v":   {func(m map[string]*tensor.Dense[float32]) { m["state.0.exp_avg_sq"].Data()[1] = -1 }, "exp_avg_sq holds -1 at 1"},
	} {
		t.Run(name, func(t *testing.T) {
			m := clone()
			tc.edit(m)
			err := fresh.LoadStateDict(m)
			require.ErrorIs(t, err, ErrState)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Equal(t, 0, fresh.Steps())
			assert.Nil(t, fresh.m)
		})
	}
	require.NoError(t, fresh.LoadStateDict(clone()))
	assert.Equal(t, 2, fresh.Steps())
	assert.Equal(t, sd["state.0.exp_avg_sq"].Data(), fresh.v[0])

	s := NewSGD([]*autograd.Var[float32]{w}, SGDConfig{Momentum: 0.5})
	s.Step()
	assert.Contains(t, s.StateDict(), "state.0.momentum_buffer")
	plain := NewSGD([]*autograd.Var[float32]{w}, SGDConfig{})
	require.ErrorIs(t, plain.LoadStateDict(s.StateDict()), ErrState, "momentum buffers for an SGD without momentum")
}
