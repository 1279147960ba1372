//go:build !(amd64 || arm64) || !gc || purego

package math32

var useAVX512, useAVX2, useNEON = false, false, false

func vecKernel(kernel, []float32, []float32) bool { return false }
