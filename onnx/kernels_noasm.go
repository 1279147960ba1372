//go:build !amd64 || !gc || purego

package onnx

// Without assembly every kernel is the Go one (kernels_generic.go).

var useAVX2 = false

func dwAsm(y, x, w []float32, offs []int, oh, ow, ys, xs int) bool { return false }

func epiAsm(y, r []float32, p *[4]float32, kind int) int { return 0 }

func deintAsm(a, b, x []float32) int { return 0 }

func arithAsm(op string, d, a, b []float32) int { return 0 }

// The blocked depthwise path never runs without the assembly (dwC8Fits).
func dwC8Asm(o, p, wb []float32, oh, ow, xs, pitch, sw int) { panic("onnx: dwC8Asm without assembly") }
func pack8Asm(dst, src []float32, n, stride int)            { panic("onnx: pack8Asm without assembly") }
func unpack8Asm(dst, src []float32, n, stride int)          { panic("onnx: unpack8Asm without assembly") }

func dwC8TapsAsm(o, p, wb []float32, offs []int, oh, ow, xs, sw int) {
	panic("onnx: dwC8TapsAsm without assembly")
}
