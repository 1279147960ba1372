package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/testenv"
)

// craftedCheckpoint is a .npz of about 1.2 kB whose member claims a
// 1 TiB float32 array (deflated, both zip sizes lying): -load of it was a
// fatal out-of-memory.
func craftedCheckpoint(t testing.TB) []byte {
	var npy bytes.Buffer
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (274877906944,)}"
	npy.WriteString("\x93NUMPY\x01\x00")
	npy.Write([]byte{byte(len(hdr)), byte(len(hdr) >> 8)})
	npy.WriteString(hdr)
	npy.Write(make([]byte, 1<<20))
	var z bytes.Buffer
	fw, err := flate.NewWriter(&z, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(npy.Bytes())
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "fc1.weight.npy", Method: zip.Deflate, CompressedSize64: 2 << 30, UncompressedSize64: 1<<40 + 4096})
	require.NoError(t, err)
	_, err = w.Write(z.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestBadRunsUnderUlimit is issue 9's headline target for the command:
// under `ulimit -v 3000000` every bad flag, bad data shape and crafted
// checkpoint is a one-line error, not a crash (1x16777216-pixel images
// built a 32 GiB model; -hidden 1e9 and -threads 1e8 took gigabytes; the
// checkpoint below was a fatal out-of-memory).
func TestBadRunsUnderUlimit(t *testing.T) {
	cases := []string{"huge image", "-hidden 1000000000", "-threads 100000000", "-lr Inf", "-batch 100000000", "crafted -load"}
	if testenv.IsLimitedChild() {
		small := writeSet(t, 20, 10, 4, 4)
		ckpt := filepath.Join(t.TempDir(), "evil.npz")
		require.NoError(t, os.WriteFile(ckpt, craftedCheckpoint(t), 0o644))
		args := map[string][]string{
			"huge image":         {"-data", writeSet(t, 1, 1, 1, 1<<24)},
			"-hidden 1000000000": {"-data", small, "-hidden", "1000000000"},
			"-threads 100000000": {"-data", small, "-threads", "100000000"},
			"-lr Inf":            {"-data", small, "-lr", "Inf"},
			"-batch 100000000":   {"-data", small, "-batch", "100000000"},
			"crafted -load":      {"-data", small, "-load", ckpt, "-hidden", "8"},
		}
		for _, name := range cases {
			var out bytes.Buffer
			_, err := run(context.Background(), append(args[name], "-quiet"), &out, &out)
			if err == nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s: want a one-line error, got %v", name, err)
			}
			fmt.Printf("refused %s: %v\n", name, err)
		}
		return
	}
	out, err := testenv.RunLimited(t, "TestBadRunsUnderUlimit", 3000000)
	if err != nil {
		t.Fatalf("child failed under ulimit -v 3000000: %v\n%s", err, out)
	}
	for _, name := range cases {
		if !strings.Contains(out, "refused "+name+":") {
			t.Errorf("no result for %q in child output:\n%s", name, out)
		}
	}
	t.Log(out)
}
