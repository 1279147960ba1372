//go:build !amd64 || !gc || purego

package onnx

// Without assembly the transforms are nn_winograd.go's Go ones.

func winoAsm() bool { return false }

func winoIn(v, x []float32, tmp *[winoTmp]float32, xrs, vs int) { winoInGo(v, x, xrs, vs) }

func winoOut(y, m, res []float32, tmp *[winoTmp]float32, p *[10]float32, ms, ow, ohw int) {
	winoOutGo(y, m, res, p, ms, ow, ohw)
}

func winoPack(d, x []float32, hw, n int) int { return 0 }
