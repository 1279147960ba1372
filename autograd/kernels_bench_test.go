package autograd

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkKernel times the fused elementwise kernels on one 256×512
// float32 activation (the MLP's hidden layer), serially, at every kernel
// level the CPU runs (ReLU and accumulation have assembly).
func BenchmarkKernel(b *testing.B) {
	defer func(l int) { asmLevel = l }(asmLevel)
	const n = 256 * 512
	r := rand.New(rand.NewPCG(1, 1))
	x, h, g, ga := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		g[i] = float32(r.NormFloat64())
	}
	pad := new([vecAlign]float32)
	for _, l := range levels() {
		asmLevel = l
		lv := levelName(l)
		b.Run("op=Relu/dir=fwd/level="+lv, func(b *testing.B) {
			b.SetBytes(n * 8)
			for b.Loop() {
				reluFwd(h, x)
			}
		})
		b.Run("op=Relu/dir=bwd/level="+lv, func(b *testing.B) {
			b.SetBytes(n * 12)
			for b.Loop() {
				reluBwd(false, ga, g, h)
			}
		})
		b.Run("op=AddAcc/level="+lv, func(b *testing.B) {
			b.SetBytes(n * 12)
			for b.Loop() {
				addAcc(ga, g)
			}
		})
	}
	for _, op := range []opKind{opTanh, opSigmoid, opExp} {
		b.Run(fmt.Sprintf("op=%v/dir=fwd", op), func(b *testing.B) {
			b.SetBytes(n * 8)
			for b.Loop() {
				unaryFwd(op, h, x, 0, pad)
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
