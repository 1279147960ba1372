// Package osyield gives the CPU back to the operating system for a moment:
// the polite phase of the module's waits (package parallel's pool and
// gemm's team), between polling flat out and blocking.
//
// A goroutine that waits for another by polling holds its OS thread's CPU.
// If the goroutine it waits for sits on an OS thread that lost its CPU to
// another process, a waiter that only calls runtime.Gosched keeps that
// thread off this CPU as well, while one that blocks (a channel receive, a
// condition variable) costs a futex wake-up to resume, 15 to 60 µs on the
// virtual machines this module is measured on: as long as the work between
// two calls of a training step. Yield sits between the two: the scheduler
// may run any other runnable thread on this CPU, and if there is none the
// call returns within a microsecond.
package osyield

// Yield asks the operating system to run another thread on this CPU if one
// is waiting (sched_yield on Linux). Where that is not available it does
// nothing, and Supported is false.
func Yield() { yield() }
