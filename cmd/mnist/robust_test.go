package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/mnist"
	"github.com/adjoint-go/adjoint/parallel"
)

// cancelAfter is a context whose Err is nil for its first n calls and
// context.Canceled after: a Ctrl-C that arrives at a chosen point of run
// (the first call is the check after loading, then one per batch).
type cancelAfter struct {
	context.Context
	n     int64
	calls atomic.Int64
}

func (c *cancelAfter) Err() error {
	if c.calls.Add(1) > c.n {
		return context.Canceled
	}
	return nil
}

// writeSet writes the four IDX files (gzip-compressed) of a synthetic set:
// nTrain and nTest images of rows×cols pixels, pixel j of image i equal to
// (7i+j)%256, label i%10.
func writeSet(t *testing.T, nTrain, nTest, rows, cols int) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, dims []int, data []byte) {
		var raw bytes.Buffer
		raw.Write([]byte{0, 0, 0x08, byte(len(dims))})
		for _, d := range dims {
			require.NoError(t, binary.Write(&raw, binary.BigEndian, uint32(d)))
		}
		raw.Write(data)
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		_, err := w.Write(raw.Bytes())
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".gz"), z.Bytes(), 0o644))
	}
	set := func(images, labels string, n int) {
		px := make([]byte, n*rows*cols)
		for i := range n {
			for j := range rows * cols {
				px[i*rows*cols+j] = byte((7*i + j) % 256)
			}
		}
		lb := make([]byte, n)
		for i := range lb {
			lb[i] = byte(i % 10)
		}
		write(images, []int{n, rows, cols}, px)
		write(labels, []int{n}, lb)
	}
	set(mnist.TrainImages, mnist.TrainLabels, nTrain)
	set(mnist.TestImages, mnist.TestLabels, nTest)
	return dir
}

// runErr runs the command and returns its error, which must be one line.
func runErr(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	_, err := run(ctx, args, &out, &errOut)
	if err != nil {
		assert.NotContains(t, err.Error(), "\n", "a one-line error")
	}
	return out.String(), err
}

// TestBadRuns covers each case of issue 9 item 3 that used to crash, run
// out of memory, or exit 0 with a meaningless result. Each must now be an
// error before any work: stdout shows no model built and no training.
func TestBadRuns(t *testing.T) {
	small := writeSet(t, 20, 10, 4, 4)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"zero training images", []string{"-data", writeSet(t, 0, 10, 4, 4)}, "no training images"},
		{"zero test images", []string{"-data", writeSet(t, 20, 0, 4, 4)}, "no test images"},
		{"image of 1x16777216 pixels", []string{"-data", writeSet(t, 1, 1, 1, 1<<24)}, "images of 1x16777216 pixels and -hidden 512,256 make a model of more than 67108864 parameters"},
		{"wide layers and a large batch", []string{"-data", writeSet(t, 3000, 10, 28, 28), "-hidden", "65536,65536,65536", "-batch", "3000"}, "more than 67108864 parameters"},
		{"many activations", []string{"-data", writeSet(t, 3000, 10, 28, 28), "-hidden", "30000", "-batch", "3000"}, "need more than 67108864 activations"},
		{"-hidden 1000000000", []string{"-data", small, "-hidden", "1000000000"}, "-hidden 1000000000: width 1000000000 > 65536"},
		{"-threads 100000000", []string{"-data", small, "-threads", "100000000"}, "-threads 100000000 outside"},
		{"-lr Inf", []string{"-data", small, "-lr", "Inf"}, "-lr +Inf must be > 0 and finite"},
		{"-lr 1e39", []string{"-data", small, "-lr", "1e39"}, "-lr 1e+39 must be > 0 and finite as a float32"},
		{"-lr NaN", []string{"-data", small, "-lr", "NaN"}, "-lr NaN"},
		{"-batch huge", []string{"-data", small, "-batch", "100000000"}, "-batch 100000000 outside"},
		{"-epochs huge", []string{"-data", small, "-epochs", "1000000000000"}, "1000000000000"}, // on 32-bit the flag package refuses it first
		{"-save in a missing folder", []string{"-data", small, "-save", filepath.Join(t.TempDir(), "no", "such", "m.npz")}, "-save"},
		{"-save is a folder", []string{"-data", small, "-save", t.TempDir()}, "not a regular file"},
		{"-load missing", []string{"-data", small, "-load", filepath.Join(t.TempDir(), "none.npz")}, "-load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runErr(t, context.Background(), append(tc.args, "-quiet")...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, out, "model:", "the error must come before a model is built")
			assert.NotContains(t, out, "training:")
		})
	}
	assert.Less(t, parallel.MaxThreads(), 100000000)
}

// TestDivergedRun: a learning rate that is valid but far too large makes
// the loss NaN or Inf; the run must fail and not save, not report an
// accuracy and exit 0.
func TestDivergedRun(t *testing.T) {
	dir := writeSet(t, 40, 10, 4, 4)
	save := filepath.Join(t.TempDir(), "m.npz")
	_, err := runErr(t, context.Background(), "-data", dir, "-quiet", "-hidden", "8", "-lr", "1e30", "-schedule", "constant", "-epochs", "3", "-batch", "8", "-save", save)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "training diverged")
	assert.NoFileExists(t, save)
}

// TestInterruptKeepsSave: Ctrl-C while the data load (a context already
// cancelled when loading ends) used to overwrite the -save file with an
// untrained model. The file must be left as it was; a later interrupt,
// after a batch has been trained, replaces it with a real checkpoint.
func TestInterruptKeepsSave(t *testing.T) {
	dir := writeSet(t, 40, 10, 4, 4)
	save := filepath.Join(t.TempDir(), "m.npz")
	require.NoError(t, os.WriteFile(save, []byte("precious"), 0o644))
	args := []string{"-data", dir, "-quiet", "-hidden", "8", "-batch", "8", "-save", save}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	res, err := run(ctx, args, &out, &out)
	require.NoError(t, err)
	assert.True(t, res.Interrupted)
	assert.Contains(t, out.String(), "nothing saved")
	got, err := os.ReadFile(save)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(got))

	// Cancelled at the first batch check: still nothing trained.
	out.Reset()
	res, err = run(&cancelAfter{Context: context.Background(), n: 1}, args, &out, &out)
	require.NoError(t, err)
	assert.True(t, res.Interrupted)
	assert.Contains(t, out.String(), "interrupted before the first batch: "+save+" not written")
	got, err = os.ReadFile(save)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(got))

	// After one batch: saved, and no temporary file left beside it.
	out.Reset()
	res, err = run(&cancelAfter{Context: context.Background(), n: 2}, args, &out, &out)
	require.NoError(t, err)
	assert.True(t, res.Interrupted)
	assert.Contains(t, out.String(), "saved "+save)
	got, err = os.ReadFile(save)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(got), "PK"), "a zip archive")
	entries, err := os.ReadDir(filepath.Dir(save))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "only the checkpoint: %v", entries)
}

// TestSmallRun: the synthetic set trains and evaluates end to end.
func TestSmallRun(t *testing.T) {
	dir := writeSet(t, 40, 10, 4, 4)
	var out bytes.Buffer
	res, err := run(context.Background(), []string{"-data", dir, "-quiet", "-hidden", "8", "-batch", "8", "-epochs", "2"}, &out, &out)
	require.NoError(t, err, out.String())
	assert.Equal(t, 2, res.Epochs)
	assert.Contains(t, out.String(), "data: 40 training and 10 test images of 4x4")
}
