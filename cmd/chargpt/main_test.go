package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeGOROOT writes a GOROOT-like tree with Go files, tests, testdata and
// other files, and returns its root and the bytes the corpus must hold.
func fakeGOROOT(t *testing.T) (string, string) {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"src/b/b.go":                  "package b\n\nfunc B() int { return 2 }\n",
		"src/a.go":                    "package a // a.go sorts before a/\n",
		"src/a/x.go":                  "package a\n\nfunc X() {}\n",
		"src/a/x_test.go":             "package a // test: skipped\n",
		"src/a/testdata/t.go":         "package testdata // skipped\n",
		"src/a/testdata/deep/u.go":    "package deep // skipped\n",
		"src/a/README":                "not Go\n",
		"src/a-b/y.go":                "package ab\n\nvar Y = \"a-b sorts after a.go and before a/\"\n",
		"src/c/z.go":                  strings.Repeat("// filler line for the corpus\n", 40),
		"src/c/z.go.orig":             "not Go either\n",
		"src/cmd/go/testdata/main.go": "package main // skipped\n",
		"misc/outside.go":             "package misc // outside src\n",
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	// Bytewise order of the slash paths: "a-b/y.go" < "a.go" < "a/x.go".
	want := files["src/a-b/y.go"] + files["src/a.go"] + files["src/a/x.go"] + files["src/b/b.go"] + files["src/c/z.go"]
	return root, want
}

func TestReadCorpus(t *testing.T) {
	root, want := fakeGOROOT(t)
	c, err := readCorpus(root, 10)
	require.NoError(t, err)
	require.Equal(t, 5, c.files)
	all := string(c.train) + string(c.val)
	require.Equal(t, want, all)
	require.Equal(t, len(want)*9/10, len(c.train))
	files, err := goFiles(filepath.Join(root, "src"))
	require.NoError(t, err)
	require.Equal(t, []string{"a-b/y.go", "a.go", "a/x.go", "b/b.go", "c/z.go"}, files)

	_, err = readCorpus(root, len(want)) // splits too small for the context
	require.ErrorContains(t, err, "too small")
	_, err = readCorpus(filepath.Join(root, "nowhere"), 1)
	require.Error(t, err)
	empty := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(empty, "src"), 0o755))
	_, err = readCorpus(empty, 1)
	require.ErrorContains(t, err, "no Go files")
}

func runArgs(t *testing.T, args ...string) (*result, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	res, err := run(context.Background(), args, &out, &errOut)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	return res, out.String()
}

var tiny = []string{"-layers", "1", "-heads", "2", "-embd", "16", "-hidden", "32", "-block", "8", "-batch", "4", "-eval-batches", "2", "-quiet"}

// TestTinyRun is the CI run: a few iterations of a tiny configuration on
// a fake GOROOT, with evaluation, a checkpoint and a sample.
func TestTinyRun(t *testing.T) {
	root, _ := fakeGOROOT(t)
	ckpt := filepath.Join(t.TempDir(), "gpt.safetensors")
	args := append([]string{"-goroot", root, "-iters", "30", "-eval-interval", "10", "-sample", "40", "-save", ckpt, "-lr", "3e-3"}, tiny...)
	res, out := runArgs(t, args...)
	t.Log("\n" + out)
	require.Equal(t, 30, res.Iters)
	require.Contains(t, out, "data: 5 Go files")
	for _, it := range []string{"iter 0:", "iter 10:", "iter 20:", "iter 30:"} {
		require.Contains(t, out, it)
	}
	require.Less(t, res.ValLoss, 5.0) // below ln 256 = 5.545, a uniform guess
	require.Len(t, res.Sample, 40)
	require.Contains(t, out, "saved "+ckpt)

	// Same seed: same losses and sample. Loading the checkpoint and
	// sampling without training gives the saved model's sample.
	res2, _ := runArgs(t, args...)
	require.Equal(t, res.ValLoss, res2.ValLoss)
	require.Equal(t, res.Sample, res2.Sample)
	res3, out3 := runArgs(t, append([]string{"-goroot", root, "-iters", "0", "-load", ckpt, "-sample", "40", "-lr", "3e-3"}, tiny...)...)
	require.Contains(t, out3, "loaded "+ckpt)
	require.Equal(t, res.Sample, res3.Sample)
	res4, _ := runArgs(t, append([]string{"-goroot", root, "-iters", "0", "-load", ckpt, "-sample", "40", "-seed", "2"}, tiny...)...)
	require.NotEqual(t, res.Sample, res4.Sample)
}

func TestFlagErrors(t *testing.T) {
	root, _ := fakeGOROOT(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-layers", "0"}, "-layers 0 < 1"},
		{[]string{"-heads", "3"}, "-heads 3 does not divide -embd 128"},
		{[]string{"-threads", "100000000"}, "-threads 100000000 > "},
		{[]string{"-embd", "1000000", "-heads", "1"}, "GiB (1.6e+13 parameters"},
		{[]string{"-layers", "1000000"}, "more than 1 GiB"},
		{[]string{"-batch", "100000000"}, "activation values a step), more than 1 GiB"},
		{[]string{"-block", "100000", "-batch", "1000"}, "more than 1 GiB"},
		{[]string{"-block", "0"}, "-block 0 < 1"},
		{[]string{"-batch", "-1"}, "-batch -1 < 1"},
		{[]string{"-iters", "-1"}, "-iters -1 < 0"},
		{[]string{"-lr", "NaN"}, "-lr NaN"},
		{[]string{"-lr", "0"}, "-lr 0"},
		{[]string{"-beta1", "1"}, "-beta1 1 outside"},
		{[]string{"-beta2", "-0.1"}, "-beta2 -0.1 outside"},
		{[]string{"-wd", "-1"}, "-wd -1"},
		{[]string{"-clip", "Inf"}, "-clip +Inf"},
		{[]string{"-schedule", "linear"}, "-schedule \"linear\""},
		{[]string{"-warmup", "10"}, "-warmup 10 needs -schedule cosine"},
		{[]string{"-schedule", "cosine", "-warmup", "3000"}, "-warmup 3000 outside"},
		{[]string{"-eval-batches", "0"}, "-eval-batches 0 < 1"},
		{[]string{"-threads", "-2"}, "-threads -2 < 0"},
		{[]string{"-sample", "-5"}, "-sample -5 < 0"},
		{[]string{"-temperature", "-1"}, "-temperature -1"},
		{[]string{"-prompt", ""}, "-prompt must not be empty"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-goroot", filepath.Join(root, "missing")}, "missing"},
		{[]string{"-goroot", root, "-block", "1000", "-batch", "1", "-layers", "1"}, "too small"},
		{[]string{"-goroot", root, "-load", filepath.Join(root, "none.npz")}, "none.npz"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := run(context.Background(), tc.args, io.Discard, io.Discard)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.msg)
			require.NotContains(t, err.Error(), "\n")
		})
	}
}
