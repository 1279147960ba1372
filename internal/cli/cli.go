// Package cli holds what the training commands (cmd/chargpt, cmd/mnist)
// share around their own work: the main function's signal and exit-status
// handling, flag-set setup, the CPU profile and the progress bar.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Main runs a command: run gets a context that the first Ctrl-C cancels (a
// second one kills), and Main exits with status 0 after -help, failCode
// with a one-line error prefixed "prog: " when run fails, 130 when run
// reports it was interrupted, and returns otherwise.
func Main(prog string, failCode int, run func(ctx context.Context) (interrupted bool, err error)) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		// After the first Ctrl-C, restore the default so a second one kills.
		<-ctx.Done()
		stop()
	}()
	interrupted, err := run(ctx)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		msg := err.Error()
		if !strings.HasPrefix(msg, prog+": ") {
			msg = prog + ": " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(failCode)
	case interrupted:
		os.Exit(130)
	}
}

// NewFlagSet returns a flag set for command name that returns its errors
// (flag.ContinueOnError) and writes them, and -help's usage line, summary
// and flag list, to stderr.
func NewFlagSet(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [flags]\n\n%s\n\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs and refuses positional arguments.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// StartCPUProfile writes a CPU profile to path until stop is called; with
// path "" it does nothing (and stop is a no-op).
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// NewBar returns a progress bar over n steps of unit (described by desc,
// which may be empty) on w, or nil when w is not a terminal.
func NewBar(w io.Writer, n int, unit, desc string) *progressbar.ProgressBar {
	if !IsTerminal(w) {
		return nil
	}
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
