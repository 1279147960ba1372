package tensor

import (
	"encoding/json"
	"github.com/adjoint-go/adjoint/internal/testenv"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// numpyPython returns a Python interpreter that can import numpy, or "".
// Debian's python3-numpy belongs to /usr/bin/python3, which may not be the
// python3 first on PATH, so that one is tried first.
func numpyPython() string {
	cands := []string{"/usr/bin/python3"}
	if p, err := osexec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	for _, p := range cands {
		if osexec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	return ""
}

// numpyScript: argv[1] is a directory. It loads every go_*.npy / go*.npz
// there with numpy and records dtype, shape, C-order flags and values in
// go.json; then it saves its own arrays (big-endian, Fortran order, scalar,
// empty, savez and savez_compressed) and records what it saved, computed
// from the arrays in memory, in py.json. Values are float.hex strings, so
// the comparison is exact.
const numpyScript = `
import glob, json, os, sys
import numpy as np
d = sys.argv[1]

def desc(a):
    return {"dtype": a.dtype.str, "shape": list(a.shape),
            "values": [float(v).hex() for v in np.asarray(a).ravel(order="C")]}

out = {}
for p in sorted(glob.glob(os.path.join(d, "go_*.npy"))):
    a = np.load(p, allow_pickle=False)
    out[os.path.basename(p)] = desc(a)
for p in sorted(glob.glob(os.path.join(d, "go*.npz"))):
    with np.load(p, allow_pickle=False) as z:
        for k in z.files:
            out[os.path.basename(p) + ":" + k] = desc(z[k])
json.dump(out, open(os.path.join(d, "go.json"), "w"))

arrays = {
    "py_be_f8.npy": (np.arange(24, dtype=">f8").reshape(2, 3, 4) / 7 - 1),
    "py_fortran_f4.npy": np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4) * np.float32(1.5) - 2),
    "py_fortran_be_f8.npy": np.asfortranarray((np.arange(12, dtype=">f8").reshape(2, 3, 2) ** 2) / 3),
    "py_be_f4.npy": np.array([[1.25, -0.0], [np.inf, 1e-40]], dtype=">f4"),
    "py_specials_f4.npy": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, 3.14159], dtype="<f4"),
    "py_scalar.npy": np.float64(-2.5),
    "py_empty.npy": np.zeros((2, 0), dtype="<f4"),
}
res = {}
for name, a in arrays.items():
    np.save(os.path.join(d, name), a)
    res[name] = desc(np.asarray(a))
    res[name]["fortran"] = bool(np.asarray(a).flags.f_contiguous and not np.asarray(a).flags.c_contiguous)
z = {"weights": np.linspace(-1, 1, 15, dtype="<f8").reshape(3, 5), "bias": np.array([0.5, -0.25, 1e-300])}
np.savez(os.path.join(d, "py_savez.npz"), **z)
np.savez_compressed(os.path.join(d, "py_compressed.npz"), **z)
for k, a in z.items():
    res["py_savez.npz:" + k] = desc(a)
    res["py_compressed.npz:" + k] = desc(a)
json.dump(res, open(os.path.join(d, "py.json"), "w"))
`

type numpyArray struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Values  []string `json:"values"`
	Fortran bool     `json:"fortran"`
}

// parseHex reads Python's float.hex output ("0x1.8p+1", "-inf", "nan").
func parseHex(t *testing.T, s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return v
}

// checkNumpy compares a tensor with numpy's description of the same array,
// bit for bit (NaN matching NaN).
func checkNumpy[T Float](t *testing.T, name string, want numpyArray, got *Dense[T]) {
	t.Helper()
	require.True(t, slices.Equal(want.Shape, got.Shape()) || len(want.Shape) == 0 && got.Dims() == 0,
		"%s: shape %v, numpy %v", name, got.Shape(), want.Shape)
	vals := npyRowMajor(got)
	require.Len(t, vals, len(want.Values), name)
	for i, s := range want.Values {
		w := T(parseHex(t, s))
		if w != w {
			require.True(t, vals[i] != vals[i], "%s[%d]: got %v want NaN", name, i, vals[i])
			continue
		}
		require.Equal(t, npyBits(w), npyBits(vals[i]), "%s[%d]: got %v want %v", name, i, vals[i], w)
	}
}

// TestNPYNumpyCrossCheck has numpy read files written here and this package
// read files numpy wrote. CI installs python3-numpy; elsewhere it skips.
func TestNPYNumpyCrossCheck(t *testing.T) {
	testenv.MustHaveExec(t)
	py := numpyPython()
	if py == "" {
		t.Skip("python3 with numpy not found (tried /usr/bin/python3 and python3 on PATH); install python3-numpy to run the numpy cross-check")
	}
	dir := t.TempDir()

	// Go -> numpy.
	base64 := FromSlice(npyValues[float64](24), 2, 3, 4)
	goFiles := map[string]any{
		"go_f32.npy":    FromSlice(npyValues[float32](12), 3, 4),
		"go_f64_T.npy":  &Dense[float64]{data: base64.data, shape: []int{4, 3, 2}, strides: []int{1, 4, 12}},
		"go_scalar.npy": FromSlice([]float64{-7.125}),
		"go_empty.npy":  New[float32](0, 3),
		"go_1d.npy":     FromSlice(npyValues[float64](5), 5),
	}
	for name, v := range goFiles {
		p := filepath.Join(dir, name)
		switch v := v.(type) {
		case *Dense[float32]:
			require.NoError(t, SaveNPY(p, v))
		case *Dense[float64]:
			require.NoError(t, SaveNPY(p, v))
		}
	}
	goNPZ := map[string]*Dense[float32]{
		"a": FromSlice(npyValues[float32](6), 2, 3),
		"b": FromSlice(npyValues[float32](4), 4),
	}
	require.NoError(t, SaveNPZ(filepath.Join(dir, "go.npz"), goNPZ))

	cmd := osexec.Command(py, "-c", numpyScript, dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	var seen map[string]numpyArray
	raw, err := os.ReadFile(filepath.Join(dir, "go.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &seen))
	require.Len(t, seen, len(goFiles)+len(goNPZ))
	for name, v := range goFiles {
		np, ok := seen[name]
		require.True(t, ok, "numpy did not load %s", name)
		switch v := v.(type) {
		case *Dense[float32]:
			require.Equal(t, "<f4", np.Dtype, name)
			checkNumpy(t, name, np, v)
		case *Dense[float64]:
			require.Equal(t, "<f8", np.Dtype, name)
			checkNumpy(t, name, np, v)
		}
	}
	for k, v := range goNPZ {
		np := seen["go.npz:"+k]
		require.Equal(t, "<f4", np.Dtype, k)
		checkNumpy(t, "go.npz:"+k, np, v)
	}

	// numpy -> Go.
	var wrote map[string]numpyArray
	raw, err = os.ReadFile(filepath.Join(dir, "py.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &wrote))
	fortran := 0
	npz := map[string]map[string]*Dense[float64]{}
	for name, want := range wrote {
		if file, member, ok := strings.Cut(name, ":"); ok {
			if npz[file] == nil {
				npz[file], err = LoadNPZ[float64](filepath.Join(dir, file))
				require.NoError(t, err, file)
			}
			got, ok := npz[file][member]
			require.True(t, ok, "%s: no member %s", file, member)
			checkNumpy(t, name, want, got)
			continue
		}
		p := filepath.Join(dir, name)
		if want.Fortran {
			fortran++
			head, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Contains(t, string(head[:128]), "'fortran_order': True", name)
		}
		if want.Dtype[1:] == "f4" {
			got, err := LoadNPY[float32](p)
			require.NoError(t, err, name)
			checkNumpy(t, name, want, got)
		} else {
			got, err := LoadNPY[float64](p)
			require.NoError(t, err, name)
			checkNumpy(t, name, want, got)
		}
	}
	require.Equal(t, 2, fortran, "the script should have saved two Fortran-order arrays")
	require.Len(t, npz, 2)
	// savez stores, savez_compressed deflates: both were read above.
}
