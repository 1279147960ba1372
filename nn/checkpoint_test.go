package nn

import (
	"encoding/json"
	"github.com/adjoint-go/adjoint/internal/testenv"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.npz")
	a := NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{6, 5, 4}, Tanh)
	linearAt(a, 0).Bias.Value().Data()[2] = 0.25
	require.NoError(t, Save(path, a))

	b := NewMLP[float32](rand.New(rand.NewPCG(2, 2)), []int{6, 5, 4}, Tanh)
	wB := linearAt(b, 2).Weight // Load must write in place, keeping the Vars
	require.NotEqual(t, linearAt(a, 2).Weight.Value().Data(), linearAt(b, 2).Weight.Value().Data())
	_, err := Load(path, b, true)
	require.NoError(t, err)
	for i, p := range NamedParameters(a) {
		assert.Equal(t, p.Var.Value().Data(), NamedParameters(b)[i].Var.Value().Data(), p.Name)
	}
	assert.Same(t, wB, linearAt(b, 2).Weight)
}

func TestLoadMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.npz")
	require.NoError(t, Save(path, NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{6, 5, 4}, ReLU)))
	cases := map[string][]int{
		"wrong shape":  {6, 7, 4},
		"extra layer":  {6, 5, 4, 3},
		"fewer layers": {6, 4},
	}
	for name, sizes := range cases {
		t.Run(name, func(t *testing.T) {
			m := NewMLP[float32](rand.New(rand.NewPCG(3, 3)), sizes, ReLU)
			before := append([]float32(nil), linearAt(m, 0).Weight.Value().Data()...)
			_, err := Load(path, m, true)
			require.ErrorIs(t, err, ErrCheckpoint)
			assert.Contains(t, err.Error(), path)
			assert.Equal(t, before, linearAt(m, 0).Weight.Value().Data(), "a failed Load must change nothing")
		})
	}
	t.Run("missing file", func(t *testing.T) {
		m := NewMLP[float32](rand.New(rand.NewPCG(3, 3)), []int{6, 5, 4}, ReLU)
		_, err := Load(filepath.Join(dir, "nope.npz"), m, true)
		assert.Error(t, err)
	})
}

