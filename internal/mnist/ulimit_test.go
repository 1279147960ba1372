package mnist

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/adjoint-go/adjoint/internal/testenv"
)

// TestCraftedUnderUlimit is issue 9's headline target for the IDX reader:
// under `ulimit -v 3000000` (3 GB of address space) every crafted file is
// an error, and a valid gzip file inflating to the largest size allowed,
// 256 MiB, is read (one inflating to 1 GiB used to cost about 4 GiB of
// bytes.Buffer doubling).
func TestCraftedUnderUlimit(t *testing.T) {
	if testenv.IsLimitedChild() {
		idxChild(t)
		return
	}
	out, err := testenv.RunLimited(t, "TestCraftedUnderUlimit", 3000000)
	if err != nil {
		t.Fatalf("child failed under ulimit -v 3000000: %v\n%s", err, out)
	}
	for name := range idxCrafted(t) {
		if !strings.Contains(out, "rejected "+name+":") {
			t.Errorf("no result for %q in child output:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "read 268435456 bytes from a ") {
		t.Errorf("the 1 GiB gzip file was not read:\n%s", out)
	}
}

func idxChild(t *testing.T) {
	files := idxCrafted(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		_, err := ReadIDX(bytes.NewReader(files[name]), name)
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("%s: %v", name, err)
		}
		fmt.Printf("rejected %s: %v\n", name, err)
	}
	files = nil
	big := gzipOf(t, []int{maxElems}, maxElems)
	x, err := ReadIDX(bytes.NewReader(big), "big.gz")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("read %d bytes from a %d-byte gzip file\n", len(x.Data), len(big))
}
