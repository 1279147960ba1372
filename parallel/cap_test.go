package parallel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/testenv"
)

// TestSetThreadsCap: SetThreads(100000) used to start 100,000 goroutines
// (273 MB) at the next loop (issue 9 item 5). The count is capped at
// MaxThreads, and a wide loop starts no more workers than that.
func TestSetThreadsCap(t *testing.T) {
	require.Equal(t, max(8*runtime.NumCPU(), 64), MaxThreads())
	old := SetThreads(100000)
	defer SetThreads(old)
	assert.Equal(t, MaxThreads(), Threads())
	assert.Equal(t, MaxThreads(), SetThreads(MaxThreads()+1))
	assert.Equal(t, MaxThreads(), Threads())

	before := runtime.NumGoroutine()
	Do(100000, func(int) {})
	assert.LessOrEqual(t, runtime.NumGoroutine()-before, MaxThreads())
	assert.LessOrEqual(t, workers.Load(), int64(MaxThreads()))
}

// TestEnvThreadsCap re-runs the test binary with ADJOINT_NUM_THREADS set to
// 100,000,000 (issue 9 item 3's -threads case reaches the same code) and
// to a small value: the first is capped, the second taken as given.
func TestEnvThreadsCap(t *testing.T) {
	if os.Getenv("ADJOINT_THREADS_CHILD") != "" {
		fmt.Printf("threads=%d max=%d\n", Threads(), MaxThreads())
		return
	}
	testenv.MustHaveExec(t)
	run := func(val string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvThreadsCap$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ADJOINT_THREADS_CHILD=1", EnvThreads+"="+val)
		out, err := cmd.Output()
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Skipf("cannot re-run the test binary here (emulated?): %v", err)
		}
		require.NoError(t, err)
		return string(out)
	}
	out := run("100000000")
	assert.True(t, strings.Contains(out, fmt.Sprintf("threads=%d max=%d\n", MaxThreads(), MaxThreads())), "%q", out)
	out = run("3")
	assert.Contains(t, out, "threads=3 ")
}
