//go:build !amd64 || !gc || purego

package tensor

// Without assembly only the generic loops exist.
var ewLevel = levelGeneric

func vvAsm32(op opcode, d, a, b []float32) int { return 0 }
func vvAsm64(op opcode, d, a, b []float64) int { return 0 }
