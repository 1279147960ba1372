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
// per loop and concurrent run; scratchKeep·4 at most.
type jobList struct {
	mu   sync.Mutex
	jobs []any
}

// takeJob takes a block of type J from l, if it holds one (a kernel
// keeps blocks of several types: its loops take their arguments in
// different forms).
func takeJob[J any](l *jobList) (J, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.jobs) - 1; i >= 0; i-- {
		if j, ok := l.jobs[i].(J); ok {
			last := len(l.jobs) - 1
			l.jobs[i] = l.jobs[last]
			l.jobs[last] = nil
			l.jobs = l.jobs[:last]
			return j, true
		}
	}
	var zero J
	return zero, false
}

func (l *jobList) put(j any) {
	l.mu.Lock()
	if len(l.jobs) < 4*scratchKeep {
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
	j, ok := takeJob[*parJob[A]](l)
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
