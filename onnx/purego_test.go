//go:build purego

package onnx

import "testing"

// Under -tags purego no assembly is built: every kernel is the Go one.
func TestPuregoHasNoAssembly(t *testing.T) {
	if useAVX2 {
		t.Fatal("purego build uses the AVX2 kernels")
	}
}
