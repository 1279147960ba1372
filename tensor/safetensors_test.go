package tensor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stFile builds a safetensors file by hand: the length, the header text
// exactly as given, the data.
func stFile(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

func stRead[T Float](b []byte) (map[string]*Dense[T], error) {
	return ReadSafetensors[T](bytes.NewReader(b), int64(len(b)))
}

func stWrite[T Float](t *testing.T, m map[string]*Dense[T], meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteSafetensorsMetadata(&buf, m, meta))
	return buf.Bytes()
}

// stF32 and friends encode little-endian values for hand-built files.
func stF32(vs ...float32) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

func stF64(vs ...float64) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	return out
}

func stU16(vs ...uint16) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint16(out, v)
	}
	return out
}

func stRoundTrip[T Float](t *testing.T) {
	base := FromSlice(npyValues[T](24), 2, 3, 4)
	m := map[string]*Dense[T]{
		"layer.0.weight":  base,
		"T":               base.Permute(2, 0, 1), // a strided view: written in C order
		"scalar":          FromSlice([]T{-7.125}),
		"empty":           New[T](2, 0, 3),
		"vector":          FromSlice(npyValues[T](5), 5),
		"ünïcode \"q\"\\": FromSlice([]T{1, 2}, 2, 1),
		"":                FromSlice([]T{5}, 1), // the format allows an empty name
	}
	meta := map[string]string{"format": "pt", "note": "a \"quoted\" ü"}
	raw := stWrite(t, m, meta)
	require.Equal(t, raw, stWrite(t, m, meta), "equal input gives equal bytes")
	hlen := binary.LittleEndian.Uint64(raw)
	require.Zero(t, (8+hlen)%8, "data starts 8-aligned")
	got, err := stRead[T](raw)
	require.NoError(t, err)
	require.Len(t, got, len(m))
	for name, want := range m {
		npyBitsEqual(t, want, got[name], name)
		require.True(t, got[name].IsContiguous(), name)
	}
	require.Equal(t, 0, got["scalar"].Dims())
	gotMeta, err := ReadSafetensorsMetadata(bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	require.Equal(t, meta, gotMeta)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	t.Run("float32", stRoundTrip[float32])
	t.Run("float64", stRoundTrip[float64])
}

// TestSafetensorsBytes pins the exact bytes for a small case, written out
// by hand from the format description.
func TestSafetensorsBytes(t *testing.T) {
	m := map[string]*Dense[float32]{
		"b": FromSlice([]float32{1.5}, 1),
		"a": FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3),
	}
	raw := stWrite(t, m, nil)
	hdr := `{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}}`
	for (8+len(hdr))%8 != 0 {
		hdr += " "
	}
	want := stFile(hdr, stF32(1, 2, 3, 4, 5, 6, 1.5))
	require.Equal(t, string(want), string(raw))

	raw = stWrite(t, map[string]*Dense[float64]{"<&>": FromSlice([]float64{-2})}, map[string]string{})
	hdr = `{"__metadata__":{},"<&>":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`
	for (8+len(hdr))%8 != 0 {
		hdr += " "
	}
	require.Equal(t, string(stFile(hdr, stF64(-2))), string(raw))

	raw = stWrite(t, map[string]*Dense[float64]{}, nil)
	require.Equal(t, string(stFile("{}      ", nil)), string(raw))
	got, err := stRead[float64](raw)
	require.NoError(t, err)
	require.Empty(t, got)
}

// f16Reference is the value of an IEEE binary16 bit pattern computed from
// the definition in float64 arithmetic (independent of f16ToF32Bits).
func f16Reference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10&0x1f), float64(h&0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(m, -24)
	case 31:
		if m == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+m/1024, e-15)
}

