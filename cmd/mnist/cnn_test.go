package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/nn"
)

// TestCNNSubset is the CI run of -model cnn: one epoch on the first 1,000
// training images (8 steps) must classify the 10,000 test images far
// better than chance (10%). About 5 s of CPU, so not under -short.
func TestCNNSubset(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the CNN subset run takes a few seconds")
	}
	needData(t)
	res, out := runArgs(t, context.Background(), "-model", "cnn", "-limit", "1000", "-epochs", "1", "-quiet")
	t.Log("\n" + out)
	assert.Contains(t, out, "model: CNN conv5x5(1-32) relu maxpool2 conv5x5(32-64) relu maxpool2 linear(3136-128) relu linear(128-10), 454922 parameters")
	assert.Equal(t, 1, res.Epochs)
	assert.Greater(t, res.TestAccuracy, 0.40)
	assert.Less(t, res.TrainLoss, 2.302) // below ln 10, the loss of a uniform guess
}

// TestCNNSaveLoadDeterministic: the same seed gives the same CNN run; a
// checkpoint it saves evaluates to the same accuracy under -load, holds
// the Sequential's names, and is refused by the MLP.
func TestCNNSaveLoadDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the CNN runs take a few seconds")
	}
	needData(t)
	path := filepath.Join(t.TempDir(), "cnn.npz")
	args := []string{"-model", "cnn", "-limit", "256", "-epochs", "1", "-quiet", "-threads", "2"}
	a, out := runArgs(t, context.Background(), append(args, "-save", path)...)
	assert.Contains(t, out, "saved "+path)
	b, _ := runArgs(t, context.Background(), append(args, "-threads", "1")...)
	assert.Equal(t, a.TrainLoss, b.TrainLoss, "thread count changes nothing")
	assert.Equal(t, a.TestAccuracy, b.TestAccuracy)

	loaded, out := runArgs(t, context.Background(), "-model", "cnn", "-load", path)
	assert.Contains(t, out, "loaded "+path)
	assert.Equal(t, a.TestAccuracy, loaded.TestAccuracy)

	var sink bytes.Buffer
	_, err := run(context.Background(), []string{"-load", path}, &sink, &sink)
	assert.ErrorIs(t, err, nn.ErrCheckpoint)
}

func TestCNNFlags(t *testing.T) {
	c, err := parseFlags([]string{"-model", "cnn"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, cnnEpochs, c.epochs)
	c, err = parseFlags([]string{"-model", "cnn", "-epochs", "1"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, 1, c.epochs)
	c, err = parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, defaultEpochs, c.epochs)
	_, err = parseFlags([]string{"-model", "resnet"}, &bytes.Buffer{})
	assert.EqualError(t, err, `-model "resnet": want mlp or cnn`)
}
