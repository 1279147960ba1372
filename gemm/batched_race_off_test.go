//go:build !race

package gemm

const stridedRace = false
