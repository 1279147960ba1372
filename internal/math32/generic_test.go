package math32

import (
	"math"
	"testing"
)

// TestGenericLoopsMatchScalar: the portable slice loops write Exp's body out
// and batch the exponentials of Tanh and Sigmoid; they must give the scalar
// functions' bits exactly (NaN payloads aside).
func TestGenericLoopsMatchScalar(t *testing.T) {
	loops := []struct {
		name   string
		loop   func(dst, src []float32)
		scalar func(float32) float32
	}{
		{"Exp", expGeneric, Exp},
		{"Log", logGeneric, Log},
		{"Tanh", tanhGeneric, Tanh},
		{"Sigmoid", sigmoidGeneric, Sigmoid},
	}
	src := make([]float32, 0, 1<<16)
	dst := make([]float32, 1<<16)
	check := func() {
		for _, l := range loops {
			// An odd length exercises the partial last block.
			l.loop(dst, src)
			for i, x := range src {
				want := l.scalar(x)
				if math.Float32bits(dst[i]) != math.Float32bits(want) && !(want != want && dst[i] != dst[i]) {
					t.Fatalf("%s(%g [%#x]): loop %g, scalar %g", l.name, x, math.Float32bits(x), dst[i], want)
				}
			}
		}
		src = src[:0]
	}
	for b := uint64(0); b < 1<<32; b += 997 {
		src = append(src, math.Float32frombits(uint32(b)))
		if len(src) == cap(src)-3 {
			check()
		}
	}
	check()
}
