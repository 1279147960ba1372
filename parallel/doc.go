// Package parallel is the goroutine pool under adjoint's GEMM and
// elementwise kernels.
//
// A fixed set of worker goroutines, started on first use and kept for the
// life of the process, runs the tasks of Do and the ranges of For. The
// calling goroutine always takes part, so one thread means no goroutine
// switches at all.
//
// # Threads
//
// The number of threads (the caller counts as one) defaults to GOMAXPROCS,
// is overridden at start-up by the environment variable ADJOINT_NUM_THREADS,
// and at run time by SetThreads. Both are capped at MaxThreads (8 per CPU,
// at least 64): a larger count is taken as MaxThreads, since more goroutines
// than that only cost memory and scheduling.
//
// # Concurrency
//
// Do and For are safe for any number of concurrent callers, and may be
// called from inside a body (nested). A caller hands work only to workers
// that are idle at that moment and does the rest itself, so nested or
// concurrent calls never wait for a worker to come free and cannot deadlock;
// with the pool busy they simply run serially.
//
// # Waking
//
// An idle worker polls for new work for up to 50 µs (yielding its P every
// 5 µs, since each yield takes the scheduler's global lock), then, on
// Linux, for up to 1 ms more with a sched_yield between polls, which gives
// its CPU to any other runnable thread, and only then parks; a caller
// whose own tasks are done waits for the others' completion the same way.
// Waking a parked goroutine takes an OS thread wake-up and a steal from the
// caller's run queue, from 15 to 80 µs on a virtual machine, as long as a
// whole elementwise pass; a polling worker takes a job within about a
// microsecond, so the calls of a training step, which follow each other
// closely, find the workers awake. At most GOMAXPROCS−1 workers poll at
// once. BenchmarkWake measures the delay both ways.
//
// # Allocation
//
// Do and For allocate nothing once the pool is warm. Each call's state is
// recycled, and the pool makes, when it starts workers, every call state
// that they and the callers can hold at once: a worker handed a job while
// parked holds it until it runs, possibly several calls later on a loaded
// machine, and a caller must not need a new one meanwhile.
//
// # Panics
//
// A panic inside a body is recovered on whichever goroutine ran it and
// raised again, with the same value, on the caller's goroutine after the
// other running tasks return. SetThreads panics for a count below one.
package parallel
