//go:build !amd64 || !gc || purego

package math32

// No row kernels here: the portable loops of rows.go run.

func maxVec([]float32) (float32, bool)                         { return 0, false }
func sumVec([]float32) (float32, bool)                         { return 0, false }
func sumSqDiffVec([]float32, float32) (float32, bool)          { return 0, false }
func expShiftSumVec(_, _ []float32, _ float32) (float32, bool) { return 0, false }
func normAffineVec(_, _, _, _ []float32, _, _ float32) int     { return 0 }
func scaleVec(_, _ []float32, _ float32) int                   { return 0 }
