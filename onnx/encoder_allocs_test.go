package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Transformer encoders run without allocating once warm, at one thread and
// at two with the row loops (LayerNorm, Softmax, the reductions) made
// parallel (the tiny fixture's rows are below the cut-offs otherwise).
// With ADJOINT_ONNX_MODELS set the anchor MiniLM-shaped encoder is checked
// too, as it runs.
func TestEncoderZeroAllocs(t *testing.T) {
	models := []allocModel{{"tiny_transformer_op17", func(t *testing.T) (*Model, map[string]*Tensor) {
		return loadModelCase(t, "tiny_transformer_op17")
	}}}
	if dir := os.Getenv("ADJOINT_ONNX_MODELS"); dir != "" && !testing.Short() {
		models = append(models, allocModel{"minilm_l6", func(t *testing.T) (*Model, map[string]*Tensor) {
			path := filepath.Join(dir, "minilm_l6.onnx")
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s not present", path)
			}
			m, err := Load(path)
			require.NoError(t, err)
			in := map[string]*Tensor{}
			for _, v := range m.Graph.Inputs {
				x, err := readNpyTensor(filepath.Join(dir, "minilm_l6.in."+npySafe.ReplaceAllString(v.Name, "_")+".npy"))
				require.NoError(t, err)
				in[v.Name] = x
			}
			return m, in
		}})
	}
	requireZeroAllocs(t, models)
}