// numpyDump is what the Python side reports about an archive.
type numpyDump map[string]struct {
	Dtype string    `json:"dtype"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func python(t *testing.T) string {
	testenv.MustHaveExec(t)
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Skip("numpy cross-check skipped: python3 not found (install python3-numpy)")
		}
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("numpy cross-check skipped: %s cannot import numpy (install python3-numpy): %v", py, err)
	}
	return py
}

const dumpScript = `
import json, sys, numpy as np
with np.load(sys.argv[1]) as z:
    json.dump({k: {"dtype": str(z[k].dtype), "shape": list(z[k].shape),
                   "data": [float(v) for v in z[k].ravel()]} for k in z.files}, sys.stdout)
`

// TestNumpyReadsSave checks that numpy.load gives exactly the saved arrays
// (names, shapes, dtype, every value) for float32 and float64 models.
func TestNumpyReadsSave(t *testing.T) {
	py := python(t)
	check := func(t *testing.T, path, dtype string, params map[string][]int, values map[string][]float64) {
		out, err := exec.Command(py, "-c", dumpScript, path).Output()
		require.NoError(t, err)
		var d numpyDump
		require.NoError(t, json.Unmarshal(out, &d))
		require.Len(t, d, len(params))
		for name, shape := range params {
			a, ok := d[name]
			require.True(t, ok, "numpy has no array %q", name)
			assert.Equal(t, dtype, a.Dtype, name)
			assert.Equal(t, shape, a.Shape, name)
			assert.Equal(t, values[name], a.Data, name)
		}
	}
	t.Run("float32", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m32.npz")
		m := NewMLP[float32](rand.New(rand.NewPCG(4, 4)), []int{5, 3, 2}, ReLU)
		linearAt(m, 2).Bias.Value().Data()[1] = -1.5
		require.NoError(t, Save(path, m))
		shapes, values := map[string][]int{}, map[string][]float64{}
		for _, p := range NamedParameters(m) {
			shapes[p.Name] = p.Var.Value().Shape()
			for _, v := range p.Var.Value().Data() {
				values[p.Name] = append(values[p.Name], float64(v))
			}
		}
		check(t, path, "float32", shapes, values)
	})
	t.Run("float64", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m64.npz")
		m := NewMLP[float64](rand.New(rand.NewPCG(4, 5)), []int{3, 4, 1}, Sigmoid)
		require.NoError(t, Save(path, m))
		shapes, values := map[string][]int{}, map[string][]float64{}
		for _, p := range NamedParameters(m) {
			shapes[p.Name] = p.Var.Value().Shape()
			values[p.Name] = append([]float64(nil), p.Var.Value().Data()...)
		}
		check(t, path, "float64", shapes, values)
	})
}

// TestLoadReadsNumpy checks the other direction: an archive written by
// numpy.savez (the layout a PyTorch user would export) loads into a model.
func TestLoadReadsNumpy(t *testing.T) {
	py := python(t)
	path := filepath.Join(t.TempDir(), "np.npz")
	script := `
import json, sys, numpy as np
a = {"0.weight": (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.37 - 2).astype(np.float32),
     "0.bias": np.array([0.5, -0.25, 3], dtype=np.float32),
     "2.weight": (np.arange(6, dtype=np.float32).reshape(2, 3) / 7).astype(np.float32),
     "2.bias": np.array([1e-3, -7], dtype=np.float32)}
np.savez(sys.argv[1], **a)
json.dump({k: [float(x) for x in v.ravel()] for k, v in a.items()}, sys.stdout)
`
	out, err := exec.Command(py, "-c", script, path).Output()
	require.NoError(t, err)
	var want map[string][]float64
	require.NoError(t, json.Unmarshal(out, &want))

	m := NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{4, 3, 2}, ReLU)
	_, err = Load(path, m, true)
	require.NoError(t, err)
	for _, p := range NamedParameters(m) {
		var got []float64
		for _, v := range p.Var.Value().Data() {
			got = append(got, float64(v))
		}
		assert.Equal(t, want[p.Name], got, p.Name)
	}
}

// linearAt returns the i-th layer of s as a Linear.
func linearAt[T float32 | float64](s *Sequential[T], i int) *Linear[T] {
	return s.Layers[i].(*Linear[T])
}

// TestLoadStateDictChecks: a transposed weight is refused with a hint
// naming the file's key; NaN or Inf parameters and a negative running
// variance are errors at load (issue 23 item 8); nothing changes.
func TestLoadStateDictChecks(t *testing.T) {
	m := NewSequential[float32](NewLinear[float32](rand.New(rand.NewPCG(1, 1)), 3, 2, KaimingUniform), NewBatchNorm2d[float32](2))
	good := func() State[float32] {
		sd := State[float32]{}
		for k, v := range StateDict[float32](m) {
			sd[k] = v.Clone()
		}
		return sd
	}
	before := append([]float32(nil), linearAt(m, 0).Weight.Value().Data()...)
	for _, tc := range []struct {
		name string
		edit func(State[float32])
		msg  string
	}{
		{"transposed", func(sd State[float32]) { sd["0.weight"] = sd["0.weight"].T().Clone() }, `"0.weight" has shape [3 2], the model needs [2 3] (its transpose`},
		{"NaN", func(sd State[float32]) { sd["0.bias"].Data()[1] = float32(math.NaN()) }, `"0.bias" holds NaN at flat index 1`},
		{"Inf buffer", func(sd State[float32]) { sd["1.running_mean"].Data()[0] = float32(math.Inf(-1)) }, `"1.running_mean" holds -Inf`},
		{"negative variance", func(sd State[float32]) { sd["1.running_var"].Data()[1] = -0.5 }, `"1.running_var" holds -0.5 at 1`},
		{"fractional count", func(sd State[float32]) { sd["1.num_batches_tracked"].Data()[0] = 1.5 }, `"1.num_batches_tracked" is 1.5`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd := good()
			sd["0.weight"].Data()[0] = 42
			tc.edit(sd)
			for _, strict := range []bool{true, false} {
				_, err := LoadStateDict[float32](m, sd, strict)
				require.ErrorIs(t, err, ErrCheckpoint)
				assert.Contains(t, err.Error(), tc.msg)
				assert.Equal(t, before, linearAt(m, 0).Weight.Value().Data(), "nothing changed")
			}
		})
	}
	_, err := LoadStateDict[float32](m, good(), true)
	require.NoError(t, err)
}
