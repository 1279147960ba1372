package dispatch_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/dispatch"
	"github.com/adjoint-go/adjoint/internal/testenv"

	// Linked for their registrations.
	_ "github.com/adjoint-go/adjoint/autograd"
	_ "github.com/adjoint-go/adjoint/internal/math32"
	_ "github.com/adjoint-go/adjoint/optim"
	_ "github.com/adjoint-go/adjoint/tensor"
)

// withAsm is every package of the module with assembly: each must register.
var withAsm = []string{"autograd", "gemm", "internal/math32", "optim", "tensor"}

func TestEveryPackageRegisters(t *testing.T) {
	for _, p := range withAsm {
		require.Contains(t, dispatch.Packages(), p)
	}
}

// TestForceEveryLevel forces every package to every level it can run here,
// through the registry, and checks that the package reports it.
func TestForceEveryLevel(t *testing.T) {
	for _, p := range dispatch.Packages() {
		prev := dispatch.Current(p)
		for _, l := range dispatch.Available(p) {
			require.NoError(t, dispatch.Set(p, l), p)
			require.Equal(t, l, dispatch.Current(p), p)
		}
		require.NoError(t, dispatch.Set(p, prev))
	}
	// gemm's own switch and the registry are the same state.
	prev := gemm.Kernel()
	defer func() { require.NoError(t, gemm.SetKernel(prev)) }()
	for _, name := range gemm.Kernels() {
		require.NoError(t, gemm.SetKernel(name))
		require.Equal(t, name, dispatch.Current("gemm").String())
	}
}

// expected returns the level package p must run when level req is
// requested: the best it has code for that is not above req.
func expected(p string, req dispatch.Level) dispatch.Level {
	best := dispatch.Generic
	for _, l := range dispatch.Available(p) {
		if l <= req {
			best = l
		}
	}
	return best
}

// TestChosenAtStartup checks the choice every package made at start-up
// against the requested level. CI sets ADJOINT_EXPECT_KERNEL to the level an
// emulated CPU must get (neon under qemu-aarch64).
func TestChosenAtStartup(t *testing.T) {
	req := dispatch.Requested()
	if want := os.Getenv("ADJOINT_EXPECT_KERNEL"); want != "" {
		require.Equal(t, want, req.String(), "level chosen on this CPU")
	}
	for _, p := range dispatch.Packages() {
		require.Equal(t, expected(p, req), dispatch.Current(p), p)
	}
}

// TestEnvOverride re-runs the test binary with ADJOINT_KERNEL set to every
// level and to names this CPU cannot run, and checks every package's
// choice: with generic, no package (gemm's packing included) runs assembly.
func TestEnvOverride(t *testing.T) {
	if os.Getenv("ADJOINT_DISPATCH_CHILD") != "" {
		for _, p := range dispatch.Packages() {
			fmt.Printf("%s=%s\n", p, dispatch.Current(p))
		}
		fmt.Printf("gemm.Kernel=%s\n", gemm.Kernel())
		return
	}
	testenv.MustHaveExec(t)
	run := func(val string) (map[string]string, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvOverride$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ADJOINT_DISPATCH_CHILD=1", dispatch.Env+"="+val)
		var so, se strings.Builder
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Skipf("cannot re-run the test binary here (emulated?): %v", err)
		}
		require.NoError(t, err, "stderr: %s", se.String())
		got := map[string]string{}
		for line := range strings.Lines(so.String()) {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
				got[k] = v
			}
		}
		return got, se.String()
	}

	got, errOut := run("generic")
	require.Empty(t, errOut)
	for _, p := range withAsm {
		require.Equal(t, "generic", got[p], "ADJOINT_KERNEL=generic: %s runs assembly", p)
	}
	for p, l := range got {
		require.Equal(t, "generic", l, "ADJOINT_KERNEL=generic: %s runs assembly", p)
	}

	for _, l := range dispatch.Levels() {
		got, errOut := run(l.String())
		require.Empty(t, errOut)
		for _, p := range dispatch.Packages() {
			require.Equal(t, expected(p, l).String(), got[p], "ADJOINT_KERNEL=%v: %s", l, p)
		}
		require.Equal(t, got["gemm"], got["gemm.Kernel"])
	}

	best := dispatch.Levels()[len(dispatch.Levels())-1]
	for _, bad := range []string{"sse9", "avx2", "avx512", "neon"} {
		if l, err := dispatch.Parse(bad); err == nil && slices.Contains(dispatch.Levels(), l) {
			continue
		}
		got, errOut := run(bad)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one warning line for all packages: %q", errOut)
		require.Contains(t, errOut, dispatch.Env)
		for _, p := range dispatch.Packages() {
			require.Equal(t, expected(p, best).String(), got[p], "%s=%s falls back to the best level: %s", dispatch.Env, bad, p)
		}
	}
}
