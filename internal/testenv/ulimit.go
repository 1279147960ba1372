package testenv

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ChildEnv is set (to "1") in the environment of a test binary that
// RunLimited re-runs; the test checks it to do the child's work.
const ChildEnv = "ADJOINT_LIMITED_CHILD"

// childStarted is printed by IsLimitedChild so the parent can tell a
// child that ran from one that could not start (emulation, no sh).
const childStarted = "limited child started"

// IsLimitedChild reports whether this process is the child of RunLimited,
// and if so prints the marker the parent looks for.
func IsLimitedChild() bool {
	if os.Getenv(ChildEnv) == "" {
		return false
	}
	os.Stdout.WriteString(childStarted + "\n")
	return true
}

// RunLimited re-runs the test binary for the single test named run
// (anchored) under `ulimit -v kib` (virtual memory, KiB) through sh, with
// ChildEnv set, and returns its combined output and exit error. It skips
// t if exec is not possible here (MustHaveExec, no sh, or a child that
// never started, as under qemu-user whose own reservation the limit may
// refuse).
func RunLimited(t *testing.T, run string, kib int) (string, error) {
	t.Helper()
	MustHaveExec(t)
	if testing.Short() {
		t.Skip("-short: spawns the test binary")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to set ulimit")
	}
	cmd := exec.Command(sh, "-c", `ulimit -v "$1" && exec "$0" -test.run="$2" -test.count=1 -test.v`, os.Args[0], itoa(kib), "^"+run+"$")
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Skipf("cannot run the test binary under sh here: %v", err)
	}
	if !strings.Contains(string(out), childStarted) {
		t.Skipf("the child did not start under ulimit -v %d (emulated?): %.300s", kib, out)
	}
	return string(out), err
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
