package onnx

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
)

// CNNs run without allocating once warm, at one thread and at two with
// every convolution and pooling loop made parallel (the small fixtures'
// layers are below the cut-offs otherwise). With ADJOINT_ONNX_MODELS set
// the anchor ResNet-18 and MobileNetV2 are checked too, as they run.
// allocModel is a model for requireZeroAllocs: a name (the tiny fixtures'
// start with "tiny") and how to load it with its inputs.
type allocModel struct {
	name string
	load func(t *testing.T) (*Model, map[string]*Tensor)
}

func TestCNNZeroAllocs(t *testing.T) {
	var models []allocModel
	for _, name := range []string{"tiny_cnn_op17", "tiny_dwconv_op17"} {
		models = append(models, allocModel{name, func(t *testing.T) (*Model, map[string]*Tensor) { return loadModelCase(t, name) }})
	}
	if dir := os.Getenv("ADJOINT_ONNX_MODELS"); dir != "" && !testing.Short() {
		for _, name := range []string{"resnet18", "mobilenet_v2"} {
			models = append(models, allocModel{name, func(t *testing.T) (*Model, map[string]*Tensor) {
				path := filepath.Join(dir, name+".onnx")
				if _, err := os.Stat(path); err != nil {
					t.Skipf("%s not present", path)
				}
				m, err := Load(path)
				require.NoError(t, err)
				x, err := readNpyTensor(filepath.Join(dir, name+".in.x.npy"))
				require.NoError(t, err)
				return m, map[string]*Tensor{"x": x}
			}})
		}
	}
	requireZeroAllocs(t, models)
}

// A 1-D convolution (run as a 2-D one of height 1) allocates nothing once
// warm, on the GEMM path and the depthwise one.
func TestConv1DZeroAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, group := range []int{1, 4} {
		x, w, b := randTensor(r, 1, 4, 50), randTensor(r, 8, 4/group, 3), randTensor(r, 8)
		n := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
			Attrs: []*Attribute{intAttr("group", int64(group)), intsAttr("pads", 1, 1)}}
		k, err := newConv(n)
		require.NoError(t, err)
		y := &Tensor{}
		in, out := []*Tensor{x, w, b}, []*Tensor{y}
		require.NoError(t, k.Run(in, out))
		allocs := testing.AllocsPerRun(5, func() {
			if err := k.Run(in, out); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, "group %d", group)
	}
}

// requireZeroAllocs runs each model at 1 and 2 threads (the tiny ones with
// the parallel cut-offs forced) and fails if a steady RunInto allocates.
func requireZeroAllocs(t *testing.T, models []allocModel) {
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
