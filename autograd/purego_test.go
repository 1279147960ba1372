//go:build purego

package autograd

import "testing"

// Under -tags purego no assembly is built: every kernel is the Go one.
func TestPuregoHasNoAssembly(t *testing.T) {
	if maxLevel != levelGeneric || asmLevel != levelGeneric {
		t.Fatalf("purego build uses kernel level %d", asmLevel)
	}
}
