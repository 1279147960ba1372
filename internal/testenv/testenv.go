// Package testenv holds helpers for the module's tests that depend on what
// the machine running them can do.
package testenv

import (
	"os"
	"testing"
)

// EnvNoExec names the environment variable that, set to any non-empty
// value, makes MustHaveExec skip. CI sets it for the GOARCH=386 tests when
// they run under qemu-i386-static, whose emulation of waitid(2) crashes the
// Go runtime of the emulated test binary as soon as it waits for a child
// process ("exitsyscall: syscall frame is no longer valid").
const EnvNoExec = "ADJOINT_TEST_NOEXEC"

// MustHaveExec skips t unless the test may start and wait for child
// processes (python3 cross-checks, the go tool).
func MustHaveExec(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvNoExec) != "" {
		t.Skipf("%s is set: this emulated run cannot wait for child processes", EnvNoExec)
	}
}
