package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// BenchmarkMaxPool2d times the MNIST CNN's two 2×2 max pools (batch 128,
// after ReLU, so about half the inputs are zero and many windows tie), at
// one thread: pass=forward (the pool and its argmax) and pass=backward
// (the adjoint sent to the argmax; each pass records a fresh forward with
// the timer stopped).
func BenchmarkMaxPool2d(b *testing.B) {
	for _, l := range []struct {
		name    string
		c, h, w int
	}{{"pool1", 32, 28, 28}, {"pool2", 64, 14, 14}} {
		r := rand.New(rand.NewPCG(3, 4))
		x := tensor.RandNormal[float32](r, 0, 1, cnnBatch, l.c, l.h, l.w)
		for i, v := range x.Data() {
			x.Data()[i] = max(v, 0)
		}
		xv := autograd.NewVar(x, true)
		o := autograd.Pool2dOptions{Kernel: [2]int{2, 2}}
		tp := autograd.NewTape[float32]()
		seed := tensor.Full[float32](1, cnnBatch, l.c, l.h/2, l.w/2)
		pre := fmt.Sprintf("layer=%s/threads=1", l.name)
		b.Run(pre+"/pass=forward", func(b *testing.B) {
			defer parallel.SetThreads(parallel.SetThreads(1))
			tp.Reset()
			tp.MaxPool2d(xv, o)
			for b.Loop() {
				tp.Reset()
				tp.MaxPool2d(xv, o)
			}
		})
		b.Run(pre+"/pass=backward", func(b *testing.B) {
			defer parallel.SetThreads(parallel.SetThreads(1))
			for b.Loop() {
				b.StopTimer()
				tp.Reset()
				xv.ZeroGrad()
				y := tp.MaxPool2d(xv, o)
				b.StartTimer()
				if err := tp.BackwardSeed(y, seed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
