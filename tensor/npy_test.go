package tensor

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// npyValues returns n awkward values: signed zeros, infinities, NaN,
// subnormals, and ordinary numbers, cycling.
func npyValues[T Float](n int) []T {
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		1e-40, -3e-42, 1.5, -2.25, 1e30, -7e-20, math.Pi}
	out := make([]T, n)
	for i := range out {
		if i < len(special) {
			out[i] = T(special[i])
		} else {
			out[i] = T(float64(i)*0.37 - float64(i*i%17))
		}
	}
	return out
}

// npyBitsEqual compares tensors element by element in row-major order, by bit
// pattern (so NaN == NaN and -0 != +0), and their shapes.
func npyBitsEqual[T Float](t *testing.T, want, got *Dense[T], msg string) {
	t.Helper()
	require.True(t, slices.Equal(want.Shape(), got.Shape()), "%s: shape %v, want %v", msg, got.Shape(), want.Shape())
	w, g := npyRowMajor(want), npyRowMajor(got)
	require.Equal(t, len(w), len(g), "%s: size", msg)
	for i := range w {
		require.Equal(t, npyBits(w[i]), npyBits(g[i]), "%s: element %d: want %v got %v", msg, i, w[i], g[i])
	}
}

func npyBits[T Float](v T) uint64 {
	if npyIsF32[T]() {
		return uint64(math.Float32bits(float32(v)))
	}
	return math.Float64bits(float64(v))
}

func npyIsF32[T Float]() bool { return npyDescr[T]() == "<f4" }

// npyRowMajor lists the elements of any view in row-major order using
// only At, independently of the package's copy code.
func npyRowMajor[T Float](t *Dense[T]) []T {
	var out []T
	shape := t.Shape()
	n := 1
	for _, d := range shape {
		n *= d
	}
	idx := make([]int, len(shape))
	for range n {
		out = append(out, t.At(idx...))
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

var npyShapes = [][]int{{}, {0}, {2, 0, 3}, {1}, {5}, {3, 4}, {2, 3, 4}, {1, 1, 7, 1}}

func testRoundTrip[T Float](t *testing.T) {
	for _, shape := range npyShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			n := 1
			for _, d := range shape {
				n *= d
			}
			src := FromSlice(npyValues[T](n), shape...)
			var buf bytes.Buffer
			require.NoError(t, WriteNPY(&buf, src))
			raw := buf.Bytes()
			// Header layout: version 1.0, data aligned to 64, newline
			// before the data.
			require.Equal(t, "\x93NUMPY\x01\x00", string(raw[:8]))
			hlen := int(binary.LittleEndian.Uint16(raw[8:]))
			require.Zero(t, (10+hlen)%64, "data offset %d", 10+hlen)
			require.Equal(t, byte('\n'), raw[10+hlen-1])
			size := 8
			if npyIsF32[T]() {
				size = 4
			}
			require.Equal(t, 10+hlen+n*size, len(raw))
			got, err := ReadNPY[T](bytes.NewReader(raw))
			require.NoError(t, err)
			npyBitsEqual(t, src, got, "round trip")
			require.True(t, got.IsContiguous())
		})
	}
}

func TestNPYRoundTrip(t *testing.T) {
	t.Run("float32", testRoundTrip[float32])
	t.Run("float64", testRoundTrip[float64])
}

// TestNPYHeaderText pins the header to the form numpy writes.
func TestNPYHeaderText(t *testing.T) {
	for _, c := range []struct {
		shape []int
		want  string
	}{
		{[]int{}, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"},
		{[]int{5}, "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }"},
		{[]int{2, 3}, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"},
	} {
		var buf bytes.Buffer
		require.NoError(t, WriteNPY(&buf, New[float64](c.shape...)))
		hlen := int(binary.LittleEndian.Uint16(buf.Bytes()[8:]))
		h := string(buf.Bytes()[10 : 10+hlen])
		require.Equal(t, c.want, strings.TrimRight(h, " \n"))
	}
}

// TestNPYViews writes non-contiguous views; the file holds them in C order.
func TestNPYViews(t *testing.T) {
	base := FromSlice(npyValues[float32](24), 2, 3, 4)
	views := map[string]*Dense[float32]{
		// transpose of the last two axes
		"transposed": {data: base.data, shape: []int{2, 4, 3}, strides: []int{12, 1, 4}},
		// every other element of the last axis, offset 1
		"strided": {data: base.data, shape: []int{2, 3, 2}, strides: []int{12, 4, 2}, offset: 1},
		// a broadcast (stride 0) axis
		"broadcast": {data: base.data, shape: []int{3, 4}, strides: []int{0, 1}},
	}
	for name, v := range views {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteNPY(&buf, v))
			got, err := ReadNPY[float32](&buf)
			require.NoError(t, err)
			npyBitsEqual(t, v, got, name)
		})
	}
}

