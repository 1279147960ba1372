package tensor

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requirePanicIs runs f and requires a panic whose value is an error
// wrapping want and whose message contains each of msgs.
func requirePanicIs(t *testing.T, want error, f func(), msgs ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		require.NotNil(t, r, "no panic")
		err, ok := r.(error)
		require.True(t, ok, "panic value %v (%T) is not an error", r, r)
		require.ErrorIs(t, err, want)
		for _, m := range msgs {
			require.Contains(t, err.Error(), m)
		}
	}()
	f()
}

// TestShapeOverflow covers issue 9 item 6's constructors: element counts
// and strides used to wrap round (New(1<<62+1, 4) returned a tensor backed
// by 4 elements, FromSlice(nil, 1<<32, 1<<32) was accepted).
func TestShapeOverflow(t *testing.T) {
	half := 1 << (bits.UintSize / 2) // 1<<32 on 64-bit, 1<<16 on 32-bit
	requirePanicIs(t, ErrShape, func() { New[float32](math.MaxInt/4+1, 4) }, "New: shape", "more than")
	if bits.UintSize == 64 {
		s := 62 // a variable, so that the 32-bit build compiles
		requirePanicIs(t, ErrShape, func() { New[float32](1<<s+1, 4) }, "New: shape [4611686018427387905 4]")
	}
	requirePanicIs(t, ErrShape, func() { FromSlice[float64](nil, half, half) }, "FromSlice: shape", "more than")
	requirePanicIs(t, ErrShape, func() { New[float64](0, half, half) }, "New: shape", "more than")
	requirePanicIs(t, ErrShape, func() { New[float64](-1, 2) }, "New: negative dimension in shape [-1 2]")
	requirePanicIs(t, ErrShape, func() { Scalar[float32](1).BroadcastTo(half, half) }, "BroadcastTo: shape")
	requirePanicIs(t, ErrShape, func() { New[float32](0).Reshape(half, half, 0) }, "Reshape: shape")
	requirePanicIs(t, ErrShape, func() { New[float32](0).Reshape(-1, half, half, 0) }, "Reshape: shape")

	// The largest counts still work where they fit.
	assert.Equal(t, 0, New[float64](0, MaxElements[float64]()).Size())
	assert.Equal(t, []int{0, 3}, New[float64](0).Reshape(-1, 3).Shape())
	assert.Equal(t, math.MaxInt/4, MaxElements[float32]())
	assert.Equal(t, math.MaxInt/8, MaxElements[float64]())
}

// TestArangeBadBounds: Arange(0, Inf, 1), Arange(0, 1e30, 1) and
// Arange(0, NaN, 1) returned empty tensors; they must panic clearly.
func TestArangeBadBounds(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range [][3]float64{{0, inf, 1}, {0, nan, 1}, {nan, 1, 1}, {-inf, 0, 1}, {0, 1, nan}, {0, 1, inf}, {0, 1, 0}} {
		requirePanicIs(t, ErrShape, func() { Arange(c[0], c[1], c[2]) }, "Arange: start")
		requirePanicIs(t, ErrShape, func() { Arange(float32(c[0]), float32(c[1]), float32(c[2])) }, "Arange: start")
	}
	requirePanicIs(t, ErrShape, func() { Arange(0, 1e30, 1.0) }, "Arange(0, 1e+30, 1): 1e+30 elements exceeds")
	requirePanicIs(t, ErrShape, func() { Arange[float32](0, 1e30, 1) }, "elements exceeds")
	requirePanicIs(t, ErrShape, func() { Arange[float32](-3e38, 3e38, 1) }, "elements exceeds")
	assert.Equal(t, []float64{0, 1, 2, 3, 4}, Arange(0, 5, 1.0).Data())
	assert.Equal(t, []float64{5, 3, 1}, Arange(5, 0, -2.0).Data())
	assert.Equal(t, 0, Arange(5, 0, 1.0).Size())
	assert.Equal(t, 0, Arange(0, 1e30, -1.0).Size(), "a huge negative count is empty, as in NumPy")
}

