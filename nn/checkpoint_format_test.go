package nn

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// TestCheckpointFormats: the extension picks the format; both round-trip
// parameters and buffers; the file really is what its name says.
func TestCheckpointFormats(t *testing.T) {
	dir := t.TempDir()
	mk := func(seed uint64) *Sequential[float64] {
		mlp := NewMLP[float64](rand.New(rand.NewPCG(seed, seed)), []int{4, 3, 2}, Tanh)
		return NewSequential[float64](mlp.Layers[0], mlp.Layers[1], mlp.Layers[2], statLayer64{tensor.Full[float64](float64(seed), 3)})
	}
	for _, name := range []string{"m.npz", "m.safetensors", "M.SafeTensors", "m.NPZ"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			a, b := mk(1), mk(2)
			require.NoError(t, Save(path, a))
			_, err := Load(path, b, true)
			require.NoError(t, err)
			for i, p := range NamedParameters(a) {
				assert.Equal(t, p.Var.Value().Data(), NamedParameters(b)[i].Var.Value().Data(), p.Name)
			}
			assert.Equal(t, []float64{1, 1, 1}, b.Layers[3].(statLayer64).s.Data())

			// The bytes are the format named, read by package tensor directly.
			var got map[string]*tensor.Dense[float64]
			if filepath.Ext(name) == ".npz" || filepath.Ext(name) == ".NPZ" {
				got, err = tensor.LoadNPZ[float64](path)
			} else {
				got, err = tensor.LoadSafetensors[float64](path)
			}
			require.NoError(t, err)
			assert.Len(t, got, len(NamedParameters(a))+1)
			assert.Equal(t, NamedParameters(a)[0].Var.Value().Shape(), got["0.weight"].Shape())
		})
	}
}

type statLayer64 struct{ s *tensor.Dense[float64] }

func (l statLayer64) Forward(_ *autograd.Tape[float64], x *autograd.Var[float64]) *autograd.Var[float64] {
	return x
}
func (l statLayer64) Members(m *Members[float64]) { m.Buffer("stat", l.s) }

func TestCheckpointUnknownFormat(t *testing.T) {
	dir := t.TempDir()
	m := NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{3, 2}, ReLU)
	for _, name := range []string{"m.pt", "m", "m.npz.bak", "m.safetensor"} {
		path := filepath.Join(dir, name)
		err := CheckpointPath(path)
		require.ErrorIs(t, err, ErrFormat, name)
		assert.Contains(t, err.Error(), ".npz or .safetensors")
		assert.NotContains(t, err.Error(), "does not match the model") // issue 23 item 16
		require.ErrorIs(t, Save(path, m), ErrFormat, name)
		_, statErr := os.Stat(path)
		require.True(t, os.IsNotExist(statErr), "%s: nothing written", name)
		require.NoError(t, os.WriteFile(path, []byte("x"), 0o644))
		_, err = Load(path, m, true)
		require.ErrorIs(t, err, ErrFormat, name)
	}
	require.NoError(t, CheckpointPath("a/b.safetensors"))
	require.NoError(t, CheckpointPath("b.npz"))
}

// TestCheckpointWrongContent: an .npz renamed .safetensors, and a
// safetensors file of the wrong shape or with F16 data, load as errors or
// exactly, never panics.
func TestCheckpointWrongContent(t *testing.T) {
	dir := t.TempDir()
	m := NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{1, 1}, ReLU)
	npz := filepath.Join(dir, "m.npz")
	require.NoError(t, Save(npz, m))
	raw, err := os.ReadFile(npz)
	require.NoError(t, err)
	st := filepath.Join(dir, "m.safetensors")
	require.NoError(t, os.WriteFile(st, raw, 0o644))
	_, err = Load(st, m, true)
	require.ErrorIs(t, err, tensor.ErrSafetensors)

	// PyTorch-style F16 weights: 0.weight [1, 1] = 1.5, bias = -2.
	hdr := `{"0.bias":{"dtype":"F16","shape":[1],"data_offsets":[2,4]},"0.weight":{"dtype":"F16","shape":[1,1],"data_offsets":[0,2]}}`
	file := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	file = append(append(file, hdr...), 0x00, 0x3e, 0x00, 0xc0) // 0x3e00 = 1.5, 0xc000 = -2
	require.NoError(t, os.WriteFile(st, file, 0o644))
	_, err = Load(st, m, true)
	require.NoError(t, err)
	assert.Equal(t, []float32{1.5}, m.Layers[0].(*Linear[float32]).Weight.Value().Data())
	assert.Equal(t, []float32{-2}, m.Layers[0].(*Linear[float32]).Bias.Value().Data())

	big := NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{2, 1}, ReLU)
	before := append([]float32(nil), big.Layers[0].(*Linear[float32]).Weight.Value().Data()...)
	_, err = Load(st, big, true)
	require.ErrorIs(t, err, ErrCheckpoint)
	assert.Equal(t, before, big.Layers[0].(*Linear[float32]).Weight.Value().Data())
}
