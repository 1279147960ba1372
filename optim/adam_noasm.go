//go:build !(amd64 || arm64) || !gc || purego

package optim

// Without assembly no vector kernel is usable.
var (
	hasAVX512 bool
	hasAVX2   bool
	hasNEON   bool
)

// adamVec runs no vector kernel: the caller does all n elements.
func adamVec(n int, p, g, m, v, s *float32) int { return 0 }
