package tensor

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/adjoint-go/adjoint/internal/testenv"
)

// TestCraftedUnderUlimit is issue 9's headline target for the .npy/.npz
// readers: under `ulimit -v 3000000` (3 GB of address space) every
// crafted file is an error, not a crash. Before the fix the 1 TiB member
// was a fatal out-of-memory (no recover can catch it) and the 8 GiB one
// needed 8.4 GB; either kills the child here.
func TestCraftedUnderUlimit(t *testing.T) {
	if testenv.IsLimitedChild() {
		craftedChild(t)
		return
	}
	out, err := testenv.RunLimited(t, "TestCraftedUnderUlimit", 3000000)
	if err != nil {
		t.Fatalf("child failed under ulimit -v 3000000: %v\n%s", err, out)
	}
	for name := range npzCrafted(t) {
		if !bytes.Contains([]byte(out), []byte("rejected "+name+":")) {
			t.Errorf("no result for %q in child output:\n%s", name, out)
		}
	}
}

func craftedChild(t *testing.T) {
	files := npzCrafted(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	dir := t.TempDir()
	for _, name := range names {
		file := files[name]
		_, err := ReadNPZ[float64](bytes.NewReader(file), int64(len(file)))
		if !errors.Is(err, ErrNPY) {
			t.Fatalf("%s: ReadNPZ: %v", name, err)
		}
		p := filepath.Join(dir, "c.npz")
		if err := os.WriteFile(p, file, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadNPZ[float32](p); !errors.Is(err, ErrNPY) {
			t.Fatalf("%s: LoadNPZ: %v", name, err)
		}
		fmt.Printf("rejected %s: %v\n", name, err)
	}
}