// TestNilArguments: Add(nil, x) was a nil-pointer dereference; every
// entry point with tensor arguments panics with ErrShape naming the
// function and the argument.
func TestNilArguments(t *testing.T) {
	x := New[float32](2, 2)
	var nilT *Dense[float32]
	for name, c := range map[string]struct {
		f    func()
		want string
	}{
		"Add(nil, x)":         {func() { Add(nil, x) }, "Add: a is nil"},
		"Add(x, nil)":         {func() { Add(x, nil) }, "Add: b is nil"},
		"Mul(x, nil)":         {func() { Mul(x, nil) }, "Mul: b is nil"},
		"x.Add(nil, x)":       {func() { x.Add(nil, x) }, "Add: a is nil"},
		"nil.Add(x, x)":       {func() { nilT.Add(x, x) }, "Add: destination is nil"},
		"Neg(nil)":            {func() { Neg(nilT) }, "Neg: a is nil"},
		"x.Exp(nil)":          {func() { x.Exp(nil) }, "Exp: a is nil"},
		"AddScalar(nil, 1)":   {func() { AddScalar(nilT, 1) }, "AddScalar: a is nil"},
		"nil.Fill(1)":         {func() { nilT.Fill(1) }, "Fill: destination is nil"},
		"Softmax(nil, 0)":     {func() { Softmax(nilT, 0) }, "Softmax: a is nil"},
		"x.LogSoftmax(nil)":   {func() { x.LogSoftmax(nil, 0) }, "LogSoftmax: a is nil"},
		"LogSumExpAxis(nil)":  {func() { LogSumExpAxis(nilT, 0, false) }, "LogSumExpAxis: a is nil"},
		"MaxAxis(nil)":        {func() { MaxAxis(nilT, 0, false) }, "MaxAxis: a is nil"},
		"SumAxis(nil)":        {func() { SumAxis(nilT, 0, false) }, "SumAxis: a is nil"},
		"MeanAxis(nil)":       {func() { MeanAxis(nilT, 0, true) }, "MeanAxis: a is nil"},
		"x.SumTo(nil)":        {func() { x.SumTo(nil) }, "SumTo: src is nil"},
		"SumTo(nil)":          {func() { SumTo(nilT, 2) }, "SumTo: src is nil"},
		"SumAll(nil)":         {func() { SumAll(nilT) }, "SumAll: a is nil"},
		"MeanAll(nil)":        {func() { MeanAll(nilT) }, "MeanAll: a is nil"},
		"MaxAll(nil)":         {func() { MaxAll(nilT) }, "MaxAll: a is nil"},
		"ArgMaxAxis(nil)":     {func() { ArgMaxAxis(nil, nilT, 0) }, "ArgMaxAxis: a is nil"},
		"MatMul(nil, x)":      {func() { MatMul(nil, x) }, "MatMul: a is nil"},
		"MatMul(x, nil)":      {func() { MatMul(x, nil) }, "MatMul: b is nil"},
		"nil.MatMul(x, x)":    {func() { nilT.MatMul(x, x) }, "MatMul: destination is nil"},
		"x.Gemm(1, x, nil,0)": {func() { x.Gemm(1, x, nil, 0) }, "Gemm: b is nil"},
	} {
		t.Run(name, func(t *testing.T) { requirePanicIs(t, ErrShape, c.f, c.want) })
	}
}

// TestNPYStrideOverflow: ReadNPY accepted shape (0, 2^62, 2^62), whose
// element count is 0 but whose strides overflow.
func TestNPYStrideOverflow(t *testing.T) {
	half := 1 << (bits.UintSize/2 - 1)
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (0, %d, %d)}", half, half)
	if bits.UintSize == 64 {
		hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4611686018427387904)}"
	}
	_, err := ReadNPY[float32](bytes.NewReader(npyFile(1, hdr, nil)))
	require.ErrorIs(t, err, ErrNPY)
	require.Contains(t, err.Error(), "too large")
	// A zero dimension with modest others is fine.
	got, err := ReadNPY[float32](bytes.NewReader(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1000, 1000)}", nil)))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1000, 1000}, got.Shape())
}

// TestLoadNPYTrailing: LoadNPY accepted bytes after the array, which
// ReadNPZ rejects inside a member.
func TestLoadNPYTrailing(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteNPY(&b, FromSlice([]float32{1, 2, 3}, 3)))
	p := filepath.Join(t.TempDir(), "a.npy")
	require.NoError(t, os.WriteFile(p, append(b.Bytes(), 0), 0o644))
	_, err := LoadNPY[float32](p)
	require.ErrorIs(t, err, ErrNPY)
	require.Contains(t, err.Error(), "trailing bytes after the array")
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	got, err := LoadNPY[float32](p)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3}, got.Data())
}

// npzRaw builds a one-member archive whose zip header declares the given
// sizes, whatever payload really is (zip.Writer.CreateRaw writes them as
// told): the crafted checkpoints of issue 9 item 1.
func npzRaw(t testing.TB, method uint16, compressed, uncompressed uint64, payload []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "w.npy", Method: method, CompressedSize64: compressed, UncompressedSize64: uncompressed})
	require.NoError(t, err)
	_, err = w.Write(payload)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// deflated compresses p.
