package autograd

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkKernel times the fused elementwise kernels on one 256×512
// float32 activation (the MLP's hidden layer), serially.
func BenchmarkKernel(b *testing.B) {
	const n = 256 * 512
	r := rand.New(rand.NewPCG(1, 1))
	x, h, g, ga := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		g[i] = float32(r.NormFloat64())
	}
	unaryFwd(opRelu, h, x, 0, nil)
	for _, op := range []opKind{opRelu, opTanh, opSigmoid, opExp} {
		b.Run(fmt.Sprintf("op=%v/dir=fwd", op), func(b *testing.B) {
			b.SetBytes(n * 8)
			for b.Loop() {
				unaryFwd(op, h, x, 0, new([vecAlign]float32))
			}
		})
		b.Run(fmt.Sprintf("op=%v/dir=bwd", op), func(b *testing.B) {
			b.SetBytes(n * 16)
			for b.Loop() {
				unaryBwd(op, true, ga, g, x, h, 0)
			}
		})
	}
}
