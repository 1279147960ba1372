package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/adjoint-go/adjoint/internal/testenv"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIssue23Flags: issue 23 items 5 and 9. Each of these ended in a Go
// runtime trace, an out-of-memory, or (for -save) an error only after
// training; each must now be a one-line error before any work.
func TestIssue23Flags(t *testing.T) {
	dir := t.TempDir()
	asDir := filepath.Join(dir, "d.safetensors")
	require.NoError(t, os.Mkdir(asDir, 0o755))
	// A GOROOT that does not exist: every error below must come first.
	base := []string{"-goroot", filepath.Join(dir, "no-goroot")}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-sample", "100000000000000"}, "100000000000000"}, // "> 1048576", or out of range for a 32-bit int
		{[]string{"-sample", "1000000000"}, "-sample 1000000000 > 1048576"},
		{[]string{"-block", "1", "-sample", "5"}, "-block 1 cannot sample"},
		{[]string{"-lr", "1e39"}, "-lr 1e+39 must be > 0 and finite as a float32"},
		{[]string{"-wd", "1e39"}, "-wd 1e+39 must be >= 0 and finite as a float32"},
		{[]string{"-lr", "1e20", "-wd", "1e20"}, "-lr 1e+20 times -wd 1e+20 is not finite as a float32"},
		{[]string{"-clip", "1e39"}, "-clip 1e+39"},
		{[]string{"-layers", "4000000", "-embd", "1", "-heads", "1", "-hidden", "1", "-block", "1", "-sample", "0"}, "more than 1 GiB"},
		{[]string{"-block", "32000", "-batch", "1", "-embd", "1", "-heads", "1", "-hidden", "1", "-layers", "1"}, "more than 1 GiB"},
		{[]string{"-save", filepath.Join(dir, "nonexistent-dir", "x.safetensors")}, "cannot write there"},
		{[]string{"-save", filepath.Join(dir, "x.bin")}, "unknown checkpoint format"},
		{[]string{"-save", asDir}, "is a directory"},
		{[]string{"-load", filepath.Join(dir, "x.pt")}, "unknown checkpoint format"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := run(context.Background(), append(append([]string{}, base...), tc.args...), io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "no-goroot", "checked after reading the corpus")
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the -save check left a file behind")
}

// TestDivergedRun: issue 23 item 8. -lr 1e30 printed "val loss NaN",
// sampled NUL bytes, saved a checkpoint of NaNs and exited 0; loading a
// checkpoint of NaNs with -iters 0 printed NaN and exited 0.
func TestDivergedRun(t *testing.T) {
	root, _ := fakeGOROOT(t)
	ckpt := filepath.Join(t.TempDir(), "x.safetensors")
	args := append([]string{"-goroot", root, "-iters", "20", "-lr", "1e30", "-save", ckpt, "-sample", "10"}, tiny...)
	var out strings.Builder
	_, err := run(context.Background(), args, &out, io.Discard)
	require.ErrorIs(t, err, nn.ErrDiverged)
	assert.Contains(t, err.Error(), "training diverged")
	assert.Contains(t, err.Error(), "nothing saved")
	_, statErr := os.Stat(ckpt)
	assert.ErrorIs(t, statErr, os.ErrNotExist)
	assert.NotContains(t, out.String(), "sample")

	// A checkpoint of NaNs, in the tiny configuration's shapes.
	c, err := parseFlags(tiny, io.Discard)
	require.NoError(t, err)
	g := nn.NewGPT[float32](rand.New(rand.NewPCG(1, 0)), c.model)
	params := nn.NamedParameters[float32](g)
	for _, p := range params {
		d := p.Var.Value().Data()
		for i := range d {
			d[i] = float32(math.NaN())
		}
	}
	nan := filepath.Join(t.TempDir(), "nan.safetensors")
	require.NoError(t, nn.Save[float32](nan, g))
	_, err = run(context.Background(), append([]string{"-goroot", root, "-iters", "0", "-load", nan, "-sample", "10"}, tiny...), io.Discard, io.Discard)
	require.Error(t, err)
	// Refused at load (a checkpoint of NaNs is an error there) or by the
	// loss check; never exit 0.
	assert.True(t, errors.Is(err, nn.ErrDiverged) || errors.Is(err, nn.ErrCheckpoint), "%v", err)
}

// Issue 23 item 5: the memory estimate is an upper bound of what a run
// allocates. Each test runs, under ulimit -v 3000000 (3 GB of address
// space), a configuration whose estimate is within 15% of the 1 GiB bound,
// each stressing one term: the per-layer bookkeeping, the attention rows,
// the parameters. The child also checks that the heap the runtime obtained
// stays below the estimate.
func TestMemoryBoundLayers(t *testing.T) {
	memoryBound(t, "TestMemoryBoundLayers", "-layers", "28000", "-embd", "1", "-heads", "1", "-hidden", "1", "-block", "1", "-batch", "1", "-sample", "0")
}

func TestMemoryBoundAttention(t *testing.T) {
	memoryBound(t, "TestMemoryBoundAttention", "-layers", "1", "-embd", "1", "-heads", "1", "-hidden", "1", "-block", "7400", "-batch", "1", "-sample", "0")
}

func TestMemoryBoundParams(t *testing.T) {
	memoryBound(t, "TestMemoryBoundParams", "-layers", "1", "-embd", "2700", "-heads", "1", "-hidden", "2700", "-block", "2", "-batch", "1", "-sample", "10")
}

func memoryBound(t *testing.T, name string, args ...string) {
	c, err := parseFlags(args, io.Discard)
	require.NoError(t, err)
	est := memoryEstimate(c)
	require.Greater(t, est.total, 0.85*maxBytes, "not near the bound")
	if !testenv.IsLimitedChild() {
		out, err := testenv.RunLimited(t, name, 3000000)
		require.NoError(t, err, "child under ulimit -v 3000000:\n%s", out)
		require.Contains(t, out, "heap ok")
		t.Log(out[strings.Index(out, "heap ok"):])
		return
	}
	// The child: a corpus large enough for the context, one step, one
	// evaluation batch.
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "src"), 0o755))
	body := strings.Repeat("package a // filler for the corpus\n", 12*c.model.BlockSize/34+100)
	require.NoError(t, os.WriteFile(filepath.Join(root, "src", "a.go"), []byte(body), 0o644))
	_, err = run(context.Background(), append(args, "-goroot", root, "-quiet", "-iters", "1", "-eval-batches", "1", "-eval-interval", "0"), io.Discard, os.Stderr)
	require.NoError(t, err)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	require.Less(t, float64(ms.HeapSys), est.total, "heap obtained %d bytes, estimate %.0f", ms.HeapSys, est.total)
	fmt.Printf("heap ok: %d MiB obtained, estimate %.0f MiB\n", ms.HeapSys>>20, est.total/(1<<20))
}
