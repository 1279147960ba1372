package onnx

import (
	"sync"

	"github.com/adjoint-go/adjoint/parallel"
)

// Parallel loops that allocate nothing once warm. A closure handed to
// parallel.For escapes, so building one per call costs an allocation per
// call; instead a call's arguments go into a block kept on the kernel's
// free list, whose loop body (bound once, when the block is made) reads
// them from there.

// jobList is a kernel's free list of argument blocks (of any type), one
// per concurrent run.
type jobList struct {
	mu   sync.Mutex
	jobs []any
}

func (l *jobList) get() any {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.jobs)
	if n == 0 {
		return nil
	}
	j := l.jobs[n-1]
	l.jobs = l.jobs[:n-1]
	return j
}

func (l *jobList) put(j any) {
	l.mu.Lock()
	if len(l.jobs) < scratchKeep {
		l.jobs = append(l.jobs, j)
	}
	l.mu.Unlock()
}

// rangeBody is a parallel loop's arguments, whose block method runs the
// loop over [lo, hi).
type rangeBody interface{ block(lo, hi int) }

// parJob is one parallel loop's arguments.
type parJob[A rangeBody] struct {
	args A
	run  func(lo, hi int) // j.body, bound once
}

func (j *parJob[A]) body(lo, hi int) { j.args.block(lo, hi) }

// forArgs runs args.block over [0, n) as parallel.For(n, grain) splits
// it, with args in a block from l.
func forArgs[A rangeBody](l *jobList, n, grain int, args A) {
	if parallel.NumChunks(n, grain) <= 1 {
		args.block(0, n)
		return
	}
	j, ok := l.get().(*parJob[A])
	if !ok {
		j = &parJob[A]{}
		j.run = j.body
	}
	j.args = args
	parallel.For(n, grain, j.run)
	var zero A
	j.args = zero // drop references to the call's slices
	l.put(j)
}
