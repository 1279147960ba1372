package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// TestSaveFormats: -save and -load take .safetensors as well as .npz (the
// file written is the format its name says), and any other extension is
// refused before training.
func TestSaveFormats(t *testing.T) {
	small := writeSet(t, 20, 10, 4, 4)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	_, err := runErr(t, context.Background(), "-data", small, "-quiet", "-hidden", "8", "-epochs", "1", "-batch", "8", "-save", path)
	require.NoError(t, err)
	m, err := tensor.LoadSafetensors[float32](path)
	require.NoError(t, err)
	assert.Equal(t, []int{8, 16}, m["0.weight"].Shape(), "PyTorch's nn.Sequential name and [out, in] layout")
	_, err = runErr(t, context.Background(), "-data", small, "-quiet", "-hidden", "8", "-load", path)
	require.NoError(t, err)

	for _, name := range []string{"m.pt", "m"} {
		out, err := runErr(t, context.Background(), "-data", small, "-quiet", "-hidden", "8", "-save", filepath.Join(dir, name))
		require.Error(t, err)
		assert.Contains(t, err.Error(), ".npz or .safetensors")
		assert.NotContains(t, out, "model:", "refused before a model is built")
	}
}
