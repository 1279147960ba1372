package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"github.com/adjoint-go/adjoint/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idxBytes encodes an IDX file of unsigned bytes.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, idxUbyte, byte(len(dims))})
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(t *testing.T, p []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write(p)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func write(t *testing.T, dir, name string, p []byte) string {
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, p, 0o644))
	return path
}

// synth returns n images of r×c pixels with pixel j of image i = (7i+j)%256
// and label i%10.
func synth(n, r, c int) (px, lb []byte) {
	px = make([]byte, n*r*c)
	for i := range n {
		for j := range r * c {
			px[i*r*c+j] = byte((7*i + j) % 256)
		}
	}
	lb = make([]byte, n)
	for i := range lb {
		lb[i] = byte(i % 10)
	}
	return px, lb
}

func TestReadSetRawAndGzip(t *testing.T) {
	const n, r, c = 13, 4, 3
	px, lb := synth(n, r, c)
	for _, compress := range []bool{false, true} {
		name := map[bool]string{false: "raw", true: "gzip"}[compress]
		t.Run("format="+name, func(t *testing.T) {
			dir := t.TempDir()
			img, lab := idxBytes([]int{n, r, c}, px), idxBytes([]int{n}, lb)
			if compress {
				img, lab = gz(t, img), gz(t, lab)
			}
			// The reader sniffs the content: a compressed file without a .gz
			// name must still be read.
			ds, err := ReadSet(write(t, dir, "i", img), write(t, dir, "l", lab))
			require.NoError(t, err)
			assert.Equal(t, n, ds.N)
			assert.Equal(t, r, ds.Rows)
			assert.Equal(t, c, ds.Cols)
			assert.Equal(t, px, ds.Images)
			assert.Equal(t, lb, ds.Labels)
			assert.Equal(t, px[5*r*c:6*r*c], ds.Image(5))

			x := make([]float32, 2*r*c)
			y := make([]int, 2)
			Gather(ds, []int{7, 2}, x, y)
			assert.Equal(t, []int{7, 2}, y)
			for j := range r * c {
				assert.InDelta(t, float64(px[7*r*c+j])/255, float64(x[j]), 1e-7)
				assert.InDelta(t, float64(px[2*r*c+j])/255, float64(x[r*c+j]), 1e-7)
			}
		})
	}
}

func TestLoadStandardNames(t *testing.T) {
	pxTr, lbTr := synth(20, 5, 5)
	pxTe, lbTe := synth(6, 5, 5)
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "raw", true: "gzip"}[compress], func(t *testing.T) {
			dir := t.TempDir()
			files := map[string][]byte{
				TrainImages: idxBytes([]int{20, 5, 5}, pxTr),
				TrainLabels: idxBytes([]int{20}, lbTr),
				TestImages:  idxBytes([]int{6, 5, 5}, pxTe),
				TestLabels:  idxBytes([]int{6}, lbTe),
			}
			for name, p := range files {
				if compress {
					name, p = name+".gz", gz(t, p)
				}
				write(t, dir, name, p)
			}
			train, test, err := Load(dir)
			require.NoError(t, err)
			assert.Equal(t, 20, train.N)
			assert.Equal(t, 6, test.N)
			assert.Equal(t, pxTe, test.Images)
			assert.Equal(t, lbTr, train.Labels)
			h := train.Head(3)
			assert.Equal(t, 3, h.N)
			assert.Equal(t, pxTr[:75], h.Images)
			assert.Equal(t, 20, train.Head(100).N)
		})
	}
	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		_, _, err := Load(dir)
		require.ErrorIs(t, err, ErrNotFound)
		assert.Contains(t, err.Error(), TrainImages)
		assert.Contains(t, err.Error(), dir)
	})
}

