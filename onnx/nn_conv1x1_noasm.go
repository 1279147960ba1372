//go:build !amd64 || !gc || purego

package onnx

// c1x1Panel has no kernel here: conv1x1 never calls it without useAVX2.
func c1x1Panel(y, x, w, b, r []float32, mr, kc, n, ldx, xt, ld int, lohi *[2]float32) {
	panic("onnx: c1x1Panel: no AVX2 kernel in this build")
}

func c1x1PackTiles(dst, x []float32, kc, nt, ld int) {
	panic("onnx: c1x1PackTiles: no AVX2 kernel in this build")
}
