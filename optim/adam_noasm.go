//go:build !(amd64 || arm64) || !gc || purego

package optim

import "github.com/adjoint-go/adjoint/internal/dispatch"

// Without assembly no vector kernel is usable.
var (
	hasAVX512 bool
	hasAVX2   bool
	hasNEON   bool
)

func init() {
	dispatch.Register("optim", func() dispatch.Level { return dispatch.Generic }, func(dispatch.Level) {})
}

// adamVec runs no vector kernel: the caller does all n elements.
func adamVec(n int, p, g, m, v, s *float32) int { return 0 }
