package tensor

import (
	"encoding/json"
	"math"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/adjoint-go/adjoint/internal/testenv"
	"github.com/stretchr/testify/require"
)

// safetensorsScript is an independent safetensors reader and writer in
// Python's standard library (json + struct), plus NumPy's float16 where
// NumPy imports. argv[1] is a directory.
//
// Reading: every go_*.safetensors there is parsed from the format
// description (8-byte length, JSON header, data tiled by data_offsets),
// its rules checked with assertions, and its values recorded in go.json
// as float.hex strings, with the dtype, shape, metadata and header text.
//
// Writing: it writes py_*.safetensors files its own way (json.dumps with
// its default spacing, keys in a non-sorted order, metadata, padding,
// F16 packed with struct's 'e' format, BF16 by rounding float32 bits to
// nearest even by hand) and records the values it meant in py.json. With
// NumPy it also writes every one of the 65536 half bit patterns and
// records NumPy's own float16 -> float32 / float64 conversions as bit
// patterns (NaN payloads included), and float16 values NumPy rounded from
// float64.
const safetensorsScript = `
import glob, json, math, os, struct, sys
d = sys.argv[1]

SIZES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}
FMT = {"F16": "e", "F32": "f", "F64": "d"}

def read(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    text = raw[8:8 + n].decode("utf-8")
    assert text[0] == "{", "header starts with {"
    assert (8 + n) % 8 == 0, "data aligned to 8"
    hdr = json.loads(text)
    data = raw[8 + n:]
    meta = hdr.pop("__metadata__", None)
    out = {}
    pos = 0
    for name, info in sorted(hdr.items(), key=lambda kv: kv[1]["data_offsets"]):
        assert set(info) == {"dtype", "shape", "data_offsets"}, info
        b, e = info["data_offsets"]
        assert b == pos, (name, b, pos)
        count = 1
        for s in info["shape"]:
            count *= s
        size = SIZES[info["dtype"]]
        assert e - b == count * size, (name, info)
        vals = struct.unpack("<%d%s" % (count, FMT[info["dtype"]]), data[b:e])
        out[name] = {"dtype": info["dtype"], "shape": info["shape"], "values": [float(v).hex() for v in vals]}
        pos = e
    assert pos == len(data), "data covered exactly"
    return {"tensors": out, "metadata": meta, "names": list(hdr.keys()), "header": text}

res = {}
for p in sorted(glob.glob(os.path.join(d, "go_*.safetensors"))):
    res[os.path.basename(p)] = read(p)
json.dump(res, open(os.path.join(d, "go.json"), "w"))

def bf16(x):
    (u,) = struct.unpack("<I", struct.pack("<f", x))
    if (u & 0x7fffffff) > 0x7f800000:
        return (u >> 16) | 0x40  # quiet NaN
    u += 0x7fff + ((u >> 16) & 1)
    return u >> 16

def write(path, tensors, meta):
    # tensors: list of (name, dtype, shape, packed bytes); written in list
    # order, header keys in reverse order.
    hdr, data = {}, b""
    for name, dtype, shape, blob in tensors:
        hdr[name] = {"shape": shape, "dtype": dtype, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    items = list(reversed(list(hdr.items())))
    if meta is not None:
        items.append(("__metadata__", meta))
    text = json.dumps(dict(items))
    text += " " * ((8 - (8 + len(text.encode())) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(text.encode())) + text.encode() + data)

wrote = {}
f64 = [0.0, -0.0, math.inf, -math.inf, 1e-310, 5e-324, 1.0 / 3, -2.5, 1e300, 123456.789]
f32 = [struct.unpack("<f", struct.pack("<f", v))[0] for v in [0.0, -0.0, math.inf, 1e-40, 1.0 / 3, -2.5, 3e38, 7.0]]
f16 = [0.0, -0.0, math.inf, -math.inf, 6e-8, 2 ** -24, 6.1e-5, 65504.0, 1.0 / 3, -2.5, 0.1]
f16 = [struct.unpack("<e", struct.pack("<e", v))[0] for v in f16]  # round to half
b16src = [0.0, -0.0, math.inf, 1e-40, 1.0 / 3, -2.5, 3e38, 1.00390625, 1.01171875]
b16 = [bf16(v) for v in b16src]
b16vals = [struct.unpack("<f", struct.pack("<I", u << 16))[0] for u in b16]
ts = [
    ("weights.f64", "F64", [2, 5], struct.pack("<10d", *f64)),
    ("w32", "F32", [2, 2, 2], struct.pack("<8f", *f32)),
    ("half", "F16", [11], struct.pack("<11e", *f16)),
    ("brain", "BF16", [3, 3], struct.pack("<9H", *b16)),
    ("scalar", "F64", [], struct.pack("<d", -0.75)),
    ("empty", "F32", [0, 4], b""),
]
write(os.path.join(d, "py_mixed.safetensors"), ts, {"format": "pt", "who": "python \u00e9"})
wrote["py_mixed.safetensors"] = {
    "weights.f64": [v.hex() for v in f64],
    "w32": [v.hex() for v in f32],
    "half": [v.hex() for v in f16],
    "brain": [v.hex() for v in b16vals],
    "scalar": [(-0.75).hex()],
    "empty": [],
}
nan16 = struct.pack("<3H", 0x7e00, 0xfc01, 0x7d55)
write(os.path.join(d, "py_nan.safetensors"), [("n", "F16", [3], nan16)], None)

try:
    import numpy as np
except ImportError:
    np = None
if np is not None:
    bits = np.arange(65536, dtype="<u2")
    write(os.path.join(d, "py_allhalf.safetensors"), [("all", "F16", [65536], bits.tobytes())], None)
    h = bits.view("<f2")
    wrote["allhalf_f32_bits"] = [int(v) for v in h.astype("<f4").view("<u4")]
    wrote["allhalf_f64_bits"] = [int(v) for v in h.astype("<f8").view("<u8")]
    src = np.array([1e-8, -3e-6, 1 / 3, 2.0 / 3, 1e5, 65519.0, 65520.0, -1e-7, 0.1, 3.14159], dtype="<f8")
    r = src.astype("<f2")
    write(os.path.join(d, "py_numpy_f16.safetensors"), [("r", "F16", [2, 5], r.tobytes())], None)
    wrote["numpy_f16"] = [float(v).hex() for v in r.astype("<f8")]
json.dump(wrote, open(os.path.join(d, "py.json"), "w"))
`

