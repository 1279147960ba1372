//go:build race

package gemm

// The race detector makes sync.Pool drop items at random, so allocation
// counts of the strided batched path mean nothing under it.
const stridedRace = true
