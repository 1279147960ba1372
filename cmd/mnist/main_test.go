package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"github.com/adjoint-go/adjoint/internal/testenv"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/mnist"
	"github.com/adjoint-go/adjoint/nn"
)

// needData skips the test when the GoMNIST module is not in the module
// cache (it is in go.mod, so `go mod download` or any build fetches it).
func needData(t *testing.T) {
	t.Helper()
	if testing.Short() && t.Name() != "TestOneEpochSubset" {
		t.Skip("-short: only the one-epoch subset run reads MNIST")
	}
	testenv.MustHaveExec(t) // DefaultDir runs the go tool
	if _, err := mnist.DefaultDir(); err != nil {
		t.Skipf("MNIST data not available: %v", err)
	}
}

func runArgs(t *testing.T, ctx context.Context, args ...string) (*result, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	res, err := run(ctx, args, &out, &errOut)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	return res, out.String()
}

// TestOneEpochSubset is the CI run: one epoch on the first 1,000 training
// images must classify the 10,000 test images far better than chance (10%).
func TestOneEpochSubset(t *testing.T) {
	needData(t)
	res, out := runArgs(t, context.Background(), "-limit", "1000", "-epochs", "1", "-quiet")
	t.Log("\n" + out)
	assert.Contains(t, out, "data: 1000 training and 10000 test images of 28x28")
	assert.Contains(t, out, "epoch 1/1  train loss")
	assert.Equal(t, 1, res.Epochs)
	assert.False(t, res.Interrupted)
	assert.Greater(t, res.TestAccuracy, 0.60)
	assert.Less(t, res.TrainLoss, 2.302) // below ln 10, the loss of a uniform guess
}

// TestDeterministic: the same seed and thread count give the same numbers;
// another seed gives different ones.
func TestDeterministic(t *testing.T) {
	needData(t)
	args := []string{"-limit", "500", "-epochs", "1", "-quiet", "-threads", "2", "-hidden", "64"}
	a, _ := runArgs(t, context.Background(), args...)
	b, _ := runArgs(t, context.Background(), args...)
	c, _ := runArgs(t, context.Background(), append(args, "-seed", "2")...)
	assert.Equal(t, a.TrainLoss, b.TrainLoss)
	assert.Equal(t, a.TestAccuracy, b.TestAccuracy)
	assert.NotEqual(t, a.TrainLoss, c.TrainLoss)
}

// TestSaveLoad: -load evaluates a checkpoint written by -save to the same
// accuracy, and the checkpoint holds the default model's parameters.
func TestSaveLoad(t *testing.T) {
	needData(t)
	path := filepath.Join(t.TempDir(), "m.npz")
	trained, out := runArgs(t, context.Background(), "-limit", "300", "-epochs", "1", "-quiet", "-hidden", "32,16", "-save", path)
	assert.Contains(t, out, "saved "+path)
	loaded, out := runArgs(t, context.Background(), "-load", path, "-hidden", "32,16")
	assert.Contains(t, out, "loaded "+path)
	assert.Equal(t, trained.TestAccuracy, loaded.TestAccuracy)
	assert.Equal(t, 0, loaded.Epochs)

	m := nn.NewMLP[float32](rand.New(rand.NewPCG(9, 9)), []int{784, 32, 16, 10}, nn.ReLU)
	_, err := nn.Load(path, m, true)
	require.NoError(t, err)

	// A checkpoint of another shape is refused.
	var sink bytes.Buffer
	_, err = run(context.Background(), []string{"-load", path, "-hidden", "64"}, &sink, &sink)
	assert.ErrorIs(t, err, nn.ErrCheckpoint)
}

// TestInterrupt: a context cancelled before training starts (Ctrl-C while
// the data load) stops the run without writing -save: an untrained model
// must not replace a checkpoint (issue 9 item 3). One cancelled after the
// first batch stops at the batch boundary, still evaluates, and saves.
func TestInterrupt(t *testing.T) {
	needData(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "int.npz")
	res, out := runArgs(t, ctx, "-limit", "300", "-epochs", "3", "-quiet", "-hidden", "16", "-save", path)
	assert.True(t, res.Interrupted)
	assert.Equal(t, 0, res.Epochs)
	assert.Contains(t, out, "interrupted while loading the data: nothing trained, nothing saved")
	assert.NoFileExists(t, path)

	res, out = runArgs(t, &cancelAfter{Context: context.Background(), n: 2}, "-limit", "300", "-epochs", "3", "-quiet", "-hidden", "16", "-save", path)
	assert.True(t, res.Interrupted)
	assert.Contains(t, out, "interrupted during epoch 1 after 1 of 3 batches")
	assert.Contains(t, out, "saved "+path)
	m := nn.NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{784, 16, 10}, nn.ReLU)
	_, err := nn.Load(path, m, true)
	require.NoError(t, err)
}

func TestDataErrors(t *testing.T) {
	var sink bytes.Buffer
	_, err := run(context.Background(), []string{"-data", t.TempDir(), "-quiet"}, &sink, &sink)
	require.ErrorIs(t, err, mnist.ErrNotFound)
	assert.Contains(t, err.Error(), "train-images-idx3-ubyte")
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-batch", "0"},
		{"-hidden", "512,x"},
		{"-hidden", "0"},
		{"-lr", "-1"},
		{"-epochs", "-1"},
		{"-schedule", "linear"},
		{"extra"},
		{"-nosuchflag"},
	} {
		var sink bytes.Buffer
		_, err := run(context.Background(), args, &sink, &sink)
		assert.Error(t, err, "%q", args)
	}
	// A flag that does not apply is an error (issue 23 item 11).
	for _, args := range [][]string{
		{"-load", "a.npz", "-save", "b.npz"},
		{"-load", "a.npz", "-epochs", "3"},
		{"-load", "a.npz", "-lr", "0.1"},
		{"-model", "cnn", "-hidden", "7,7"},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		assert.ErrorContains(t, err, "does not apply", "%q", args)
	}
	var sink bytes.Buffer
	_, err := run(context.Background(), []string{"-h"}, &sink, &sink)
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.True(t, strings.Contains(sink.String(), "-epochs"))
}
