//go:build !(amd64 || arm64) || !gc || purego

package math32

import "github.com/adjoint-go/adjoint/internal/dispatch"

// Without assembly no vector kernel is usable.
var useAVX512, useAVX2, useNEON = false, false, false

func init() {
	dispatch.Register("internal/math32", func() dispatch.Level { return dispatch.Generic }, func(dispatch.Level) {})
}

func vecKernel(kernel, []float32, []float32) bool { return false }
