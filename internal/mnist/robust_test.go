package mnist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// gzipOf compresses the IDX header for dims followed by n zero bytes,
// streaming so that a large n costs no memory here.
func gzipOf(t testing.TB, dims []int, n int) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	require.NoError(t, err)
	_, err = w.Write(idxBytes(dims, nil))
	require.NoError(t, err)
	zero := make([]byte, 1<<20)
	for n > 0 {
		m := min(n, len(zero))
		_, err = w.Write(zero[:m])
		require.NoError(t, err)
		n -= m
	}
	require.NoError(t, w.Close())
	return b.Bytes()
}

// idxCrafted returns small files whose headers or streams claim far more
// than is sensible (issue 9 item 2).
func idxCrafted(t testing.TB) map[string][]byte {
	return map[string][]byte{
		// Declares 256 MiB (the most allowed) and holds 1 MiB.
		"gzip short": gzipOf(t, []int{1 << 28}, 1<<20),
		// Declares 1 GiB (more than allowed) and holds 1 MiB.
		"gzip 1 GiB claim": gzipOf(t, []int{1 << 30}, 1<<20),
		// Declares 1 MiB and inflates to 64 MiB: must stop at 1 MiB + 1.
		"gzip long": gzipOf(t, []int{1 << 20}, 64<<20),
		// Raw: declares 256 MiB, holds 100 bytes.
		"raw short": idxBytes([]int{1 << 14, 1 << 14}, make([]byte, 100)),
		// Raw: dimensions beyond the element limit.
		"raw huge dims": idxBytes([]int{1 << 31, 1 << 31, 4}, nil),
	}
}

// TestIDXCrafted: every crafted file is an ErrFormat error having
// allocated a bounded amount: about twice what it really holds, plus the
// 1 MiB start, never what it claims.
func TestIDXCrafted(t *testing.T) {
	for name, file := range idxCrafted(t) {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = ReadIDX(bytes.NewReader(file), name) })
			require.ErrorIs(t, err, ErrFormat)
			t.Logf("%d-byte file: %v; allocated %d bytes", len(file), err, n)
			assert.Less(t, n, uint64(4<<20)+2*uint64(len(file)))
		})
	}
}

// TestIDXGzipInflates: a valid gzip file inflating to 64 MiB (a few
// hundred KiB hold it) used to cost four times that in bytes.Buffer
// doubling (a 1 MB file inflating to 1 GiB, about 4 GiB). The
// result itself is unavoidable; the reader may allocate at most about
// twice it (the doubling, capped at the declared size; in fact 1.5×).
func TestIDXGzipInflates(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 64 MiB")
	}
	const n = 64 << 20
	file := gzipOf(t, []int{n}, n)
	var x *IDX
	var err error
	a := allocated(func() { x, err = ReadIDX(bytes.NewReader(file), "big.gz") })
	require.NoError(t, err)
	require.Len(t, x.Data, n)
	t.Logf("%d-byte gzip inflating to %d: allocated %d bytes (%.2f× the data)", len(file), n, a, float64(a)/n)
	assert.Less(t, a, uint64(2*n+4<<20))
}

// idxAllocBound is what ReadIDX of an n-byte input may allocate: gzip
// expands at most about 1032 times, the buffer doubles (2×), plus the
// 1 MiB start and bufio's and gzip's own buffers.
func idxAllocBound(n int) uint64 { return uint64(n)*1032*2 + 4<<20 }

// FuzzReadIDX: no input may panic or allocate beyond idxAllocBound; any
// file accepted must encode back to the same bytes (raw) or the same
// contents (gzip).
func FuzzReadIDX(f *testing.F) {
	for _, file := range idxCrafted(f) {
		if len(file) < 1<<20 {
			f.Add(file)
		}
	}
	px, lb := synth(3, 2, 2)
	f.Add(idxBytes([]int{3, 2, 2}, px))
	f.Add(idxBytes([]int{3}, lb))
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(idxBytes([]int{3, 2, 2}, px))
	_ = zw.Close()
	f.Add(z.Bytes())
	f.Add(idxBytes([]int{0, 5}, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		var x *IDX
		var err error
		for _, r := range []io.Reader{bytes.NewReader(data), struct{ io.Reader }{bytes.NewReader(data)}} {
			n := allocated(func() { x, err = ReadIDX(r, "fuzz") })
			if n > idxAllocBound(len(data)) {
				t.Fatalf("%d-byte input allocated %d bytes (bound %d)", len(data), n, idxAllocBound(len(data)))
			}
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("error does not wrap ErrFormat: %v", err)
				}
				continue
			}
			enc := idxBytes(x.Dims, x.Data)
			if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
				again, err := ReadIDX(bytes.NewReader(enc), "again")
				if err != nil {
					t.Fatalf("re-reading: %v", err)
				}
				if !bytes.Equal(again.Data, x.Data) || len(again.Dims) != len(x.Dims) {
					t.Fatalf("re-read differs")
				}
				continue
			}
			if !bytes.Equal(enc, data) {
				t.Fatalf("re-encoding differs:\n% x\n% x", enc, data)
			}
		}
	})
}
