package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adjoint-go/adjoint/onnx"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// The test model and its expected output come from ONNX's conformance data
// (test_add_bcast: x[3,4,5] + y[5]); skipped when it is not installed.
const caseDir = "/usr/share/libonnx-testdata/data/node/test_add_bcast"

func pbToNPY(t *testing.T, pbPath, npyPath string) *onnx.Tensor {
	b, err := os.ReadFile(pbPath)
	require.NoError(t, err)
	x, _, err := onnx.ParseTensor(b)
	require.NoError(t, err)
	f, err := os.Create(npyPath)
	require.NoError(t, err)
	require.NoError(t, onnx.WriteNPY(f, x))
	require.NoError(t, f.Close())
	return x
}

func TestRunWritesOutputs(t *testing.T) {
	if _, err := os.Stat(caseDir); err != nil {
		t.Skip("conformance data not installed (apt-get install libonnx-testdata)")
	}
	dir := t.TempDir()
	set := filepath.Join(caseDir, "test_data_set_0")
	pbToNPY(t, filepath.Join(set, "input_0.pb"), filepath.Join(dir, "x.npy"))
	pbToNPY(t, filepath.Join(set, "input_1.pb"), filepath.Join(dir, "y.npy"))
	wb, err := os.ReadFile(filepath.Join(set, "output_0.pb"))
	require.NoError(t, err)
	want, _, err := onnx.ParseTensor(wb)
	require.NoError(t, err)

	model := filepath.Join(caseDir, "model.onnx")
	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	require.NoError(t, run([]string{"-threads", "1", model, "-in", "x=" + filepath.Join(dir, "x.npy"),
		"-in", "y=" + filepath.Join(dir, "y.npy"), "-out", out}, &stdout))
	gb, err := os.ReadFile(filepath.Join(out, "sum.npy"))
	require.NoError(t, err)
	got, err := onnx.ReadNPY(gb)
	require.NoError(t, err)
	require.Equal(t, want.Shape, got.Shape)
	for i := range want.F32 {
		require.LessOrEqual(t, math.Abs(float64(got.F32[i]-want.F32[i])), 1e-6)
	}

	stdout.Reset()
	require.NoError(t, run([]string{"-info", model}, &stdout))
	for _, s := range []string{"ai.onnx 14", "x float32 [3 4 5]", "y float32 [5]", "sum float32 [3 4 5]", "Add"} {
		require.Contains(t, stdout.String(), s)
	}
	stdout.Reset()
	require.NoError(t, run([]string{"-bench", "3", model}, &stdout))
	require.Contains(t, stdout.String(), "3 runs")
}

func TestErrors(t *testing.T) {
	if _, err := os.Stat(caseDir); err != nil {
		t.Skip("conformance data not installed (apt-get install libonnx-testdata)")
	}
	dir := t.TempDir()
	set := filepath.Join(caseDir, "test_data_set_0")
	x := filepath.Join(dir, "x.npy")
	pbToNPY(t, filepath.Join(set, "input_0.pb"), x)
	y := filepath.Join(dir, "y.npy")
	pbToNPY(t, filepath.Join(set, "input_1.pb"), y)
	bad := filepath.Join(dir, "bad.npy")
	require.NoError(t, os.WriteFile(bad, []byte("not npy"), 0o644))
	model := filepath.Join(caseDir, "model.onnx")
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no model":     {nil, "usage"},
		"bad flag":     {[]string{"-nope", model}, "usage"},
		"bad bench":    {[]string{"-bench", "-1", model}, "-bench"},
		"bad threads":  {[]string{"-threads", "-3", model}, "-threads"},
		"bad dim":      {[]string{"-dim", "n", model}, "-dim"},
		"missing file": {[]string{filepath.Join(dir, "none.onnx")}, "no such file"},
		"missing in":   {[]string{model, "-in", "x=" + x}, `missing input "y"`},
		"extra in":     {[]string{model, "-in", "x=" + x, "-in", "y=" + y, "-in", "z=" + y}, `"z" is not an input`},
		"shape":        {[]string{model, "-in", "x=" + y, "-in", "y=" + y}, "model wants [3 4 5]"},
		"bad npy":      {[]string{model, "-in", "x=" + bad, "-in", "y=" + y}, "bad.npy"},
		"dup in":       {[]string{model, "-in", "x=" + x, "-in", "x=" + x}, "twice"},
		"bad in":       {[]string{model, "-in", "x"}, "name=file.npy"},
		"extra arg":    {[]string{model, "stray"}, "unexpected argument"},
	} {
		err := run(c.args, &bytes.Buffer{})
		require.Error(t, err, name)
		require.Contains(t, err.Error(), c.want, name)
		require.False(t, strings.Contains(err.Error(), "\n"), name)
	}
}

// symbolicModel writes a model y = -x with x float [batch, 3].
func symbolicModel(t *testing.T) string {
	msg := func(b []byte, num protowire.Number, m []byte) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, m)
	}
	str := func(b []byte, num protowire.Number, s string) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendString(b, s)
	}
	varint := func(b []byte, num protowire.Number, v uint64) []byte {
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, v)
	}
	shape := msg(nil, 1, str(nil, 2, "batch"))
	shape = msg(shape, 1, varint(nil, 1, 3))
	typ := msg(nil, 1, msg(varint(nil, 1, uint64(onnx.Float)), 2, shape))
	node := str(str(str(nil, 1, "x"), 2, "y"), 4, "Neg")
	g := msg(nil, 1, node)
	g = msg(g, 11, msg(str(nil, 1, "x"), 2, typ))
	g = msg(g, 12, msg(str(nil, 1, "y"), 2, typ))
	m := varint(nil, 1, 8)
	m = msg(m, 8, varint(str(nil, 1, ""), 2, 13))
	m = msg(m, 7, g)
	path := filepath.Join(t.TempDir(), "neg.onnx")
	require.NoError(t, os.WriteFile(path, m, 0o644))
	return path
}

func TestSymbolicDims(t *testing.T) {
	model := symbolicModel(t)
	var stdout bytes.Buffer
	require.NoError(t, run([]string{"-info", model}, &stdout))
	require.Contains(t, stdout.String(), "x float32 [batch 3]")

	err := run([]string{"-bench", "2", model}, &bytes.Buffer{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "-dim batch=N")

	out := filepath.Join(t.TempDir(), "out")
	stdout.Reset()
	require.NoError(t, run([]string{"-bench", "2", "-dim", "batch=4", model, "-out", out}, &stdout))
	require.Contains(t, stdout.String(), "2 runs")
	b, err := os.ReadFile(filepath.Join(out, "y.npy"))
	require.NoError(t, err)
	y, err := onnx.ReadNPY(b)
	require.NoError(t, err)
	require.Equal(t, []int{4, 3}, y.Shape)
}

// -info still describes a model with an unsupported op, then names it.
func TestInfoUnsupported(t *testing.T) {
	path := symbolicModel(t)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	// Rename the op (same length keeps the encoding valid).
	b = bytes.Replace(b, []byte("Neg"), []byte("Zzz"), 1)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	var stdout bytes.Buffer
	err = run([]string{"-info", path}, &stdout)
	require.Error(t, err)
	require.Contains(t, err.Error(), "op Zzz (domain ai.onnx, opset 13)")
	require.Contains(t, stdout.String(), "x float32 [batch 3]")
	require.Contains(t, stdout.String(), "Zzz")
}
