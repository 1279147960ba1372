package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

var bert = filepath.Join("..", "..", "hf", "testdata", "bert")

func runCmd(stdin string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := run(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), err
}

func rows(t *testing.T, s string) [][]float64 {
	var out [][]float64
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var r []float64
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		out = append(out, r)
	}
	return out
}

// TestAgainstPyTorch: the first fixture sequence (token types 0), alone and
// padded in a batch beside a longer one, gives PyTorch's mean-pooled,
// normalised embedding (the folder's sentence-transformers settings).
func TestAgainstPyTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(bert, "expected.json"))
	require.NoError(t, err)
	var fx struct {
		IDs [][]int `json:"input_ids"`
	}
	require.NoError(t, json.Unmarshal(b, &fx))
	exp, err := tensor.LoadSafetensors[float32](filepath.Join(bert, "expected.safetensors"))
	require.NoError(t, err)
	want := exp["mean_normalized"].Data()[:32]
	first, _ := json.Marshal(fx.IDs[0][:8])
	second, _ := json.Marshal(fx.IDs[1])
	for _, in := range []string{string(first), string(first) + "\n" + string(second)} {
		out, err := runCmd(in, "-model", bert, "-ids")
		require.NoError(t, err)
		got := rows(t, out)[0]
		require.Len(t, got, 32)
		var worst float64
		for i, w := range want {
			worst = max(worst, math.Abs(got[i]-float64(w)))
		}
		require.LessOrEqual(t, worst, 1e-5)
	}
}

func TestTextAndNPY(t *testing.T) {
	out, err := runCmd("", "-model", bert, "hello world", "the cat is fast", "hello world")
	require.NoError(t, err)
	r := rows(t, out)
	require.Len(t, r, 3)
	require.Equal(t, r[0], r[2])
	var n float64
	for _, v := range r[1] {
		n += v * v
	}
	require.InDelta(t, 1, n, 1e-5) // normalised, as modules.json says
	path := filepath.Join(t.TempDir(), "emb.npy")
	_, err = runCmd("hello world\nthe cat is fast\nhello world\n", "-model", bert, "-out", path, "-batch", "2")
	require.NoError(t, err)
	e, err := tensor.LoadNPY[float32](path)
	require.NoError(t, err)
	require.Equal(t, []int{3, 32}, e.Shape())
	for i := range r {
		for j := range r[i] {
			require.InDelta(t, r[i][j], float64(e.At(i, j)), 1e-7)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := [][]string{
		{"x"},
		{"-model", t.TempDir(), "x"},
		{"-model", filepath.Join(bert, "..", "llama"), "x"},
		{"-model", bert, "-pooling", "max", "x"},
		{"-model", bert, "-out", "e.json", "x"},
		{"-model", bert, "-batch", "0", "x"},
		{"-model", bert, "-ids", "x"},
	}
	for _, args := range cases {
		_, err := runCmd("", args...)
		require.Error(t, err, "%q", args)
		require.NotContains(t, err.Error(), "\n")
	}
	for _, in := range []string{"[1, 2, 500]", "nope", "[]", "[" + strings.Repeat("1,", 100) + "1]"} {
		_, err := runCmd(in, "-model", bert, "-ids")
		require.Error(t, err, in)
	}
}

// TestTruncation: texts are cut at sentence_bert_config.json's
// max_seq_length (16, [CLS] and [SEP] included), as sentence-transformers
// does.
func TestTruncation(t *testing.T) {
	words := strings.Fields("the cat is fast and the dog is pure the model run on a graph of token text")
	long := strings.Join(words, " ")
	cut := strings.Join(words[:14], " ")
	shorter := strings.Join(words[:13], " ")
	out, err := runCmd("", "-model", bert, long, cut, shorter)
	require.NoError(t, err)
	r := rows(t, out)
	require.Equal(t, r[0], r[1])
	require.NotEqual(t, r[1], r[2])
}