// npyFile builds a .npy byte stream by hand.
func npyFile(major byte, header string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.WriteByte(major)
	b.WriteByte(0)
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	b.Write(payload)
	return b.Bytes()
}

// encode writes vals with the given width and byte order.
func npyEncode(vals []float64, size int, order binary.AppendByteOrder) []byte {
	var b []byte
	for _, v := range vals {
		if size == 4 {
			b = order.AppendUint32(b, math.Float32bits(float32(v)))
		} else {
			b = order.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

// TestNPYHandBuilt reads byte streams built without WriteNPY: both byte
// orders and widths, Fortran order, versions 2.0 and 3.0, double quotes,
// Python 2 longs.
func TestNPYHandBuilt(t *testing.T) {
	// M[i][j] = 10*i + j + 0.5, shape (2, 3).
	rowMajor := []float64{0.5, 1.5, 2.5, 10.5, 11.5, 12.5}
	colMajor := []float64{0.5, 10.5, 1.5, 11.5, 2.5, 12.5}
	// 3-D Fortran: A[i][j][k] = 100i + 10j + k, shape (2, 3, 2); column
	// major means i varies fastest.
	var f3, c3 []float64
	for k := range 2 {
		for j := range 3 {
			for i := range 2 {
				f3 = append(f3, float64(100*i+10*j+k))
			}
		}
	}
	for i := range 2 {
		for j := range 3 {
			for k := range 2 {
				c3 = append(c3, float64(100*i+10*j+k))
			}
		}
	}
	cases := []struct {
		name  string
		file  []byte
		shape []int
		want  []float64
	}{
		{"<f4", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
			npyEncode(rowMajor, 4, binary.LittleEndian)), []int{2, 3}, rowMajor},
		{">f4", npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n",
			npyEncode(rowMajor, 4, binary.BigEndian)), []int{2, 3}, rowMajor},
		{">f8", npyFile(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (6,), }\n",
			npyEncode(rowMajor, 8, binary.BigEndian)), []int{6}, rowMajor},
		{"fortran <f8", npyFile(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }\n",
			npyEncode(colMajor, 8, binary.LittleEndian)), []int{2, 3}, rowMajor},
		{"fortran >f4 3-D", npyFile(1, "{'fortran_order': True, 'shape': (2, 3, 2), 'descr': '>f4'}",
			npyEncode(f3, 4, binary.BigEndian)), []int{2, 3, 2}, c3},
		{"fortran 1-D", npyFile(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }\n",
			npyEncode(rowMajor[:3], 8, binary.LittleEndian)), []int{3}, rowMajor[:3]},
		{"v2.0", npyFile(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n",
			npyEncode(rowMajor, 8, binary.LittleEndian)), []int{2, 3}, rowMajor},
		{"v3.0 double quotes", npyFile(3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}",
			npyEncode(rowMajor[:3], 4, binary.LittleEndian)), []int{3}, rowMajor[:3]},
		{"python2 longs", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }",
			npyEncode(rowMajor, 8, binary.LittleEndian)), []int{2, 3}, rowMajor},
		{"scalar", npyFile(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (), }",
			npyEncode([]float64{-4.75}, 8, binary.BigEndian)), []int{}, []float64{-4.75}},
		{"empty fortran", npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (0, 3), }", nil),
			[]int{0, 3}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []func([]byte) io.Reader{
				func(b []byte) io.Reader { return bytes.NewReader(b) },
				func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
			} {
				got64, err := ReadNPY[float64](r(c.file))
				require.NoError(t, err)
				require.True(t, slices.Equal(c.shape, got64.Shape()), "shape %v", got64.Shape())
				require.Equal(t, len(c.want), got64.Size())
				if len(c.want) > 0 {
					require.Equal(t, c.want, got64.Data())
				}
				got32, err := ReadNPY[float32](r(c.file))
				require.NoError(t, err)
				require.True(t, slices.Equal(c.shape, got32.Shape()), "shape %v", got32.Shape())
				for i, v := range npyRowMajor(got32) {
					require.Equal(t, float32(c.want[i]), v)
				}
			}
		})
	}
}