// TestSafetensorsHalfDecode checks every F16 and BF16 bit pattern, through
// the reader, against the definition: values exact in both widths, NaN
// sign and payload kept bit for bit.
func TestSafetensorsHalfDecode(t *testing.T) {
	all := make([]uint16, 1<<16)
	for i := range all {
		all[i] = uint16(i)
	}
	for _, dtype := range []string{"F16", "BF16"} {
		file := stFile(`{"x":{"dtype":"`+dtype+`","shape":[65536],"data_offsets":[0,131072]}}`, stU16(all...))
		g32, err := stRead[float32](file)
		require.NoError(t, err)
		g64, err := stRead[float64](file)
		require.NoError(t, err)
		x32, x64 := g32["x"].Data(), g64["x"].Data()
		for i, h := range all {
			var want float64
			var nanBits32 uint32
			if dtype == "F16" {
				want = f16Reference(h)
				nanBits32 = uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&0x3ff)<<13
			} else {
				want = float64(math.Float32frombits(uint32(h) << 16))
				nanBits32 = uint32(h) << 16
			}
			// Plain comparisons: 2·65536 testify calls are slow under qemu.
			g32, g64 := math.Float32bits(x32[i]), math.Float64bits(x64[i])
			if math.IsNaN(want) {
				w64 := uint64(nanBits32>>31)<<63 | 0x7ff<<52 | uint64(nanBits32&0x7fffff)<<29
				if g32 != nanBits32 || g64 != w64 {
					t.Fatalf("%s %#04x: NaN read as %#x / %#x, want %#x / %#x", dtype, h, g32, g64, nanBits32, w64)
				}
				continue
			}
			if g64 != math.Float64bits(want) || g32 != math.Float32bits(float32(want)) || float64(float32(want)) != want {
				t.Fatalf("%s %#04x: read %v / %v, want %v", dtype, h, x32[i], x64[i], want)
			}
		}
	}
}

// TestSafetensorsConvert reads F32 as float64 (exact) and F64 as float32
// (rounded to nearest, as Go converts), plus dtypes mixed in one file in
// any header order.
func TestSafetensorsConvert(t *testing.T) {
	v64 := npyValues[float64](12)
	v32 := npyValues[float32](12)
	v64[11] = 1 + 0x1p-30 // rounds in float32
	hdr := `{"z":{"shape":[12],"data_offsets":[96,144],"dtype":"F32"},"a":{"dtype":"F64","shape":[3,4],"data_offsets":[0,96]},` +
		`"h":{"dtype":"F16","shape":[2],"data_offsets":[144,148]},"__metadata__":{"k":"v"}}`
	data := append(append(stF64(v64...), stF32(v32...)...), stU16(0x3c00, 0xc000)...)
	file := stFile(hdr, data)
	g64, err := stRead[float64](file)
	require.NoError(t, err)
	g32, err := stRead[float32](file)
	require.NoError(t, err)
	for i := range 12 {
		require.Equal(t, npyBits(v64[i]), npyBits(g64["a"].Data()[i]))
		require.Equal(t, npyBits(float32(v64[i])), npyBits(g32["a"].Data()[i]))
		require.Equal(t, npyBits(float64(v32[i])), npyBits(g64["z"].Data()[i]), "%d", i)
		require.Equal(t, npyBits(v32[i]), npyBits(g32["z"].Data()[i]))
	}
	require.Equal(t, []int{3, 4}, g64["a"].Shape())
	require.Equal(t, []float64{1, -2}, g64["h"].Data())
	require.Equal(t, []float32{1, -2}, g32["h"].Data())
}

