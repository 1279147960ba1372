package autograd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/testenv"
	"github.com/adjoint-go/adjoint/tensor"
)

// requireMisuse runs f and requires a panic wrapping ErrMisuse whose
// message contains want.
func requireMisuse(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		err, ok := recover().(error)
		require.True(t, ok, "no error panic")
		require.ErrorIs(t, err, ErrMisuse)
		require.Contains(t, err.Error(), want)
	}()
	f()
}

// TestTapeInUse: while one goroutine is in Backward or Reset, or is
// recording an op, another's use of the tape panics with a clear message
// (issue 9, "Also"). The other goroutine is simulated by the flag it
// would set, so the test is deterministic.
func TestTapeInUse(t *testing.T) {
	tp := NewTape[float64]()
	x := NewVar(tensor.FromSlice([]float64{1, 2}, 2), true)
	y := tp.Sum(tp.Mul(x, x))

	tp.busy.Store(tapeWalking)
	requireMisuse(t, "Tape used from two goroutines at once: Mul while another goroutine is in Backward (use one Tape per goroutine)", func() { tp.Mul(x, x) })
	requireMisuse(t, "Const while another goroutine is in Backward", func() { tp.Const(tensor.New[float64](1)) })
	requireMisuse(t, "Backward while another goroutine is in Backward", func() { _ = tp.Backward(y) })
	requireMisuse(t, "Reset while another goroutine is in Backward", func() { tp.Reset() })

	tp.busy.Store(tapeResetting)
	requireMisuse(t, "Exp while another goroutine is in Reset", func() { tp.Exp(x) })
	requireMisuse(t, "an op while another goroutine is in Reset", func() { tp.alloc(2) })
	requireMisuse(t, "Backward while another goroutine is in Reset", func() { _ = tp.Backward(y) })

	tp.busy.Store(tapeRecording)
	requireMisuse(t, "Backward while another goroutine is recording an op", func() { _ = tp.Backward(y) })
	requireMisuse(t, "Reset while another goroutine is recording an op", func() { tp.Reset() })
	requireMisuse(t, "Add while another goroutine is recording an op", func() { tp.Add(x, x) })
	requireMisuse(t, "an op while another goroutine is recording an op", func() { tp.alloc(2) })

	// Idle again, the tape works, and a failed Backward leaves it idle.
	tp.busy.Store(tapeIdle)
	require.NoError(t, tp.Backward(y))
	assert.Equal(t, []float64{2, 4}, x.Grad().Data())
	assert.ErrorIs(t, tp.Backward(y), ErrGraphReleased)
	assert.Equal(t, tapeIdle, tp.busy.Load())
	tp.Reset()
	assert.Equal(t, tapeIdle, tp.busy.Load())
}

// TestTapeSharedForReal shares one tape between two goroutines that each
// run forward, Backward and Reset, in a child process (a tape raced on
// may also die of Go's "concurrent map writes", which no recover
// catches). The child must report the in-use panic.
func TestTapeSharedForReal(t *testing.T) {
	if os.Getenv("ADJOINT_TAPE_CHILD") != "" {
		shareTape()
		return
	}
	if raceEnabled {
		t.Skip("the race detector rightly reports the race this test provokes")
	}
	testenv.MustHaveExec(t)
	// The flag is best-effort: two goroutines inside ops at the same
	// moment are not flagged, and in about 1 run in 15 here the damage
	// (a runtime panic or Go's fatal "concurrent map" error) comes first.
	// Allow five tries.
	var out []byte
	for try := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTapeSharedForReal$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ADJOINT_TAPE_CHILD=1")
		var err error
		out, err = cmd.CombinedOutput()
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Skipf("cannot re-run the test binary here (emulated?): %v", err)
		}
		if strings.Contains(string(out), "detected: autograd: Tape used from two goroutines at once") {
			return
		}
		t.Logf("try %d: %.200s", try, out)
	}
	t.Fatalf("the in-use panic never came; last child output:\n%s", out)
}

// shareTape is the child's work: two goroutines train on one tape until
// one of them panics with ErrMisuse (or 5 s pass).
func shareTape() {
	tp := NewTape[float32]()
	w := NewVar(tensor.Full[float32](0.1, 128, 128), true)
	x := tensor.Full[float32](1, 64, 128)
	var once sync.Once
	done := make(chan string, 1)
	stop := make(chan struct{})
	for range 2 {
		go func() {
			defer func() {
				if r := recover(); r != nil {
					if err, ok := r.(error); ok && errors.Is(err, ErrMisuse) && strings.Contains(err.Error(), "two goroutines") {
						once.Do(func() { done <- "detected: " + err.Error() })
						return
					}
					once.Do(func() { done <- fmt.Sprintf("other panic: %v", r) })
				}
			}()
			for {
				select {
				case <-stop:
					return
				default:
				}
				tp.Reset()
				loss := tp.Mean(tp.Tanh(tp.MatMul(tp.Const(x), w)))
				_ = tp.Backward(loss)
			}
		}()
	}
	select {
	case msg := <-done:
		fmt.Println(msg)
	case <-time.After(5 * time.Second):
		fmt.Println("not detected in 5 s")
	}
	close(stop)
}