// TestNPYConvert: a file of the other width is converted to T.
func TestNPYConvert(t *testing.T) {
	vals := []float64{1.0 / 3, 1e300, -1e-300, 2.5}
	f8 := npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", npyEncode(vals, 8, binary.LittleEndian))
	got, err := ReadNPY[float32](bytes.NewReader(f8))
	require.NoError(t, err)
	for i, v := range vals {
		assert.Equal(t, float32(v), got.Data()[i])
	}
	f4 := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", npyEncode(vals, 4, binary.LittleEndian))
	got64, err := ReadNPY[float64](bytes.NewReader(f4))
	require.NoError(t, err)
	for i, v := range vals {
		assert.Equal(t, float64(float32(v)), got64.Data()[i])
	}
}

// TestNPYSequential reads several arrays written back to back to one stream.
func TestNPYSequential(t *testing.T) {
	var buf bytes.Buffer
	a := FromSlice([]float64{1, 2, 3}, 3)
	b := FromSlice([]float64{4, 5, 6, 7}, 2, 2)
	require.NoError(t, WriteNPY(&buf, a))
	require.NoError(t, WriteNPY(&buf, b))
	r := npyHideLen(&buf)
	ga, err := ReadNPY[float64](r)
	require.NoError(t, err)
	gb, err := ReadNPY[float64](r)
	require.NoError(t, err)
	npyBitsEqual(t, a, ga, "first")
	npyBitsEqual(t, b, gb, "second")
	_, err = ReadNPY[float64](r)
	require.ErrorIs(t, err, ErrNPY)
}

// npyHideLen hides Len so ReadNPY cannot see the size up front.
func npyHideLen(r io.Reader) io.Reader { return struct{ io.Reader }{r} }

