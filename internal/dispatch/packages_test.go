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

// expected returns the level a package that can run the levels avail
// (lowest first) must run when level req is requested: the best not above
// req.
func expected(avail []dispatch.Level, req dispatch.Level) dispatch.Level {
	best := dispatch.Generic
	for _, l := range avail {
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
		require.Equal(t, expected(dispatch.Available(p), req), dispatch.Current(p), p)
	}
}

// TestEnvOverride re-runs the test binary with ADJOINT_KERNEL set to every
// level and to names this CPU cannot run, and checks every package's
// choice: with generic, no package (gemm's packing included) runs assembly.
// The child reports what it can run, since it may run on another CPU than
// the parent (a parent under qemu-x86_64 -cpu starts its child natively).
func TestEnvOverride(t *testing.T) {
	if os.Getenv("ADJOINT_DISPATCH_CHILD") != "" {
		fmt.Printf("levels %v\n", dispatch.Levels())
		for _, p := range dispatch.Packages() {
			fmt.Printf("package %s %v %v\n", p, dispatch.Current(p), dispatch.Available(p))
		}
		fmt.Printf("gemm.Kernel %s\n", gemm.Kernel())
		return
	}
	testenv.MustHaveExec(t)
	type report struct {
		levels  []dispatch.Level            // the child's CPU's
		current map[string]dispatch.Level   // by package
		avail   map[string][]dispatch.Level // by package
		kernel  string                      // gemm.Kernel()
	}
	parse := func(list string) []dispatch.Level {
		var ls []dispatch.Level
		for _, f := range strings.Fields(strings.Trim(list, "[]")) {
			l, err := dispatch.Parse(f)
			require.NoError(t, err)
			ls = append(ls, l)
		}
		return ls
	}
	run := func(val string) (report, string) {
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
		r := report{current: map[string]dispatch.Level{}, avail: map[string][]dispatch.Level{}}
		for line := range strings.Lines(so.String()) {
			f := strings.SplitN(strings.TrimSpace(line), " ", 4)
			switch f[0] {
			case "levels":
				r.levels = parse(strings.Join(f[1:], " "))
			case "package":
				cur, err := dispatch.Parse(f[2])
				require.NoError(t, err)
				r.current[f[1]] = cur
				r.avail[f[1]] = parse(f[3])
			case "gemm.Kernel":
				r.kernel = f[1]
			}
		}
		require.NotEmpty(t, r.levels, "child output: %s", so.String())
		return r, se.String()
	}

	r, errOut := run("generic")
	require.Empty(t, errOut)
	for _, p := range withAsm {
		require.Contains(t, r.current, p)
	}
	for p, l := range r.current {
		require.Equal(t, dispatch.Generic, l, "ADJOINT_KERNEL=generic: %s runs assembly", p)
	}
	require.Equal(t, "generic", r.kernel)

	childLevels := r.levels
	for _, l := range childLevels {
		r, errOut := run(l.String())
		require.Empty(t, errOut)
		for p, cur := range r.current {
			require.Equal(t, expected(r.avail[p], l), cur, "ADJOINT_KERNEL=%v: %s", l, p)
		}
		require.Equal(t, r.current["gemm"].String(), r.kernel)
	}

	best := childLevels[len(childLevels)-1]
	for _, bad := range []string{"sse9", "avx2", "avx512", "neon"} {
		if l, err := dispatch.Parse(bad); err == nil && slices.Contains(childLevels, l) {
			continue
		}
		r, errOut := run(bad)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one warning line for all packages: %q", errOut)
		require.Contains(t, errOut, dispatch.Env)
		for p, cur := range r.current {
			require.Equal(t, expected(r.avail[p], best), cur, "%s=%s falls back to the best level: %s", dispatch.Env, bad, p)
		}
	}
}
