package autograd

import "testing"

// TestOpNames checks every op kind has a name, so anomaly and
// not-implemented messages never print an empty op.
func TestOpNames(t *testing.T) {
	for k := opNone; k < nOps; k++ {
		if opNames[k] == "" {
			t.Errorf("op kind %d has no name in opNames", k)
		}
	}
}
