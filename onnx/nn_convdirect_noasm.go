//go:build !amd64 || !gc || purego

package onnx

// Without assembly the direct convolution is convDepthwise's.

func convDirectAsm(y, x, w []float32, t tapOffsets, nc, oh, ow, ys, ycs, xs int) bool { return false }
