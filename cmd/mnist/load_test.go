package main

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/nn"
)

// TestLoadNaN: a checkpoint of the right shapes holding a NaN is an error
// at load, not an accuracy (issue 23 item 8).
func TestLoadNaN(t *testing.T) {
	dir := writeSet(t, 20, 10, 4, 4)
	path := filepath.Join(t.TempDir(), "nan.safetensors")
	m := nn.NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{16, 8, 10}, nn.ReLU)
	nn.Parameters(m)[2].Value().Data()[5] = float32(math.NaN())
	require.NoError(t, nn.Save(path, m))
	out, err := runErr(t, context.Background(), "-data", dir, "-quiet", "-hidden", "8", "-load", path)
	require.ErrorIs(t, err, nn.ErrCheckpoint)
	assert.Contains(t, err.Error(), `"2.weight" holds NaN`)
	assert.NotContains(t, out, "test accuracy")
}
