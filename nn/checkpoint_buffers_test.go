package nn

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// statLayer is a parameterless layer holding one buffer, for the
// checkpoint tests.
type statLayer struct{ s *tensor.Dense[float32] }

func (l statLayer) Forward(_ *autograd.Tape[float32], x *autograd.Var[float32]) *autograd.Var[float32] {
	return x
}
func (statLayer) NamedParams(string) []Param[float32] { return nil }
func (l statLayer) NamedBuffers(prefix string) []Buffer[float32] {
	return []Buffer[float32]{{prefix + "stat", l.s}}
}

func TestSaveLoadBuffers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.npz")
	mk := func(v float32) *Sequential[float32] {
		lin := &Linear[float32]{In: 1, Out: 2,
			W: autograd.NewVar(tensor.Full[float32](v, 1, 2), true), B: autograd.NewVar(tensor.Full[float32](v, 2), true)}
		return NewSequential[float32](lin, statLayer{tensor.Full[float32](v+1, 3)})
	}
	a, b := mk(1), mk(5)
	require.NoError(t, SaveLayer(path, a))
	require.NoError(t, LoadLayer(path, b))
	require.Equal(t, []float32{2, 2, 2}, b.Layers[1].(statLayer).s.Data())
	require.Equal(t, []float32{1, 1}, b.Layers[0].(*Linear[float32]).W.Value().Data())

	// A checkpoint without the buffer does not load into the model that
	// has one, and changes nothing.
	require.NoError(t, Save(path, a.NamedParams("")))
	c := mk(7)
	err := LoadLayer(path, c)
	require.ErrorIs(t, err, ErrCheckpoint)
	require.Contains(t, err.Error(), "no arrays for [1.stat]")
	require.Equal(t, []float32{7, 7}, c.Layers[0].(*Linear[float32]).W.Value().Data())
	require.PanicsWithError(t, `nn: invalid argument: Save: buffer name "0.weight" used twice`, func() {
		_ = Save(path, a.NamedParams(""), Buffer[float32]{"0.weight", tensor.New[float32](1)})
	})
}
