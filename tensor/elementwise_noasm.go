//go:build !(amd64 || arm64) || !gc || purego

package tensor

import "github.com/adjoint-go/adjoint/internal/dispatch"

// Without assembly only the generic loops exist.
var ewLevel = levelGeneric

func init() {
	dispatch.Register("tensor", func() dispatch.Level { return dispatch.Generic }, func(dispatch.Level) {})
}

func vvAsm32(op opcode, d, a, b []float32) int                   { return 0 }
func vvAsm64(op opcode, d, a, b []float64) int                   { return 0 }
func vsAsm32(op opcode, d, a []float32, s float32) int           { return 0 }
func vsAsm64(op opcode, d, a []float64, s float64) int           { return 0 }
func svAsm32(op opcode, d []float32, s float32, b []float32) int { return 0 }
func svAsm64(op opcode, d []float64, s float64, b []float64) int { return 0 }
