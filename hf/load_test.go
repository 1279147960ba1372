package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/tensor"
)

// copyDir copies a fixture folder (flat, and one level of sub-folders).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
	return dst
}

// editConfig rewrites config.json of dir through f.
func editConfig(t *testing.T, dir string, f func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	f(m)
	b, err = json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b, 0o644))
}

func TestLoadConfigErrors(t *testing.T) {
	cases := []struct {
		name, model string
		edit        func(map[string]any)
		kind        error
		msg         string
	}{
		{"unknown model_type", "llama", func(m map[string]any) { m["model_type"] = "mamba" }, ErrUnsupported, `model_type "mamba"`},
		{"no model_type", "llama", func(m map[string]any) { delete(m, "model_type") }, ErrFormat, "no model_type"},
		{"yarn", "llama", func(m map[string]any) { m["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4.0} }, ErrUnsupported, "yarn"},
		{"llama3 extra field", "llama", func(m map[string]any) { m["rope_scaling"].(map[string]any)["mscale"] = 1.0 }, ErrUnsupported, "mscale"},
		{"bert gelu_new", "bert", func(m map[string]any) { m["hidden_act"] = "gelu_new" }, ErrUnsupported, "hidden_act"},
		{"bert relative positions", "bert", func(m map[string]any) { m["position_embedding_type"] = "relative_key" }, ErrUnsupported, "position_embedding_type"},
		{"llama gelu", "llama", func(m map[string]any) { m["hidden_act"] = "gelu" }, ErrUnsupported, "hidden_act"},
		{"qwen2 sliding window", "qwen2", func(m map[string]any) { m["use_sliding_window"] = true }, ErrUnsupported, "use_sliding_window"},
		{"gpt2 layer-idx scaling", "gpt2", func(m map[string]any) { m["scale_attn_by_inverse_layer_idx"] = true }, ErrUnsupported, "scale_attn_by_inverse_layer_idx"},
		{"quantized", "llama", func(m map[string]any) { m["quantization_config"] = map[string]any{"bits": 4} }, ErrUnsupported, "quantization_config"},
		{"partial rotary", "llama", func(m map[string]any) { m["partial_rotary_factor"] = 0.5 }, ErrUnsupported, "partial_rotary_factor"},
		{"string width", "llama", func(m map[string]any) { m["hidden_size"] = "32" }, ErrFormat, "hidden_size"},
		{"fractional layers", "llama", func(m map[string]any) { m["num_hidden_layers"] = 1.5 }, ErrFormat, "num_hidden_layers"},
		{"negative heads", "bert", func(m map[string]any) { m["num_attention_heads"] = -4 }, ErrFormat, "num_attention_heads"},
		{"missing width", "llama", func(m map[string]any) { delete(m, "hidden_size") }, ErrFormat, "hidden_size"},
		{"heads do not divide", "gpt2", func(m map[string]any) { m["n_head"] = 5 }, ErrFormat, "heads"},
		{"kv heads do not divide", "llama", func(m map[string]any) { m["num_key_value_heads"] = 3 }, ErrFormat, "key/value heads"},
		{"wider than the weights", "llama", func(m map[string]any) { m["intermediate_size"] = 65 }, ErrFormat, "shape"},
		{"eps zero", "gpt2", func(m map[string]any) { m["layer_norm_epsilon"] = 0 }, ErrFormat, "layer_norm_epsilon"},
		{"eos list of strings", "llama", func(m map[string]any) { m["eos_token_id"] = []any{"a"} }, ErrFormat, "eos_token_id"},
		{"mistral window unsupported in qwen2 style", "qwen2", func(m map[string]any) { m["use_sliding_window"] = "yes" }, ErrFormat, "use_sliding_window"},
		{"huge claims", "llama", func(m map[string]any) {
			m["hidden_size"], m["intermediate_size"], m["vocab_size"] = 1<<24, 1<<24, 1<<24
		}, ErrFormat, "implies at least"},
		{"huge positions", "gpt2", func(m map[string]any) { m["n_positions"] = 1 << 24 }, ErrFormat, "implies at least"},
		{"huge vocab", "llama", func(m map[string]any) { m["vocab_size"] = 1e18 }, ErrFormat, "vocab_size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, testdata(c.model))
			editConfig(t, dir, c.edit)
			_, err := Load[float32](dir)
			require.Error(t, err)
			require.ErrorIs(t, err, c.kind)
			require.Contains(t, err.Error(), c.msg)
		})
	}
}

func TestLoadFolderErrors(t *testing.T) {
	// Not a model folder.
	_, err := Load[float32](t.TempDir())
	require.ErrorIs(t, err, ErrFormat)
	require.Contains(t, err.Error(), "no config.json")
	_, err = Load[float32](filepath.Join(t.TempDir(), "absent"))
	require.ErrorIs(t, err, ErrFormat)
	_, err = Load[float32](testdata("bert/config.json"))
	require.ErrorIs(t, err, ErrFormat)

	// config.json that is not JSON, or not an object.
	for _, body := range []string{"", "{", "[1]", "null", `{"model_type": "bert"} x`, strings.Repeat("[", 100000)} {
		dir := copyDir(t, testdata("bert"))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o644))
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat, "%.20q", body)
	}

	// No weights.
	dir := copyDir(t, testdata("gpt2"))
	require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors")))
	_, err = Load[float32](dir)
	require.ErrorIs(t, err, ErrFormat)
	require.Contains(t, err.Error(), "neither model.safetensors")

	// Truncated weights, at every few bytes of the header and the data.
	src, err := os.ReadFile(testdata("qwen2/model.safetensors"))
	require.NoError(t, err)
	for _, n := range []int{0, 7, 8, 100, 1000, len(src) / 2, len(src) - 1} {
		dir := copyDir(t, testdata("qwen2"))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "model.safetensors"), src[:n], 0o644))
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat, "truncated to %d", n)
	}
}