func TestCorruptFiles(t *testing.T) {
	px, lb := synth(4, 3, 3)
	good := idxBytes([]int{4, 3, 3}, px)
	cases := []struct {
		name   string
		images []byte
		labels []byte
		bad    string // which file the error must name: "img" or "lab"
		want   string // a fragment of the message
	}{
		{"bad magic", append([]byte{1, 2}, good[2:]...), idxBytes([]int{4}, lb), "img", "bad magic"},
		{"wrong element type", append([]byte{0, 0, 0x0d}, good[3:]...), idxBytes([]int{4}, lb), "img", "element type"},
		{"images with 2 dims", idxBytes([]int{4, 9}, px), idxBytes([]int{4}, lb), "img", "3 (count, rows, cols)"},
		{"labels with 2 dims", good, idxBytes([]int{2, 2}, lb), "lab", "want 1"},
		{"truncated data", good[:len(good)-1], idxBytes([]int{4}, lb), "img", "truncated"},
		{"truncated header", good[:9], idxBytes([]int{4}, lb), "img", "truncated header"},
		{"empty file", nil, idxBytes([]int{4}, lb), "img", "truncated header"},
		{"trailing bytes", append(bytes.Clone(good), 0), idxBytes([]int{4}, lb), "img", "past"},
		{"count mismatch", good, idxBytes([]int{3}, lb[:3]), "img", "3 labels"},
		{"label out of range", good, idxBytes([]int{4}, []byte{0, 1, 10, 3}), "lab", "label 10 at index 2"},
		{"huge header", idxBytes([]int{1 << 20, 1 << 10, 1 << 10}, nil), idxBytes([]int{4}, lb), "img", "more than"},
	}
	for _, tc := range cases {
		for _, compress := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "/raw", true: "/gzip"}[compress], func(t *testing.T) {
				dir := t.TempDir()
				img, lab := tc.images, tc.labels
				if compress {
					img, lab = gz(t, img), gz(t, lab)
				}
				ip, lp := write(t, dir, "img", img), write(t, dir, "lab", lab)
				_, err := ReadSet(ip, lp)
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrFormat)
				assert.Contains(t, err.Error(), map[string]string{"img": ip, "lab": lp}[tc.bad])
				assert.Contains(t, err.Error(), tc.want)
			})
		}
	}
	t.Run("corrupt gzip stream", func(t *testing.T) {
		dir := t.TempDir()
		z := gz(t, good)
		z[len(z)/2] ^= 0xff
		p := write(t, dir, "img", z)
		_, _, _, _, err := ReadImages(p)
		require.ErrorIs(t, err, ErrFormat)
		assert.Contains(t, err.Error(), p)
	})
	t.Run("bad gzip header", func(t *testing.T) {
		dir := t.TempDir()
		p := write(t, dir, "img", []byte{0x1f, 0x8b, 0, 0})
		_, _, _, _, err := ReadImages(p)
		require.ErrorIs(t, err, ErrFormat)
		assert.Contains(t, err.Error(), p)
	})
}

func TestEscapePath(t *testing.T) {
	assert.Equal(t, filepath.FromSlash("github.com/petar/!go!m!n!i!s!t"), escapePath(Module))
}

// TestDefaultDir runs against the real module cache. The data module is in
// adjoint's go.mod, so it is only missing when the cache was never filled.
func TestDefaultDir(t *testing.T) {
	testenv.MustHaveExec(t)
	dir, err := DefaultDir()
	if errors.Is(err, ErrNotFound) {
		t.Skipf("MNIST module not in the module cache: %v", err)
	}
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(dir, "data"), dir)
	_, err = findFile(dir, TestLabels)
	require.NoError(t, err)
	labels, err := ReadLabels(filepath.Join(dir, TestLabels+".gz"))
	require.NoError(t, err)
	assert.Len(t, labels, 10000)
}

// TestCacheFallback checks the path built without `go list` agrees with
// the go command's answer.
func TestCacheFallback(t *testing.T) {
	testenv.MustHaveExec(t)
	dir, err := DefaultDir()
	if errors.Is(err, ErrNotFound) {
		t.Skipf("MNIST module not in the module cache: %v", err)
	}
	require.NoError(t, err)
	found := false
	for _, d := range cacheDirs() {
		if filepath.Join(d, "data") == dir {
			found = true
		}
	}
	assert.True(t, found, "go list gave %s; cache candidates %v", dir, cacheDirs())
}
