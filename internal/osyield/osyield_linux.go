//go:build linux

package osyield

import "syscall"

// Supported reports whether Yield gives the CPU to the operating system.
const Supported = true

// yield is sched_yield(2), a raw system call: it takes no arguments, cannot
// block and returns at once when no other thread is runnable here, so the
// Go scheduler need not be told (as syscall.Syscall would).
func yield() { _, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