// writeWeights replaces dir's weights by w in one model.safetensors.
func writeWeights(t *testing.T, dir string, w map[string]*tensor.Dense[float32]) {
	t.Helper()
	for _, f := range []string{"model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"} {
		os.Remove(filepath.Join(dir, f))
	}
	require.NoError(t, tensor.SaveSafetensors(filepath.Join(dir, "model.safetensors"), w))
}

func TestLoadTensorErrors(t *testing.T) {
	base, err := readWeights[float32](testdata("llama"), nil)
	require.NoError(t, err)
	clone := func() map[string]*tensor.Dense[float32] {
		w := map[string]*tensor.Dense[float32]{}
		for k, v := range base {
			w[k] = v
		}
		return w
	}
	t.Run("missing", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		w := clone()
		delete(w, "model.layers.1.mlp.up_proj.weight")
		writeWeights(t, dir, w)
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
		require.Contains(t, err.Error(), "model.layers.1.mlp.up_proj.weight")
	})
	t.Run("unexpected", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		w := clone()
		w["model.layers.2.mlp.up_proj.weight"] = tensor.New[float32](2)
		writeWeights(t, dir, w)
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
		require.Contains(t, err.Error(), "model.layers.2.mlp.up_proj.weight")
	})
	t.Run("transposed", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		w := clone()
		w["model.layers.0.mlp.up_proj.weight"] = tensor.New[float32](32, 64)
		writeWeights(t, dir, w)
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
		require.Contains(t, err.Error(), "shape")
	})
	t.Run("NaN", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		w := clone()
		bad := w["model.norm.weight"].Clone()
		bad.Data()[3] = float32(nan())
		w["model.norm.weight"] = bad
		writeWeights(t, dir, w)
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
		require.Contains(t, err.Error(), "NaN")
	})
}

func nan() float64 { z := 0.0; return z / z }

