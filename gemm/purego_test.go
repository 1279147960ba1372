package gemm

import (
	"github.com/adjoint-go/adjoint/internal/testenv"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPureGoHasNoAssembly checks that the purego build tag removes every
// assembly file from every package of the module, as Go's
// crypto/purego_test.go does for the standard library: purego must mean no
// assembly at all, for toolchains (gccgo, TinyGo, a sanitizer) that cannot
// take Plan 9 assembly.
func TestPureGoHasNoAssembly(t *testing.T) {
	testenv.MustHaveExec(t)
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(gotool); err != nil {
		if gotool, err = exec.LookPath("go"); err != nil {
			t.Skip("go tool not found:", err)
		}
	}
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	// Check for every architecture that has assembly, not only the host's.
	goarchs := []string{"amd64", "arm64"}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		goarchs = append(goarchs, runtime.GOARCH)
	}
	for _, goarch := range goarchs {
		cmd := exec.Command(gotool, "list", "-e", "-tags", "purego", "-f", "{{.ImportPath}}: {{.SFiles}}",
			"github.com/adjoint-go/adjoint/...")
		cmd.Env = append(cmd.Environ(), "GOARCH="+goarch, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOARCH=%s go list: %v\n%s", goarch, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 0 || !strings.Contains(string(out), "adjoint/gemm:") {
			t.Fatalf("GOARCH=%s go list did not list package gemm:\n%s", goarch, out)
		}
		for _, line := range lines {
			if !strings.HasSuffix(line, ": []") {
				t.Errorf("GOARCH=%s -tags purego still assembles: %s", goarch, line)
			}
		}
	}
}
