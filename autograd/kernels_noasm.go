//go:build !(amd64 || arm64) || !gc || purego

package autograd

import "github.com/adjoint-go/adjoint/internal/dispatch"

// Without assembly every kernel runs in Go.
var asmLevel, maxLevel = levelGeneric, levelGeneric

func init() {
	dispatch.Register("autograd", func() dispatch.Level { return dispatch.Generic }, func(dispatch.Level) {})
}

func asmReluFwd32(d, x []float32) int              { return 0 }
func asmReluFwd64(d, x []float64) int              { return 0 }
func asmReluBwd32(acc bool, d, g, h []float32) int { return 0 }
func asmReluBwd64(acc bool, d, g, h []float64) int { return 0 }
func asmAddAcc32(d, s []float32) int               { return 0 }
func asmAddAcc64(d, s []float64) int               { return 0 }