// TestSafetensorsAccepted: unusual but valid files.
func TestSafetensorsAccepted(t *testing.T) {
	cases := []struct {
		name, header string
		data         []byte
		shapes       map[string][]int
	}{
		{"json whitespace between tokens", "{ \"a\" :\n{\"dtype\" : \"F32\",\t\"shape\":[ 1 ],\"data_offsets\":[0 , 4]} }   ", stF32(1), map[string][]int{"a": {1}}},
		{"zero-size tensors anywhere", `{"e":{"dtype":"F64","shape":[0,5],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"f":{"dtype":"F16","shape":[3,0],"data_offsets":[0,0]}}`,
			stF32(1), map[string][]int{"a": {1}, "e": {0, 5}, "f": {3, 0}}},
		{"escaped names", `{"a\u00e9\n":{"dtype":"BF16","shape":[],"data_offsets":[0,2]}}`, stU16(0x3f80), map[string][]int{"aé\n": nil}},
		{"no padding", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, stF32(1), map[string][]int{"a": {1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := stRead[float64](stFile(c.header, c.data))
			require.NoError(t, err)
			for name, shape := range c.shapes {
				require.Contains(t, got, name)
				require.Equal(t, shape, []int(got[name].Shape()), name)
			}
		})
	}
}

type stBad struct {
	name   string
	file   []byte
	target error // ErrSafetensors unless set
}

var stTensorA = `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`

func stBadCases() []stBad {
	ok := stF32(1, 2)
	hdr := func(s string) []byte { return stFile(s, ok) }
	bigLen := binary.LittleEndian.AppendUint64(nil, 1<<40)
	capLen := binary.LittleEndian.AppendUint64(nil, stMaxHeader+1)
	return []stBad{
		{name: "empty", file: nil},
		{name: "seven bytes", file: make([]byte, 7)},
		{name: "zero header", file: stFile("", nil)},
		{name: "header longer than file", file: append(bigLen, "{}"...)},
		{name: "header over the cap", file: append(capLen, "{}"...)},
		{name: "header length max", file: append(binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "{}"...)},
		{name: "leading space", file: hdr(" {" + stTensorA + "}")},
		{name: "not an object", file: hdr(`[1]`)},
		{name: "invalid utf-8", file: hdr("{\"a\xff\":{}}")},
		{name: "trailing garbage", file: hdr("{" + stTensorA + "}x")},
		{name: "trailing newline", file: hdr("{" + stTensorA + "}\n")},
		{name: "second object", file: hdr("{" + stTensorA + "}{}")},
		{name: "unterminated", file: hdr("{" + stTensorA)},
		{name: "trailing comma", file: hdr("{" + stTensorA + ",}")},
		{name: "trailing comma in shape", file: hdr(`{"a":{"dtype":"F32","shape":[2,],"data_offsets":[0,8]}}`)},
		{name: "single quotes", file: hdr(`{'a':{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`)},
		{name: "duplicate name", file: stFile("{"+stTensorA+","+stTensorA+"}", stF32(1, 2, 3, 4))},
		{name: "duplicate metadata", file: hdr(`{"__metadata__":{},"__metadata__":{},` + stTensorA + "}")},
		{name: "duplicate metadata key", file: hdr(`{"__metadata__":{"k":"1","k":"2"},` + stTensorA + "}")},
		{name: "metadata number", file: hdr(`{"__metadata__":{"k":1},` + stTensorA + "}")},
		{name: "metadata null", file: hdr(`{"__metadata__":null,` + stTensorA + "}")},
		{name: "metadata nested", file: hdr(`{"__metadata__":{"k":{"x":"y"}},` + stTensorA + "}")},
		{name: "entry not an object", file: hdr(`{"a":[0,8]}`)},
		{name: "duplicate key in entry", file: hdr(`{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`)},
		{name: "unknown key in entry", file: hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`)},
		{name: "missing dtype", file: hdr(`{"a":{"shape":[2],"data_offsets":[0,8]}}`)},
		{name: "missing shape", file: hdr(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`)},
		{name: "missing offsets", file: hdr(`{"a":{"dtype":"F32","shape":[2]}}`)},
		{name: "unknown dtype", file: hdr(`{"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}`)},
		{name: "lower-case dtype", file: hdr(`{"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}`)},
		{name: "dtype not a string", file: hdr(`{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}`)},
		{name: "shape not a list", file: hdr(`{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}`)},
		{name: "negative dimension", file: hdr(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`)},
		{name: "fractional dimension", file: hdr(`{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}`)},
		{name: "exponent dimension", file: hdr(`{"a":{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}}`)},
		{name: "leading zero", file: hdr(`{"a":{"dtype":"F32","shape":[02],"data_offsets":[0,8]}}`)},
		{name: "string dimension", file: hdr(`{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}`)},
		{name: "dimension over int64", file: hdr(`{"a":{"dtype":"F32","shape":[18446744073709551617],"data_offsets":[0,8]}}`)},
		{name: "dimension over MaxInt", file: hdr(`{"a":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8]}}`)},
		{name: "count overflows", file: hdr(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`)},
		{name: "bytes overflow", file: hdr(`{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}`)},
		{name: "wrapping product", file: hdr(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,0]}}`)},
		// Issue 23 item 3: no elements, but strides overflow; New and ReadNPY
		// refuse these shapes, so the reader does too.
		{name: "huge dimension times zero", file: hdr(`{"a":{"dtype":"F64","shape":[4611686018427387904,0,4611686018427387904],"data_offsets":[0,0]}}`)},
		{name: "zero then huge dimensions", file: hdr(`{"a":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[0,0]}}`)},
		{name: "huge dimensions then zero", file: hdr(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}`)},
		// Issue 23 item 1: the rank is bounded while parsing.
		{name: "rank above MaxRank", file: hdr(`{"a":{"dtype":"F32","shape":[` + strings.Repeat("1,", MaxRank) + `2],"data_offsets":[0,8]}}`)},
		{name: "one offset", file: hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}`)},
		{name: "three offsets", file: hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`)},
		{name: "negative offset", file: hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`)},
		{name: "offset over uint64", file: hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551616,18446744073709551624]}}`)},
		{name: "end before begin", file: hdr(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`)},
		{name: "size mismatch", file: hdr(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`)},
		{name: "dtype size mismatch", file: hdr(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`)},
		{name: "beyond the data", file: stFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, ok)},
		{name: "hole at start", file: hdr(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`)},
		{name: "hole at end", file: hdr(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)},
		{name: "hole between", file: stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, stF32(1, 2, 3))},
		{name: "overlap", file: stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, stF32(1, 2, 3))},
		{name: "same range twice", file: hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`)},
		{name: "no tensors but data", file: stFile(`{}`, ok)},
		{name: "nested header", file: hdr(`{"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}}`)},
		{name: "U64 tensor", file: stFile(`{"n":{"dtype":"U64","shape":[],"data_offsets":[0,8]}}`, stF64(0)), target: ErrSafetensorsType},
		{name: "U16 with F32", file: stFile(`{"b":{"dtype":"U16","shape":[3],"data_offsets":[8,14]},`+stTensorA+"}", append(stF32(1, 2), 1, 0, 1, 0, 0, 0)), target: ErrSafetensorsType},
		{name: "I64 beyond exact", file: stFile(`{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, binary.LittleEndian.AppendUint64(nil, 1<<53+1)), target: ErrSafetensorsType},
	}
}

func TestSafetensorsMalformed(t *testing.T) {
	for _, c := range stBadCases() {
		t.Run(c.name, func(t *testing.T) {
			target := c.target
			if target == nil {
				target = ErrSafetensors
			}
			_, err := stRead[float64](c.file)
			require.Error(t, err)
			require.ErrorIs(t, err, target, "%v", err)
			t.Log(err)
			_, err = stRead[float32](c.file)
			require.ErrorIs(t, err, target)
			if target == ErrSafetensors {
				_, err = ReadSafetensorsMetadata(bytes.NewReader(c.file), int64(len(c.file)))
				require.ErrorIs(t, err, ErrSafetensors)
			}
		})
	}
}

// TestSafetensorsTruncated cuts a good file at every length.
func TestSafetensorsTruncated(t *testing.T) {
	raw := stWrite(t, map[string]*Dense[float32]{"a": FromSlice(npyValues[float32](6), 2, 3), "b": New[float32](1)}, map[string]string{"x": "y"})
	for n := range len(raw) {
		_, err := stRead[float32](raw[:n])
		require.ErrorIs(t, err, ErrSafetensors, "cut at %d", n)
	}
	// A size claiming more than the reader holds: the last-byte probe fails
	// before anything proportional to size is allocated.
	_, err := ReadSafetensors[float32](bytes.NewReader(raw), int64(len(raw))+8)
	require.ErrorIs(t, err, ErrSafetensors)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	// A size shorter than the reader: the data no longer fits.
	_, err = ReadSafetensors[float32](bytes.NewReader(raw), int64(len(raw))-4)
	require.ErrorIs(t, err, ErrSafetensors)
}

// TestSafetensorsLyingFileAllocation: a tiny file whose header claims a huge
// tensor, or whose reader claims a huge size, allocates little.
func TestSafetensorsLyingFileAllocation(t *testing.T) {
	files := []struct {
		file []byte
		size int64
	}{
		{stFile(`{"a":{"dtype":"F64","shape":[1073741824],"data_offsets":[0,8589934592]}}`, stF64(1)), 0},
		{append(binary.LittleEndian.AppendUint64(nil, stMaxHeader), '{'), 0},
		{stWrite(t, map[string]*Dense[float64]{"a": New[float64](1)}, nil), 1 << 40},
	}
	for i, f := range files {
		size := f.size
		if size == 0 {
			size = int64(len(f.file))
		}
		var err error
		n := allocated(func() { _, err = ReadSafetensors[float64](bytes.NewReader(f.file), size) })
		require.ErrorIs(t, err, ErrSafetensors, "%d", i)
		require.Less(t, n, uint64(1<<20), "file %d allocated %d bytes", i, n)
	}
}

// stErrReaderAt fails every read at or past off.
type stErrReaderAt struct {
	r   io.ReaderAt
	off int64
}

func (e stErrReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > e.off {
		return 0, iotest.ErrTimeout
	}
	return e.r.ReadAt(b, off)
}

// stEOFReaderAt returns io.EOF with every read that reaches the end, as
// io.ReaderAt allows.
type stEOFReaderAt struct{ b []byte }

func (e stEOFReaderAt) ReadAt(b []byte, off int64) (int, error) {
	n := copy(b, e.b[off:])
	if off+int64(n) == int64(len(e.b)) {
		return n, io.EOF
	}
	return n, nil
}

func TestSafetensorsReaderAt(t *testing.T) {
	m := map[string]*Dense[float64]{"a": FromSlice(npyValues[float64](10), 10)}
	raw := stWrite(t, m, nil)
	got, err := ReadSafetensors[float64](stEOFReaderAt{raw}, int64(len(raw)))
	require.NoError(t, err, "io.EOF with a full read is success")
	npyBitsEqual(t, m["a"], got["a"], "a")
	for _, at := range []int64{0, 8, int64(len(raw)) - 1} {
		_, err = ReadSafetensors[float64](stErrReaderAt{bytes.NewReader(raw), at}, int64(len(raw)))
		require.ErrorIs(t, err, iotest.ErrTimeout, "fail at %d", at)
		require.NotErrorIs(t, err, ErrSafetensors)
	}
}

// TestSafetensorsLarge spans several read chunks in one tensor.
func TestSafetensorsLarge(t *testing.T) {
	n := 3*stChunk/4 + 17
	m := map[string]*Dense[float32]{"big": FromSlice(npyValues[float32](n), n), "x": FromSlice([]float32{3}, 1)}
	got, err := stRead[float32](stWrite(t, m, nil))
	require.NoError(t, err)
	npyBitsEqual(t, m["big"], got["big"], "big")
	npyBitsEqual(t, m["x"], got["x"], "x")
}

type stFailWriter struct{ n int }

func (w *stFailWriter) Write(b []byte) (int, error) {
	if w.n <= 0 {
		return 0, iotest.ErrTimeout
	}
	w.n--
	return len(b), nil
}

func TestSafetensorsWriteErrorsAndPanics(t *testing.T) {
	m := map[string]*Dense[float32]{"a": New[float32](2), "b": New[float32](3)}
	for n := range 3 {
		require.ErrorIs(t, WriteSafetensors(&stFailWriter{n}, m), iotest.ErrTimeout, "after %d writes", n)
	}
	for name, bad := range map[string]map[string]*Dense[float32]{
		"reserved":   {"__metadata__": New[float32](1)},
		"bad utf-8":  {"\xff": New[float32](1)},
		"nil tensor": {"a": nil},
	} {
		var buf bytes.Buffer
		require.Panics(t, func() { _ = WriteSafetensors(&buf, bad) }, name)
		require.Zero(t, buf.Len(), "%s: nothing written before the panic", name)
		path := filepath.Join(t.TempDir(), "x.safetensors")
		require.Panics(t, func() { _ = SaveSafetensors(path, bad) }, name)
		_, err := os.Stat(path)
		require.True(t, errors.Is(err, os.ErrNotExist), "%s: no file created", name)
	}
	v := func() {
		_ = WriteSafetensorsMetadata(io.Discard, m, map[string]string{"k": "\xff"})
	}
	require.Panics(t, v)
	func() {
		defer func() {
			e, ok := recover().(*Error)
			require.True(t, ok)
			require.ErrorIs(t, e, ErrShape)
			assert.Contains(t, e.Error(), "WriteSafetensors")
		}()
		_ = WriteSafetensors(io.Discard, map[string]*Dense[float64]{"__metadata__": New[float64](1)})
	}()
}

func TestSafetensorsSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	m := map[string]*Dense[float64]{"w": FromSlice(npyValues[float64](6), 3, 2)}
	require.NoError(t, SaveSafetensorsMetadata(path, m, map[string]string{"format": "pt"}))
	got, err := LoadSafetensors[float32](path)
	require.NoError(t, err)
	require.Equal(t, []int{3, 2}, got["w"].Shape())
	for i, v := range m["w"].Data() {
		require.Equal(t, npyBits(float32(v)), npyBits(got["w"].Data()[i]))
	}
	_, err = LoadSafetensors[float32](filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.WriteFile(path, []byte("garbage!!"), 0o644))
	_, err = LoadSafetensors[float32](path)
	require.ErrorIs(t, err, ErrSafetensors)
	require.Contains(t, err.Error(), path)
}

func FuzzReadSafetensors(f *testing.F) {
	var b bytes.Buffer
	_ = WriteSafetensorsMetadata(&b, map[string]*Dense[float32]{"a": FromSlice(npyValues[float32](6), 2, 3), "s": New[float32]()}, map[string]string{"k": "v"})
	f.Add(b.Bytes())
	b.Reset()
	_ = WriteSafetensors(&b, map[string]*Dense[float64]{"x": FromSlice(npyValues[float64](3), 3), "e": New[float64](0, 2)})
	f.Add(b.Bytes())
	f.Add(stFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]}}`, stU16(0x7c01, 0x0001, 0xff81)))
	for _, c := range stBadCases() {
		f.Add(c.file)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got map[string]*Dense[float64]
		var err error
		// Decoded float64 elements take at most 4× the file (F16 → 8
		// bytes), plus the JSON decoder's bookkeeping per header byte.
		if a := allocated(func() { got, err = stRead[float64](data) }); a > uint64(64*len(data)+1<<16) {
			t.Fatalf("a %d-byte file allocated %d bytes", len(data), a)
		}
		if err != nil {
			if !errors.Is(err, ErrSafetensors) && !errors.Is(err, ErrSafetensorsType) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			return
		}
		meta, err := ReadSafetensorsMetadata(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("metadata of a readable file: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteSafetensorsMetadata(&buf, got, meta); err != nil {
			t.Fatal(err)
		}
		again, err := stRead[float64](buf.Bytes())
		if err != nil {
			t.Fatalf("re-reading what we wrote: %v", err)
		}
		if len(again) != len(got) {
			t.Fatalf("%d tensors, then %d", len(got), len(again))
		}
		for name, g := range got {
			npyBitsEqual(t, g, again[name], name)
			if n := len(g.String()); n > 64*printMaxElems+4*MaxRank {
				t.Fatalf("%s: String is %d bytes", name, n)
			}
		}
		_, _ = stRead[float32](data)
	})
}

// BenchmarkSafetensors measures encoding and decoding of a 1M-element
// tensor in memory (bytes/s of file), F32 and F16 read into float32.
func BenchmarkSafetensors(b *testing.B) {
	const n = 1 << 20
	src := map[string]*Dense[float32]{"w": FromSlice(npyValues[float32](n), 1024, 1024)}
	var buf bytes.Buffer
	_ = WriteSafetensors(&buf, src)
	raw := buf.Bytes()
	half := make([]uint16, n)
	for i := range half {
		half[i] = uint16(uint32(i) * 2654435761 >> 7)
	}
	raw16 := stFile(`{"w":{"dtype":"F16","shape":[1024,1024],"data_offsets":[0,2097152]}}`, stU16(half...))
	b.Run("op=write/size=1M/dtype=F32", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			buf.Reset()
			_ = WriteSafetensors(&buf, src)
		}
	})
	for _, c := range []struct {
		dtype string
		raw   []byte
	}{{"F32", raw}, {"F16", raw16}} {
		b.Run("op=read/size=1M/dtype="+c.dtype, func(b *testing.B) {
			b.SetBytes(int64(len(c.raw)))
			for b.Loop() {
				if _, err := stRead[float32](c.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