func deflated(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	require.NoError(t, err)
	_, err = w.Write(p)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// npzCrafted returns the crafted archives: small files whose headers
// declare far more than they hold.
func npzCrafted(t testing.TB) map[string][]byte {
	const tib, gib8 = 1 << 40, 8 << 30
	npyOf := func(elems uint64) []byte {
		return npyFile(1, fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d,)}", elems), make([]byte, 1024))
	}
	small := npyOf(tib / 4)
	inflating := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (268435456,)}", make([]byte, 1<<20)) // 1 GiB claimed, 1 MiB there
	z := deflated(t, inflating)
	tibLong := npyFile(1, fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d,)}", uint64(tib/4)), make([]byte, 1<<20))
	return map[string][]byte{
		"stored 1 TiB":          npzRaw(t, zip.Store, tib, tib, small),
		"stored 8 GiB":          npzRaw(t, zip.Store, gib8, gib8, npyOf(gib8/4)),
		"stored sizes disagree": npzRaw(t, zip.Store, uint64(len(small)), tib, small),
		"deflate 1 TiB claim":   npzRaw(t, zip.Deflate, uint64(len(deflated(t, small))), tib, deflated(t, small)),
		"deflate short data":    npzRaw(t, zip.Deflate, uint64(len(z)), 1<<30+128, z),
		// Both sizes lie, within deflate's ratio: archive/zip hands out the
		// .npy header, which claims 1 TiB, before the stream runs dry.
		"deflate both sizes lie": npzRaw(t, zip.Deflate, 2<<30, tib+4096, deflated(t, tibLong)),
		"deflate 1 GiB claim":    npzRaw(t, zip.Deflate, 2<<30, 1<<30+128, z),
	}
}

// allocated returns the bytes allocated while f runs: the least of three
// runs, since TotalAlloc counts the whole process (another test's goroutine,
// the testing framework) and, under the race detector, sync.Pool drops items
// at random, so encoding/json's pooled buffers are sometimes allocated anew.
// f must do the same work each time.
func allocated(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestNPZCrafted: a 1,264-byte .npz declaring 1 TiB was a fatal
// out-of-memory in ReadNPZ (no recover can catch it), and one declaring
// 8 GiB reached 8.4 GB before failing. Each crafted file must fail with
// ErrNPY having allocated only in proportion to what it holds.
func TestNPZCrafted(t *testing.T) {
	for name, file := range npzCrafted(t) {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = ReadNPZ[float64](bytes.NewReader(file), int64(len(file))) })
			require.ErrorIs(t, err, ErrNPY)
			t.Logf("%d-byte file: %v; allocated %d bytes", len(file), err, n)
			// The one that really inflates to 1 MiB may grow its result to
			// a few times that (float32 to float64, append's growth).
			assert.Less(t, n, uint64(16<<20))

			p := filepath.Join(t.TempDir(), "c.npz")
			require.NoError(t, os.WriteFile(p, file, 0o644))
			_, err = LoadNPZ[float32](p)
			require.ErrorIs(t, err, ErrNPY)
		})
	}
}

// npzAllocBound is the allocation a ReadNPZ of an n-byte archive may make:
// deflate expands at most deflateMaxRatio times; the result may grow to
// about three times the inflated bytes (float32 read as float64, append's
// growth, the Fortran-order copy); plus fixed buffers (1 MiB header
// limit, 64 KiB chunks, the zip reader's).
func npzAllocBound(n int) uint64 { return uint64(n)*deflateMaxRatio*4 + 8<<20 }

// FuzzReadNPZ: no archive may panic or allocate beyond npzAllocBound; an
// archive that is accepted must survive WriteNPZ and ReadNPZ unchanged.
func FuzzReadNPZ(f *testing.F) {
	for _, file := range npzCrafted(f) {
		f.Add(file)
	}
	var good bytes.Buffer
	arrays := map[string]*Dense[float64]{
		"a": FromSlice(npyValues[float64](6), 2, 3),
		"b": Scalar(math.Inf(-1)),
		"c": New[float64](0, 4),
	}
	require.NoError(f, WriteNPZ(&good, arrays))
	f.Add(good.Bytes())
	var one bytes.Buffer
	require.NoError(f, WriteNPY(&one, FromSlice(npyValues[float32](5), 5)))
	f.Add(npzRaw(f, zip.Deflate, uint64(len(deflated(f, one.Bytes()))), uint64(one.Len()), deflated(f, one.Bytes())))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got map[string]*Dense[float64]
		var err error
		n := allocated(func() { got, err = ReadNPZ[float64](bytes.NewReader(data), int64(len(data))) })
		if n > npzAllocBound(len(data)) {
			t.Fatalf("%d-byte archive allocated %d bytes (bound %d)", len(data), n, npzAllocBound(len(data)))
		}
		if err != nil {
			if !errors.Is(err, ErrNPY) && !errors.Is(err, ErrNPYType) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := WriteNPZ(&buf, got); err != nil {
			t.Fatal(err)
		}
		again, err := ReadNPZ[float64](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("re-reading what we wrote: %v", err)
		}
		if len(again) != len(got) {
			t.Fatalf("%d arrays, then %d", len(got), len(again))
		}
		for k, v := range got {
			npyBitsEqual(t, v, again[k], k)
		}
	})
}
