//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuTime is the process's user plus system CPU time so far: on a loaded
// machine a benchmark's wall time measures its neighbours too, its CPU
// time much less so.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