// TestShards: the index and its shards must agree.
func TestShards(t *testing.T) {
	editIndex := func(t *testing.T, dir string, f func(map[string]string)) {
		p := filepath.Join(dir, "model.safetensors.index.json")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var idx struct {
			Metadata  map[string]any    `json:"metadata"`
			WeightMap map[string]string `json:"weight_map"`
		}
		require.NoError(t, json.Unmarshal(b, &idx))
		f(idx.WeightMap)
		b, _ = json.Marshal(idx)
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	shard1 := "model-00001-of-00002.safetensors"
	shard2 := "model-00002-of-00002.safetensors"
	t.Run("duplicate", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		w1, err := tensor.LoadSafetensors[float32](filepath.Join(dir, shard1))
		require.NoError(t, err)
		w2, err := tensor.LoadSafetensors[float32](filepath.Join(dir, shard2))
		require.NoError(t, err)
		var name string
		for k, v := range w1 {
			name = k
			w2[k] = v
			break
		}
		require.NoError(t, tensor.SaveSafetensors(filepath.Join(dir, shard2), w2))
		_, err = Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
		require.Contains(t, err.Error(), name)
	})
	t.Run("missing from shard", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		editIndex(t, dir, func(m map[string]string) { m["model.extra.weight"] = shard1 })
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
		require.Contains(t, err.Error(), "model.extra.weight")
	})
	t.Run("wrong shard", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		editIndex(t, dir, func(m map[string]string) {
			for k, v := range m {
				if v == shard1 {
					m[k] = shard2
					return
				}
			}
		})
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
	})
	t.Run("path outside the folder", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		editIndex(t, dir, func(m map[string]string) { m["model.norm.weight"] = "../" + shard1 })
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
		require.Contains(t, err.Error(), "not a file name")
	})
	t.Run("missing shard file", func(t *testing.T) {
		dir := copyDir(t, testdata("llama"))
		require.NoError(t, os.Remove(filepath.Join(dir, shard2)))
		_, err := Load[float32](dir)
		require.ErrorIs(t, err, ErrFormat)
	})
}

func TestLoadDetails(t *testing.T) {
	// GPT-2's hub names (no transformer. prefix) and its attn.bias
	// buffers; F16 weights; generation_config.json.
	m, err := Load[float32](testdata("gpt2"))
	require.NoError(t, err)
	require.Equal(t, FamilyGPT2, m.Config.Family)
	require.Equal(t, []int{79}, m.Generation.EosTokenID)
	// Llama: eos list, llama3 rope scaling, untied head, shards.
	m, err = Load[float32](testdata("llama"))
	require.NoError(t, err)
	require.Equal(t, []int{2, 3}, m.Config.EosTokenID)
	require.Equal(t, "llama3", m.Config.RopeScaling.Type)
	require.NotNil(t, m.LM.(*LlamaForCausalLM[float32]).LMHead)
	require.InDelta(t, 0.6, m.Generation.Temperature, 1e-12)
	// The module tree's state dict has the checkpoint's names exactly.
	idx, err := os.ReadFile(testdata("llama/model.safetensors.index.json"))
	require.NoError(t, err)
	var ix struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	require.NoError(t, json.Unmarshal(idx, &ix))
	sd := nn.StateDict[float32](m.LM)
	require.Len(t, sd, len(ix.WeightMap))
	for k := range ix.WeightMap {
		require.Contains(t, sd, k)
	}
	// Mistral: a sliding window caps the context (within it, the window
	// changes nothing).
	dir := copyDir(t, testdata("llama"))
	editConfig(t, dir, func(c map[string]any) {
		c["model_type"], c["sliding_window"] = "mistral", 16
		delete(c, "attention_bias")
		delete(c, "mlp_bias")
	})
	ms, err := Load[float32](dir)
	require.NoError(t, err)
	require.Equal(t, 16, ms.Config.MaxPositions)
	// Qwen2: q/k/v bias, tied head, BF16 weights.
	m, err = Load[float32](testdata("qwen2"))
	require.NoError(t, err)
	q := m.LM.(*LlamaForCausalLM[float32])
	require.Nil(t, q.LMHead)
	require.NotNil(t, q.Layers[0].QProj.Bias)
	require.Nil(t, q.Layers[0].OProj.Bias)
	// BERT with its I64 position_ids buffer, in float64.
	b, err := Load[float64](testdata("bert"))
	require.NoError(t, err)
	require.NotNil(t, b.Bert.Pooler)
	// An integer tensor under another name is an error naming it.
	dir = copyDir(t, testdata("bert"))
	raw, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	raw2 := []byte(strings.Replace(string(raw), "embeddings.position_ids", "embeddings.position_idz", 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.safetensors"), raw2, 0o644))
	_, err = Load[float32](dir)
	require.ErrorIs(t, err, ErrFormat)
	require.Contains(t, err.Error(), "embeddings.position_idz")
}
