package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// corpus is the training text: the Go files of a GOROOT's src tree.
type corpus struct {
	root       string // the src folder read
	files      int
	train, val []byte
}

// goroot returns the GOROOT the go tool reports, or the one this binary
// was built with if the go tool cannot be run.
func goroot() string {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if s := strings.TrimSpace(string(out)); s != "" {
			return s
		}
	}
	return runtime.GOROOT() //nolint:staticcheck // fallback only
}

// goFiles returns the paths, relative to src and slash-separated, of every
// .go file under src that is not a test (_test.go) and not inside a
// testdata folder, sorted bytewise (the order Python's sorted() gives the
// same strings, so a reference script reads the same bytes).
func goFiles(src string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" && path != src {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !d.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(files)
	return files, err
}

// readCorpus concatenates the Go files of root/src in path order and
// splits the bytes: the first 90% for training, the rest for validation.
// Each split must hold more than minSplit bytes.
func readCorpus(root string, minSplit int) (*corpus, error) {
	src := filepath.Join(root, "src")
	if st, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("GOROOT %s: %w", root, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("GOROOT %s: src is not a folder", root)
	}
	files, err := goFiles(src)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no Go files under " + src)
	}
	var data []byte
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		data = append(data, b...)
	}
	n := len(data) * 9 / 10
	c := &corpus{root: src, files: len(files), train: data[:n], val: data[n:]}
	if len(c.train) <= minSplit || len(c.val) <= minSplit {
		return nil, fmt.Errorf("corpus of %d bytes from %d files under %s is too small: each split needs more than %d bytes (context + 1)", len(data), len(files), src, minSplit)
	}
	return c, nil
}
