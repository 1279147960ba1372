//go:build !amd64 || !gc || purego

package onnx

// c1x1Panel has no kernel here: conv1x1 never calls it without useAVX2.
func c1x1Panel(y, x, w, b, r []float32, mr, kc, n, ld int, lohi *[2]float32) {
	panic("onnx: c1x1Panel: no AVX2 kernel in this build")
}
