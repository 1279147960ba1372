package nn

import (
	"encoding/binary"
	"encoding/json"
	"flag"
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
// weights) saved by Save loads into PyTorch with a strict load_state_dict,
// and PyTorch computes our outputs from it. PyTorch did that once, by
// bench/torch_statedict.py record, and testdata/torch/ours.json holds what
// it saw: its model's names, dtypes and shapes, a fingerprint (sum) of each
// tensor it loaded from our files, and its outputs. This test saves the same
// models again and checks the files and our outputs against that record, so
// it needs no Python; TestTorchLoadsOursLive repeats the load in PyTorch
// where /usr/bin/python3 has torch. Re-record after a change to the models'
// seeded weights:
//
//	go test ./nn -run '^TestTorchLoadsOurs$' -torch.record=/tmp/ours
//	/usr/bin/python3 bench/torch_statedict.py record /tmp/ours nn/testdata/torch/ours.json
func TestTorchLoadsOurs(t *testing.T) {
	if dir := *torchRecordDir; dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for _, name := range torchF32Models {
			torchSave[float32](t, filepath.Join(dir, name), name)
		}
		for _, name := range torchF64Models {
			torchSave[float64](t, filepath.Join(dir, name), name)
		}
		t.Skipf("wrote our models to %s; now run bench/torch_statedict.py record", dir)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "torch", "ours.json"))
	require.NoError(t, err)
	var rec struct {
		Torch  string
		Models map[string]torchOursRecord
	}
	require.NoError(t, json.Unmarshal(b, &rec))
	t.Logf("recorded with PyTorch %s", rec.Torch)
	require.Len(t, rec.Models, len(torchF32Models)+len(torchF64Models))
	for _, name := range torchF32Models {
		t.Run(name, func(t *testing.T) { torchOurs[float32](t, name, rec.Models[name]) })
	}
	for _, name := range torchF64Models {
		t.Run(name, func(t *testing.T) { torchOurs[float64](t, name, rec.Models[name]) })
	}
}

var (
	torchRecordDir = flag.String("torch.record", "",
		"write TestTorchLoadsOurs's models (Save, both formats) and inputs into this `dir`, for bench/torch_statedict.py record, and skip the test")
	torchF32Models = []string{"mlp", "cnn", "embln", "gpt"}
	torchF64Models = []string{"mlp_f64", "cnn_f64"}
)

// torchOursRecord is what PyTorch saw of one model of ours.
type torchOursRecord struct {
	Keys map[string]torchKey // its own state dict's entries
	Sums map[string]float64  // float64 sum of each tensor loaded from our file
	Y    []float64           // its output from our weights, flattened
}

// torchKey is a state-dict entry as PyTorch has it: a safetensors dtype
// and a shape, recorded as the JSON array [dtype, shape].
type torchKey struct {
	DType string
	Shape []int
}

func (k *torchKey) UnmarshalJSON(b []byte) error {
	var raw [2]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[0], &k.DType); err != nil {
		return err
	}
	k.Shape = []int{}
	return json.Unmarshal(raw[1], &k.Shape)
}

func torchOurs[T tensor.Float](t *testing.T, name string, want torchOursRecord) {
	require.NotEmpty(t, want.Keys, "no record for %s", name)
	prefix := filepath.Join(t.TempDir(), name)
	torchSave[T](t, prefix, name)

	// Names, dtypes and shapes: what a strict load_state_dict needs.
	b, err := os.ReadFile(prefix + ".safetensors")
	require.NoError(t, err)
	require.Greater(t, len(b), 8)
	n := binary.LittleEndian.Uint64(b)
	require.LessOrEqual(t, n, uint64(len(b)-8))
	var header map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b[8:8+n], &header))
	delete(header, "__metadata__")
	got := map[string]torchKey{}
	for k, raw := range header {
		var e struct {
			DType string
			Shape []int
		}
		require.NoError(t, json.Unmarshal(raw, &e), k)
		if e.Shape == nil {
			e.Shape = []int{}
		}
		got[k] = torchKey{e.DType, e.Shape}
	}
	// Every dtype is PyTorch's own: the float ones, and BatchNorm's
	// integer num_batches_tracked (I64).
	require.Len(t, got, len(want.Keys), "safetensors entries")
	for k, e := range want.Keys {
		require.Contains(t, got, k, "safetensors")
		require.Equal(t, e.Shape, got[k].Shape, "safetensors %s shape", k)
		require.Equal(t, e.DType, got[k].DType, "safetensors %s dtype", k)
	}
	z, err := tensor.LoadNPZ[T](prefix + ".npz")
	require.NoError(t, err)
	require.Len(t, z, len(want.Keys), ".npz entries")
	for k, e := range want.Keys {
		require.Contains(t, z, k, ".npz")
		require.Equal(t, e.Shape, append([]int{}, z[k].Shape()...), ".npz %s", k)
	}

	// The same weights as recorded: otherwise the outputs cannot match.
	st, err := tensor.LoadSafetensors[T](prefix + ".safetensors")
	require.NoError(t, err)
	for k, sum := range want.Sums {
		var s, abs float64
		for _, v := range st[k].Contiguous().Data() {
			s += float64(v)
			abs += math.Abs(float64(v))
		}
		require.InDelta(t, sum, s, 1e-5*abs, // loose: a diagnostic, y below is the check
			"%s: the seeded weights differ from those recorded; if the model's initialisation changed on purpose, re-record (see TestTorchLoadsOurs)", k)
	}

	io, err := tensor.LoadNPZ[T](prefix + "_io.npz")
	require.NoError(t, err)
	y := io["y"]
	require.Equal(t, len(want.Y), y.Size())
	d := maxDiff(t, y, tensor.FromSlice(tensorOf[T](want.Y), y.Size()))
	t.Logf("%s: max |ours - torch| = %.3g", name, d)
	require.LessOrEqual(t, d, torchTol(name))
}

func tensorOf[T tensor.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// TestTorchLoadsOursLive runs the check of TestTorchLoadsOurs in PyTorch
// now: our files, just saved, load strictly and give our outputs. Runs only
// where /usr/bin/python3 has torch (Debian's python3-torch).
func TestTorchLoadsOursLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starting torch takes several seconds")
	}
	py := torchPython(t)
	dir := t.TempDir()
	var args []string
	for _, name := range torchF32Models {
		args = append(args, torchSave[float32](t, filepath.Join(dir, name), name)...)
	}
	for _, name := range torchF64Models {
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
