package osyield

import "testing"

// BenchmarkYield is the cost of one Yield with no other thread waiting for
// this CPU: the price of each poll of a wait's polite phase.
func BenchmarkYield(b *testing.B) {
	for b.Loop() {
		Yield()
	}
}