type stPyTensor struct {
	Dtype  string   `json:"dtype"`
	Shape  []int    `json:"shape"`
	Values []string `json:"values"`
}

type stPyFile struct {
	Tensors  map[string]stPyTensor `json:"tensors"`
	Metadata map[string]string     `json:"metadata"`
	Names    []string              `json:"names"`
	Header   string                `json:"header"`
}

// stPython returns a python3 (numpy or not), "" if there is none.
func stPython() string {
	if p := numpyPython(); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := osexec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

// TestSafetensorsPythonCrossCheck has an independent Python reader check
// and decode files written here, and this package read files that Python
// wrote its own way, bit for bit. It skips without python3; without NumPy
// only the NumPy float16 parts are left out. CI installs python3-numpy.
func TestSafetensorsPythonCrossCheck(t *testing.T) {
	testenv.MustHaveExec(t)
	py := stPython()
	if py == "" {
		t.Skip("python3 not found (tried /usr/bin/python3 and python3 on PATH)")
	}
	dir := t.TempDir()

	base := FromSlice(npyValues[float64](12), 3, 4)
	go64 := map[string]*Dense[float64]{
		"b.weight": base.T(), // strided: written in C order
		"a":        FromSlice([]float64{-7.125}),
		"empty":    New[float64](0, 2),
		"ü\"x\"":   FromSlice(npyValues[float64](3), 3),
	}
	go32 := map[string]*Dense[float32]{
		"layer.0": FromSlice(npyValues[float32](6), 2, 3),
		"z":       FromSlice([]float32{1.5, -0.0}, 2, 1),
	}
	meta := map[string]string{"format": "pt", "k": "v ü"}
	require.NoError(t, SaveSafetensorsMetadata(filepath.Join(dir, "go_f64.safetensors"), go64, meta))
	require.NoError(t, SaveSafetensors(filepath.Join(dir, "go_f32.safetensors"), go32))

	out, err := osexec.Command(py, "-c", safetensorsScript, dir).CombinedOutput()
	require.NoError(t, err, "%s", out)

	var seen map[string]stPyFile
	raw, err := os.ReadFile(filepath.Join(dir, "go.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &seen))
	check := func(file, name, dtype string, shape []int, vals []float64) {
		t.Helper()
		pt, ok := seen[file].Tensors[name]
		require.True(t, ok, "%s: python did not find %q", file, name)
		require.Equal(t, dtype, pt.Dtype)
		require.Equal(t, len(shape), len(pt.Shape), "%s %s shape %v", file, name, pt.Shape)
		require.True(t, len(shape) == 0 || slices.Equal(shape, pt.Shape), "%s %s shape %v want %v", file, name, pt.Shape, shape)
		require.Len(t, pt.Values, len(vals), name)
		for i, s := range pt.Values {
			got := parseHex(t, s)
			if math.IsNaN(vals[i]) {
				require.True(t, math.IsNaN(got), "%s[%d]", name, i)
				continue
			}
			require.Equal(t, math.Float64bits(vals[i]), math.Float64bits(got), "%s[%d]: python %v, we wrote %v", name, i, got, vals[i])
		}
	}
	for name, v := range go64 {
		check("go_f64.safetensors", name, "F64", v.Shape(), npyRowMajor(v))
	}
	for name, v := range go32 {
		vals := npyRowMajor(v)
		f := make([]float64, len(vals))
		for i, x := range vals {
			f[i] = float64(x)
		}
		check("go_f32.safetensors", name, "F32", v.Shape(), f)
	}
	require.Equal(t, meta, seen["go_f64.safetensors"].Metadata)
	require.Nil(t, seen["go_f32.safetensors"].Metadata)
	require.Equal(t, []string{"layer.0", "z"}, seen["go_f32.safetensors"].Names, "sorted header order")

	// Python -> Go.
	var wrote map[string]json.RawMessage
	raw, err = os.ReadFile(filepath.Join(dir, "py.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &wrote))
	var mixed map[string][]string
	require.NoError(t, json.Unmarshal(wrote["py_mixed.safetensors"], &mixed))
	p := filepath.Join(dir, "py_mixed.safetensors")
	g64, err := LoadSafetensors[float64](p)
	require.NoError(t, err)
	g32, err := LoadSafetensors[float32](p)
	require.NoError(t, err)
	require.Len(t, g64, len(mixed))
	for name, vals := range mixed {
		require.Contains(t, g64, name)
		require.Equal(t, len(vals), g64[name].Size(), name)
		for i, s := range vals {
			w := parseHex(t, s)
			require.Equal(t, math.Float64bits(w), math.Float64bits(g64[name].Data()[i]), "%s[%d]", name, i)
			require.Equal(t, math.Float32bits(float32(w)), math.Float32bits(g32[name].Data()[i]), "%s[%d] float32", name, i)
		}
	}
	require.Equal(t, []int{3, 3}, g64["brain"].Shape())
	require.Equal(t, 0, g64["scalar"].Dims())
	require.Equal(t, []int{0, 4}, g64["empty"].Shape())
	f, err := os.Open(p)
	require.NoError(t, err)
	st, _ := f.Stat()
	gotMeta, err := ReadSafetensorsMetadata(f, st.Size())
	f.Close()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"format": "pt", "who": "python é"}, gotMeta)

	nan, err := LoadSafetensors[float32](filepath.Join(dir, "py_nan.safetensors"))
	require.NoError(t, err)
	require.Equal(t, []uint32{0x7fc00000, 0xff802000, 0x7faaa000}, []uint32{
		math.Float32bits(nan["n"].Data()[0]), math.Float32bits(nan["n"].Data()[1]), math.Float32bits(nan["n"].Data()[2])})

	if _, ok := wrote["allhalf_f32_bits"]; !ok {
		t.Log("numpy not importable: the float16 checks against numpy were skipped")
		return
	}
	var b32 []uint32
	var b64 []uint64
	require.NoError(t, json.Unmarshal(wrote["allhalf_f32_bits"], &b32))
	require.NoError(t, json.Unmarshal(wrote["allhalf_f64_bits"], &b64))
	all32, err := LoadSafetensors[float32](filepath.Join(dir, "py_allhalf.safetensors"))
	require.NoError(t, err)
	all64, err := LoadSafetensors[float64](filepath.Join(dir, "py_allhalf.safetensors"))
	require.NoError(t, err)
	require.Len(t, b32, 1<<16)
	for i := range b32 {
		g32, g64 := math.Float32bits(all32["all"].Data()[i]), math.Float64bits(all64["all"].Data()[i])
		if g32 != b32[i] || g64 != b64[i] {
			t.Fatalf("half %#04x: read %#x / %#x, numpy gives %#x / %#x", i, g32, g64, b32[i], b64[i])
		}
	}
	var r16 []string
	require.NoError(t, json.Unmarshal(wrote["numpy_f16"], &r16))
	rr, err := LoadSafetensors[float64](filepath.Join(dir, "py_numpy_f16.safetensors"))
	require.NoError(t, err)
	require.Equal(t, []int{2, 5}, rr["r"].Shape())
	for i, s := range r16 {
		require.Equal(t, math.Float64bits(parseHex(t, s)), math.Float64bits(rr["r"].Data()[i]), "numpy float16 %d", i)
	}
}
