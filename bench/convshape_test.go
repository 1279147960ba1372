package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// BenchmarkConv2dShapes times autograd's Conv2d forward (with bias, one
// thread, float32, a batch of 32, "same" padding, stride 1) by each path,
// path=im2col and path=implicit, over the shapes of the table in
// autograd's convImplicit, from which its rule picks the path. GFLOP/s
// counts 2·N·OC·OH·OW·C·KH·KW.
func BenchmarkConv2dShapes(b *testing.B) {
	defer func(p int) { igemm.ConvPath = p }(igemm.ConvPath)
	defer parallel.SetThreads(parallel.SetThreads(1))
	const n = 32
	for _, s := range []struct{ oc, c, hw, k int }{
		{32, 1, 28, 5}, {64, 3, 32, 3}, {32, 2, 28, 5}, {32, 4, 28, 5}, {32, 16, 28, 3},
		{64, 32, 14, 5}, {128, 64, 7, 3}, {128, 64, 16, 3},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		x := autograd.NewVar(tensor.RandNormal[float32](r, 0, 1, n, s.c, s.hw, s.hw), false)
		w := autograd.NewVar(tensor.RandNormal[float32](r, 0, 0.1, s.oc, s.c, s.k, s.k), false)
		bias := autograd.NewVar(tensor.RandNormal[float32](r, 0, 0.1, s.oc), false)
		o := autograd.Conv2dOptions{Padding: [2]int{s.k / 2, s.k / 2}}
		prod := 2.0 * float64(n*s.oc*s.hw*s.hw*s.c*s.k*s.k)
		tp := autograd.NewTape[float32]()
		for _, path := range []struct {
			name string
			p    int
		}{{"im2col", igemm.ConvIm2Col}, {"implicit", igemm.ConvImplicit}} {
			b.Run(fmt.Sprintf("oc=%d/c=%d/hw=%d/k=%d/path=%s", s.oc, s.c, s.hw, s.k, path.name), func(b *testing.B) {
				igemm.ConvPath = path.p
				tp.Reset()
				tp.Conv2d(x, w, bias, o)
				c0 := cpuTime()
				for b.Loop() {
					tp.Reset()
					tp.Conv2d(x, w, bias, o)
				}
				reportConv(b, prod, c0)
			})
		}
	}
}
