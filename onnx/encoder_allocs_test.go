package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
)

// Transformer encoders run without allocating once warm, at one thread and
// at two with the row loops (LayerNorm, Softmax, the reductions) made
// parallel (the tiny fixture's rows are below the cut-offs otherwise).
// With ADJOINT_ONNX_MODELS set the anchor MiniLM-shaped encoder is checked
// too, as it runs.
func TestEncoderZeroAllocs(t *testing.T) {
	type model struct {
		name string
		load func(t *testing.T) (*Model, map[string]*Tensor)
	}
	models := []model{{"tiny_transformer_op17", func(t *testing.T) (*Model, map[string]*Tensor) {
		return loadModelCase(t, "tiny_transformer_op17")
	}}}
	if dir := os.Getenv("ADJOINT_ONNX_MODELS"); dir != "" && !testing.Short() {
		models = append(models, model{"minilm_l6", func(t *testing.T) (*Model, map[string]*Tensor) {
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
	for _, mc := range models {
		for _, th := range []int{1, 2} {
			t.Run(fmt.Sprintf("model=%s/threads=%d", mc.name, th), func(t *testing.T) {
				m, in := mc.load(t)
				prev := parallel.SetThreads(th)
				defer parallel.SetThreads(prev)
				if th > 1 && mc.name[:4] == "tiny" {
					forceParallel = true
					defer func() { forceParallel = false }()
				}
				s := NewSession(m)
				out, err := s.Run(in)
				require.NoError(t, err)
				for range 2 {
					require.NoError(t, s.RunInto(in, out))
				}
				allocs := testing.AllocsPerRun(3, func() {
					if err := s.RunInto(in, out); err != nil {
						t.Fatal(err)
					}
				})
				require.Zero(t, allocs, "allocations per run")
			})
		}
	}
}