// npyMalformed lists broken inputs, each with the sentinel it must wrap and
// a fragment of the message.
var npyMalformed = []struct {
	name string
	file []byte
	want error
	msg  string
}{
	{"empty", nil, ErrNPY, "truncated magic"},
	{"bad magic", []byte("\x93NUMPZ\x01\x00\x00\x00"), ErrNPY, "bad magic"},
	{"version 4", npyFile(4, "{}", nil), ErrNPY, "version 4.0"},
	{"version 1.1", []byte("\x93NUMPY\x01\x01\x00\x00"), ErrNPY, "version 1.1"},
	{"truncated length", []byte("\x93NUMPY\x01\x00\x05"), ErrNPY, "truncated header length"},
	{"truncated header", []byte("\x93NUMPY\x01\x00\x50\x00{'descr'"), ErrNPY, "truncated header"},
	{"v2 huge header", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), ErrNPY, "header length 4294967295"},
	{"not a dict", npyFile(1, "['descr', '<f4']", nil), ErrNPY, "does not start with '{'"},
	{"missing shape", npyFile(1, "{'descr': '<f4', 'fortran_order': False}", nil), ErrNPY, `missing key "shape"`},
	{"extra key", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", nil), ErrNPY, `unexpected key "x"`},
	{"duplicate key", npyFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", nil), ErrNPY, "duplicate key"},
	{"unterminated", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()", nil), ErrNPY, "expected"},
	{"trailing", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", nil), ErrNPY, "trailing characters"},
	{"bad bool", npyFile(1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}", nil), ErrNPY, "True or False"},
	{"bool prefix", npyFile(1, "{'descr': '<f4', 'fortran_order': Falsey, 'shape': ()}", nil), ErrNPY, "True or False"},
	{"negative dim", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", nil), ErrNPY, "non-negative integer"},
	{"float dim", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", nil), ErrNPY, "expected ',' or ')'"},
	{"int not tuple", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': 3}", nil), ErrNPY, "not a tuple"},
	{"paren int", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", nil), ErrNPY, "trailing comma"},
	{"dim overflow", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", nil), ErrNPY, "out of range"},
	{"size overflow", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", nil), ErrNPY, npyOn32("too large", "out of range")},
	{"descr not string", npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}", nil), ErrNPY, "'descr' is not a string"},
	{"escape in string", npyFile(1, "{'descr': '<f\\4', 'fortran_order': False, 'shape': ()}", nil), ErrNPY, "'descr' is not a string"},
	{"uint32", npyFile(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,)}", []byte{1, 0, 0, 0}), ErrNPYType, `descr "<u4"`},
	{"int64 beyond exact", npyFile(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", []byte{1, 0, 0, 0, 0, 0, 0x20, 0}), ErrNPYType, "not exactly representable"},
	{"float16", npyFile(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (1,)}", []byte{1, 0}), ErrNPYType, `descr "<f2"`},
	{"big-endian int", npyFile(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (1,)}", []byte{1, 0, 0, 0}), ErrNPYType, `descr ">i4"`},
	{"short data", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", make([]byte, 11)), ErrNPY, "only 11 present"},
	{"huge shape no data", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,)}", make([]byte, 8)), ErrNPY, npyOn32("needs 4000000000000 bytes", "out of range")},
}

// npyOn32 picks the expected message: on 32-bit platforms a dimension
// above math.MaxInt32 is already out of range while parsing the shape.
func npyOn32(msg64, msg32 string) string {
	if strconv.IntSize == 32 {
		return msg32
	}
	return msg64
}

func TestNPYMalformed(t *testing.T) {
	for _, c := range npyMalformed {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadNPY[float32](bytes.NewReader(c.file))
			require.ErrorIs(t, err, c.want)
			require.Contains(t, err.Error(), c.msg)
			// Without Len the reader only finds out while reading; the
			// sentinel is the same.
			_, err = ReadNPY[float64](npyHideLen(bytes.NewReader(c.file)))
			require.ErrorIs(t, err, c.want)
		})
	}
}

// TestNPYTruncatedData: data cut short is ErrNPY and io.ErrUnexpectedEOF,
// whether the size is known up front or not.
func TestNPYTruncatedData(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteNPY(&buf, FromSlice(npyValues[float64](100), 10, 10)))
	raw := buf.Bytes()
	for _, cut := range []int{1, 7, 8, 500} {
		for _, r := range []io.Reader{bytes.NewReader(raw[:len(raw)-cut]), npyHideLen(bytes.NewReader(raw[:len(raw)-cut]))} {
			_, err := ReadNPY[float64](r)
			require.ErrorIs(t, err, ErrNPY)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		}
	}
}

// TestNPYLyingHeaderAllocation: a header that claims 2 GB (4 GB once
// converted to float64) followed by a trickle of data must not allocate more
// than a few chunks. The size fits a 32-bit int, so the test means the same
// on every platform.
func TestNPYLyingHeaderAllocation(t *testing.T) {
	file := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (500000000,)}", make([]byte, 1000))
	var err error
	n := allocated(func() { _, err = ReadNPY[float64](npyHideLen(bytes.NewReader(file))) })
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Less(t, n, uint64(4<<20), "allocated %d bytes", n)
}

// TestNPYReaderError: a failing reader's error comes back, not ErrNPY.
func TestNPYReaderError(t *testing.T) {
	boom := errors.New("boom")
	var buf bytes.Buffer
	require.NoError(t, WriteNPY(&buf, FromSlice(npyValues[float32](100), 100)))
	for _, n := range []int64{3, 20, 200} {
		r := io.MultiReader(io.LimitReader(bytes.NewReader(buf.Bytes()), n), iotest.ErrReader(boom))
		_, err := ReadNPY[float32](r)
		require.ErrorIs(t, err, boom)
		require.NotErrorIs(t, err, ErrNPY)
	}
}

type npyFailWriter struct{ n int }

func (w *npyFailWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestNPYWriteError(t *testing.T) {
	for _, n := range []int{0, 128, 128 + 4096} {
		err := WriteNPY(&npyFailWriter{n}, New[float32](100, 100))
		require.EqualError(t, err, "disk full")
	}
}

func TestNPYWriteNilPanics(t *testing.T) {
	require.PanicsWithError(t, "tensor: bad shape: WriteNPY: nil tensor", func() {
		_ = WriteNPY[float32](io.Discard, nil)
	})
}

// TestNPYLargeHeaderVersion2: a header over 64 KiB needs version 2.0 (a
// 4-byte length). No shape of MaxRank dimensions needs one, so the file is
// made by hand, padded with spaces as NumPy pads.
func TestNPYLargeHeaderVersion2(t *testing.T) {
	shape := make([]int, MaxRank)
	dims := make([]string, MaxRank)
	for i := range shape {
		shape[i] = 1
		dims[i] = "1"
	}
	body := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + strings.Join(dims, ", ") + "), }"
	body += strings.Repeat(" ", 70000-len(body)) + "\n"
	var raw []byte
	raw = append(raw, "\x93NUMPY\x02\x00"...)
	raw = binary.LittleEndian.AppendUint32(raw, uint32(len(body)))
	raw = append(raw, body...)
	raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(42))
	got, err := ReadNPY[float32](bytes.NewReader(raw))
	require.NoError(t, err)
	require.Equal(t, shape, got.Shape())
	require.Equal(t, []float32{42}, got.Data())
}

func TestNPYSaveLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.npy")
	src := FromSlice(npyValues[float64](12), 3, 4)
	require.NoError(t, SaveNPY(p, src))
	got, err := LoadNPY[float64](p)
	require.NoError(t, err)
	npyBitsEqual(t, src, got, "file")
	// Truncated on disk: the file size catches it before reading data.
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, raw[:len(raw)-1], 0o644))
	_, err = LoadNPY[float64](p)
	require.ErrorIs(t, err, ErrNPY)
	require.Contains(t, err.Error(), p)
	_, err = LoadNPY[float64](filepath.Join(dir, "missing.npy"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Error(t, SaveNPY(filepath.Join(dir, "no", "such", "dir.npy"), src))
}

func TestNPZRoundTrip(t *testing.T) {
	arrays := map[string]*Dense[float32]{
		"w":      FromSlice(npyValues[float32](12), 3, 4),
		"b":      FromSlice(npyValues[float32](4), 4),
		"scalar": FromSlice([]float32{3}),
		"empty":  New[float32](0, 5),
		"view":   {data: npyValues[float32](12), shape: []int{4, 3}, strides: []int{1, 4}},
	}
	var buf, buf2 bytes.Buffer
	require.NoError(t, WriteNPZ(&buf, arrays))
	require.NoError(t, WriteNPZ(&buf2, arrays))
	require.Equal(t, buf.Bytes(), buf2.Bytes(), "not deterministic")
	// Members in sorted order, stored, named name.npy.
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		require.Equal(t, zip.Store, f.Method)
	}
	require.Equal(t, []string{"b.npy", "empty.npy", "scalar.npy", "view.npy", "w.npy"}, names)
	got, err := ReadNPZ[float32](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Len(t, got, len(arrays))
	for k, v := range arrays {
		npyBitsEqual(t, v, got[k], k)
	}
	// By path.
	p := filepath.Join(t.TempDir(), "x.npz")
	require.NoError(t, SaveNPZ(p, arrays))
	got, err = LoadNPZ[float32](p)
	require.NoError(t, err)
	for k, v := range arrays {
		npyBitsEqual(t, v, got[k], k)
	}
}

// npzZipOf builds a zip archive with the given members and method.
func npzZipOf(t *testing.T, method uint16, members ...any) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(members); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: members[i].(string), Method: method})
		require.NoError(t, err)
		_, err = w.Write(members[i+1].([]byte))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestNPZDeflatedAndMalformed(t *testing.T) {
	var a bytes.Buffer
	src := FromSlice(npyValues[float64](6), 2, 3)
	require.NoError(t, WriteNPY(&a, src))
	good := a.Bytes()

	deflated := npzZipOf(t, zip.Deflate, "a.npy", good, "b.npy", good)
	got, err := ReadNPZ[float64](bytes.NewReader(deflated), int64(len(deflated)))
	require.NoError(t, err)
	npyBitsEqual(t, src, got["a"], "deflated a")
	npyBitsEqual(t, src, got["b"], "deflated b")

	bad := []struct {
		name string
		file []byte
		msg  string
	}{
		{"not a zip", []byte("hello, world"), "zip: not a valid zip file"},
		{"not npy member", npzZipOf(t, zip.Store, "a.txt", good), `member "a.txt" is not an .npy file`},
		{"trailing bytes", npzZipOf(t, zip.Deflate, "a.npy", append(slices.Clone(good), 1, 2)), "trailing bytes"},
		{"duplicate", npzZipOf(t, zip.Store, "a.npy", good, "a.npy", good), "duplicate member"},
		{"bad member", npzZipOf(t, zip.Store, "a.npy", good[:len(good)-3]), `member "a.npy"`},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadNPZ[float64](bytes.NewReader(c.file), int64(len(c.file)))
			require.ErrorIs(t, err, ErrNPY)
			require.Contains(t, err.Error(), c.msg)
		})
	}
	// A corrupted stored member fails its CRC.
	corrupt := npzZipOf(t, zip.Store, "a.npy", good)
	i := bytes.Index(corrupt, good[len(good)-8:])
	corrupt[i] ^= 0xff
	_, err = ReadNPZ[float64](bytes.NewReader(corrupt), int64(len(corrupt)))
	require.ErrorIs(t, err, ErrNPY)
	require.ErrorIs(t, err, zip.ErrChecksum)
}

func TestNPZPanics(t *testing.T) {
	require.PanicsWithError(t, `tensor: bad shape: WriteNPZ: nil tensor for "a"`, func() {
		_ = WriteNPZ(io.Discard, map[string]*Dense[float32]{"a": nil})
	})
	require.PanicsWithError(t, "tensor: bad shape: WriteNPZ: empty array name", func() {
		_ = WriteNPZ(io.Discard, map[string]*Dense[float32]{"": New[float32](1)})
	})
	p := filepath.Join(t.TempDir(), "never.npz")
	require.Panics(t, func() { _ = SaveNPZ(p, map[string]*Dense[float32]{"a": nil}) })
	_, err := os.Stat(p)
	require.ErrorIs(t, err, os.ErrNotExist, "SaveNPZ created the file before panicking")
}

// FuzzReadNPY: no input may panic; anything accepted must survive a write
// and read back unchanged.
func FuzzReadNPY(f *testing.F) {
	for _, shape := range npyShapes {
		n := 1
		for _, d := range shape {
			n *= d
		}
		var b32, b64 bytes.Buffer
		_ = WriteNPY(&b32, FromSlice(npyValues[float32](n), shape...))
		_ = WriteNPY(&b64, FromSlice(npyValues[float64](n), shape...))
		f.Add(b32.Bytes())
		f.Add(b64.Bytes())
	}
	for _, c := range npyMalformed {
		f.Add(c.file)
	}
	f.Add(npyFile(1, "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }", make([]byte, 24)))
	f.Add(npyFile(3, "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 1, 2), }", make([]byte, 32)))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range []io.Reader{bytes.NewReader(data), npyHideLen(bytes.NewReader(data))} {
			got, err := ReadNPY[float64](r)
			if err != nil {
				if !errors.Is(err, ErrNPY) && !errors.Is(err, ErrNPYType) {
					t.Fatalf("error wraps neither sentinel: %v", err)
				}
				continue
			}
			var buf bytes.Buffer
			if err := WriteNPY(&buf, got); err != nil {
				t.Fatal(err)
			}
			again, err := ReadNPY[float64](&buf)
			if err != nil {
				t.Fatalf("re-reading what we wrote: %v", err)
			}
			npyBitsEqual(t, got, again, "rewrite")
		}
		_, _ = ReadNPY[float32](bytes.NewReader(data))
	})
}

// BenchmarkNPY measures encoding and decoding of a 1M-element float32 array
// in memory (bytes/s of .npy data).
func BenchmarkNPY(b *testing.B) {
	const n = 1 << 20
	src := FromSlice(npyValues[float32](n), 1024, 1024)
	var buf bytes.Buffer
	_ = WriteNPY(&buf, src)
	raw := buf.Bytes()
	b.Run("op=write/size=1M/dtype=f4", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			buf.Reset()
			_ = WriteNPY(&buf, src)
		}
	})
	b.Run("op=read/size=1M/dtype=f4", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := ReadNPY[float32](bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
