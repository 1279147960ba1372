package hf

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// The fixtures under testdata are made by bench/hf_reference.py (PyTorch
// implementations written from transformers' modeling files): tiny
// models with random weights, their outputs on fixed inputs, and 32 greedy
// tokens from a KV-cache loop.

func testdata(name string) string { return filepath.Join("testdata", name) }

type decoderFixture struct {
	Prompt []int   `json:"prompt"`
	Greedy []int   `json:"greedy"`
	Margin float64 `json:"min_top2_margin"`
	exp    map[string]*tensor.Dense[float32]
}

func readFixture(t *testing.T, dir string, v any) map[string]*tensor.Dense[float32] {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
	exp, err := tensor.LoadSafetensors[float32](filepath.Join(dir, "expected.safetensors"))
	require.NoError(t, err)
	return exp
}

func loadDecoder(t *testing.T, name string) (*Model[float32], *decoderFixture) {
	t.Helper()
	m, err := Load[float32](testdata(name))
	require.NoError(t, err)
	fx := &decoderFixture{}
	fx.exp = readFixture(t, testdata(name), fx)
	return m, fx
}

// relErr is max|got − want| / max|want|, the figure quoted against
// PyTorch.
func relErr(got, want []float32) float64 {
	var d, s float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = max(s, math.Abs(float64(want[i])))
	}
	return d / s
}

func requireClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	e := relErr(got, want)
	t.Logf("%s: max abs error / max |value| = %.3g", what, e)
	require.LessOrEqual(t, e, tol, what)
}

var decoders = []string{"gpt2", "llama", "qwen2", "smollm"}

func TestLogitsMatchPyTorch(t *testing.T) {
	for _, name := range decoders {
		t.Run(name, func(t *testing.T) {
			m, fx := loadDecoder(t, name)
			tp := autograd.NewTape[float32]()
			tp.NoGrad(true)
			seq := append(append([]int{}, fx.Prompt...), fx.Greedy...)
			got := m.LM.Logits(tp, fx.Prompt, 1, len(fx.Prompt))
			requireClose(t, "prompt logits", got.Value().Data(), fx.exp["prompt_logits"].Data(), 1e-5)
			tp.Reset()
			got = m.LM.Logits(tp, seq, 1, len(seq))
			requireClose(t, "full logits", got.Value().Data(), fx.exp["full_logits"].Data(), 1e-5)
		})
	}
}

func TestBertMatchesPyTorch(t *testing.T) {
	m, err := Load[float32](testdata("bert"))
	require.NoError(t, err)
	require.Equal(t, "mean", m.Pooling)
	require.True(t, m.Normalize)
	var in struct {
		IDs   [][]int `json:"input_ids"`
		Mask  [][]int `json:"attention_mask"`
		Types [][]int `json:"token_type_ids"`
	}
	exp := readFixture(t, testdata("bert"), &in)
	flat := func(x [][]int) (out []int) {
		for _, r := range x {
			out = append(out, r...)
		}
		return out
	}
	b, tt := len(in.IDs), len(in.IDs[0])
	mask := flat(in.Mask)
	tp := autograd.NewTape[float32]()
	tp.NoGrad(true)
	h := m.Bert.Forward(tp, BertInput{B: b, T: tt, InputIDs: flat(in.IDs), AttentionMask: mask, TokenTypeIDs: flat(in.Types)})
	requireClose(t, "last_hidden_state", h.Value().Data(), exp["last_hidden_state"].Data(), 1e-5)
	for _, c := range []struct {
		mode string
		norm bool
		key  string
	}{{"mean", false, "mean"}, {"mean", true, "mean_normalized"}, {"cls", false, "cls"}, {"cls", true, "cls_normalized"}} {
		got := Pool(nil, h.Value(), mask, b, tt, c.mode, c.norm)
		requireClose(t, c.key, got.Data(), exp[c.key].Data(), 1e-5)
	}
}
