package nn

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/internal/testenv"
	"github.com/adjoint-go/adjoint/tensor"
)

// The fixtures in testdata/torch are PyTorch's: state dicts, inputs and
// outputs written by bench/torch_statedict.py gen (Debian's python3-torch).

// embLN is a user's module: an Embedding then a LayerNorm over token ids,
// PyTorch's EmbLN in bench/torch_statedict.py.
type embLN[T tensor.Float] struct {
	Emb *Embedding[T]
	LN  *LayerNorm[T]
}

func (e *embLN[T]) Members(m *Members[T]) {
	m.Module("emb", e.Emb)
	m.Module("ln", e.LN)
}

func (e *embLN[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return e.LN.Forward(tp, e.Emb.Forward(tp, x))
}

// torchModel builds the Go twin of the fixture's PyTorch model, seeded so
// its own weights differ from PyTorch's.
func torchModel[T tensor.Float](name string, seed uint64) Layer[T] {
	rng := rand.New(rand.NewPCG(seed, 7))
	switch name {
	case "mlp", "mlp_f64":
		return NewMLP[T](rng, []int{5, 4, 4, 3}, Tanh)
	case "cnn", "cnn_f64":
		return NewSequential[T](
			NewConv2d[T](rng, Conv2dConfig{In: 2, Out: 4, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}),
			NewBatchNorm2d[T](4), Act[T]{ReLU},
			NewConv2d[T](rng, Conv2dConfig{In: 4, Out: 6, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Groups: 2}),
			Flatten[T]{}, NewLinear[T](rng, 24, 3, KaimingUniform))
	case "embln":
		return &embLN[T]{NewEmbedding[T](rng, 10, 6, 1), NewLayerNorm[T](6, true)}
	case "gpt":
		return NewGPT[T](rng, GPTConfig{VocabSize: 16, BlockSize: 8, Layers: 2, Heads: 2, Embd: 8, Hidden: 32})
	}
	panic(name)
}

func torchTol(name string) float64 {
	if filepath.Ext(name) == "" && len(name) > 4 && name[len(name)-4:] == "_f64" {
		return 1e-12
	}
	return 1e-5
}

// maxDiff is max |a − b| over the elements (the shapes may differ:
// GPT's logits are [B·T, V] where PyTorch's are [B, T, V]).
func maxDiff[T tensor.Float](t *testing.T, a, b *tensor.Dense[T]) float64 {
	require.Equal(t, a.Size(), b.Size())
	ad, bd := a.Contiguous().Data(), b.Contiguous().Data()
	d := 0.0
	for i := range ad {
		d = math.Max(d, math.Abs(float64(ad[i])-float64(bd[i])))
	}
	return d
}

// TestTorchStateDicts: PyTorch's state dicts (safetensors as save_file
// writes them, and numpy's .npz) load strictly into the same architecture
// here, BatchNorm's I64 num_batches_tracked included, and give PyTorch's
// outputs.
func TestTorchStateDicts(t *testing.T) {
	for _, name := range []string{"mlp", "cnn", "embln", "gpt"} {
		t.Run(name, func(t *testing.T) { torchLoad[float32](t, name) })
	}
	for _, name := range []string{"mlp_f64", "cnn_f64"} {
		t.Run(name, func(t *testing.T) { torchLoad[float64](t, name) })
	}
}

func torchLoad[T tensor.Float](t *testing.T, name string) {
	dir := filepath.Join("testdata", "torch")
	io, err := tensor.LoadNPZ[T](filepath.Join(dir, name+"_io.npz"))
	require.NoError(t, err)
	for _, ext := range []string{".safetensors", ".npz"} {
		m := torchModel[T](name, 1)
		rep, err := Load(filepath.Join(dir, name+ext), m, true)
		require.NoError(t, err, ext)
		require.Empty(t, rep.Missing)
		require.Empty(t, rep.Unexpected)
		Train(m, false)
		tp := autograd.NewTape[T]()
		tp.NoGrad(true)
		y := m.Forward(tp, tp.Const(io["x"])).Value()
		d := maxDiff(t, y, io["y"])
		t.Logf("%s%s: max |ours - torch| = %.3g", name, ext, d)
		require.LessOrEqual(t, d, torchTol(name), ext)
		if bn, ok := m.(*Sequential[T]); ok && name[:3] == "cnn" {
			require.Equal(t, T(3), bn.Layers[1].(*BatchNorm2d[T]).NumBatchesTracked.Data()[0], "num_batches_tracked, I64 in the file")
		}
	}
}

// TestTorchLoadsOurs: the other direction. A model of ours (its own seeded
// weights) saved by Save loads into PyTorch with a strict
// load_state_dict, and PyTorch computes our outputs from it. Runs only
// where /usr/bin/python3 has torch (Debian's python3-torch).
func TestTorchLoadsOurs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starting torch takes several seconds")
	}
	py := torchPython(t)
	dir := t.TempDir()
	var args []string
	for _, name := range []string{"mlp", "cnn", "embln", "gpt"} {
		args = append(args, torchSave[float32](t, filepath.Join(dir, name), name)...)
	}
	for _, name := range []string{"mlp_f64", "cnn_f64"} {
		args = append(args, torchSave[float64](t, filepath.Join(dir, name), name)...)
	}
	out, err := exec.Command(py, append([]string{filepath.Join("..", "bench", "torch_statedict.py"), "check"}, args...)...).CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err, "%s", out)
}

// torchSave writes, under prefix, a seeded model of ours (Save, both
// formats) and its output on the fixture's input, and returns the check
// arguments for them.
func torchSave[T tensor.Float](t *testing.T, prefix, name string) []string {
	in, err := tensor.LoadNPZ[T](filepath.Join("testdata", "torch", name+"_io.npz"))
	require.NoError(t, err)
	m := torchModel[T](name, 2)
	tp := autograd.NewTape[T]()
	if name[:3] == "cnn" { // move the running statistics first
		for range 2 {
			tp.Reset()
			m.Forward(tp, tp.Const(tensor.RandNormal[T](rand.New(rand.NewPCG(3, 3)), 0.5, 2, 4, 2, 6, 6)))
		}
	}
	Train(m, false)
	tp.Reset()
	y := m.Forward(tp, tp.Const(in["x"])).Value()
	io := prefix + "_io.npz"
	require.NoError(t, tensor.SaveNPZ(io, map[string]*tensor.Dense[T]{"x": in["x"], "y": y}))
	var args []string
	for _, ext := range []string{".safetensors", ".npz"} {
		state := prefix + ext
		require.NoError(t, Save(state, m))
		args = append(args, name, state, io)
	}
	return args
}

// torchPython returns /usr/bin/python3 if it imports torch, else skips.
func torchPython(t *testing.T) string {
	testenv.MustHaveExec(t)
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("PyTorch cross-check skipped: no /usr/bin/python3 (install python3-torch)")
	}
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		t.Skipf("PyTorch cross-check skipped: %s cannot import torch (install python3-torch): %v", py, err)
	}
	return py
}
