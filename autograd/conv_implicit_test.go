package autograd

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/parallel"
)

// implicitCases are large enough (OH·OW at least a tile wide, products
// past GEMM's small-matrix cut-off) that GEMM takes the implicit path:
// stride 2, padding, dilation 2, groups (depthwise too), odd sizes, 1×1
// kernels, kernels as large as the input, batch > 1, channel counts that
// make several channel blocks.
var implicitCases = []convCase{
	{n: 3, c: 1, h: 28, w: 28, oc: 32, kh: 5, kw: 5, o: Conv2dOptions{Padding: [2]int{2, 2}}},
	{n: 2, c: 32, h: 14, w: 14, oc: 64, kh: 5, kw: 5, o: Conv2dOptions{Padding: [2]int{2, 2}}},
	{n: 2, c: 3, h: 17, w: 15, oc: 70, kh: 3, kw: 3, o: Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{n: 2, c: 2, h: 13, w: 11, oc: 5, kh: 3, kw: 2, o: Conv2dOptions{Dilation: [2]int{2, 2}, Padding: [2]int{1, 2}}},
	{n: 2, c: 4, h: 9, w: 9, oc: 8, kh: 3, kw: 3, o: Conv2dOptions{Groups: 4, Padding: [2]int{1, 1}}},
	{n: 1, c: 6, h: 11, w: 7, oc: 9, kh: 3, kw: 1, o: Conv2dOptions{Groups: 3, Stride: [2]int{1, 2}, Padding: [2]int{0, 3}}},
	{n: 2, c: 3, h: 10, w: 10, oc: 7, kh: 1, kw: 1},
	{n: 2, c: 2, h: 5, w: 5, oc: 3, kh: 5, kw: 5, o: Conv2dOptions{Padding: [2]int{3, 3}}},
	{n: 3, c: 2, h: 19, w: 23, oc: 4, kh: 3, kw: 3, o: Conv2dOptions{Stride: [2]int{3, 2}, Padding: [2]int{2, 1}, Dilation: [2]int{2, 3}}},
}

// TestConv2dImplicitBitwise: the forward by the implicit GEMM (patches
// packed straight into GEMM's panels) equals the im2col path's bit for
// bit, in float32 and float64, with and without bias, with the default and
// the finest channel blocking, at one and two threads, on every GEMM
// kernel this CPU runs (the bias fused into the product where the path
// allows, which relies on each kernel summing in k order); and both agree
// with the naive 7-loop convolution.
func TestConv2dImplicitBitwise(t *testing.T) {
	defer func(p int) { igemm.ConvPath = p }(igemm.ConvPath)
	for _, kern := range gemm.Kernels() {
		t.Run("kernel="+kern, func(t *testing.T) {
			defer func(prev string) { require.NoError(t, gemm.SetKernel(prev)) }(gemm.Kernel())
			require.NoError(t, gemm.SetKernel(kern))
			eachBlocking(t, testImplicitBitwise)
		})
	}
}

func testImplicitBitwise(t *testing.T) {
	{
		for _, cc := range implicitCases {
			t.Run(cc.String(), func(t *testing.T) {
				x, w, b := convInputs(cc, 7)
				want, _, _ := naiveConv(cc, x.Data(), w.Data(), b.Data())
				for _, threads := range []int{1, 2} {
					for _, withBias := range []bool{true, false} {
						y64 := func(path int) []float64 {
							igemm.ConvPath = path
							defer parallel.SetThreads(parallel.SetThreads(threads))
							var bv *Var[float64]
							if withBias {
								bv = NewVar(b, false)
							}
							return NewTape[float64]().Conv2d(NewVar(x, false), NewVar(w, false), bv, cc.o).Value().Data()
						}
						y32 := func(path int) []float32 {
							igemm.ConvPath = path
							defer parallel.SetThreads(parallel.SetThreads(threads))
							var bv *Var[float32]
							if withBias {
								bv = NewVar(toF32(b), false)
							}
							return NewTape[float32]().Conv2d(NewVar(toF32(x), false), NewVar(toF32(w), false), bv, cc.o).Value().Data()
						}
						im, ip := y64(igemm.ConvIm2Col), y64(igemm.ConvImplicit)
						require.Equal(t, bits64(im), bits64(ip), "float64, threads %d, bias %v", threads, withBias)
						require.Equal(t, bits32(y32(igemm.ConvIm2Col)), bits32(y32(igemm.ConvImplicit)), "float32, threads %d, bias %v", threads, withBias)
						if withBias {
							for i, v := range ip {
								require.InDelta(t, want[i], v, 1e-12, "element %d", i)
							}
						}
					}
				}
			})
		}
	}
}

func bits64(s []float64) []uint64 {
	out := make([]uint64, len(s))
	for i, v := range s {
		out[i] = math.Float64bits(v)
	}
	return out
}

func bits32(s []float32) []uint32 {
	out := make([]uint32, len(s))
	for i, v := range s {
		out[i] = math.Float32bits(v)
	}
	return out
}

// TestConv2dImplicitSteadyAllocs: a training step through the implicit
// forward allocates nothing once warm.
func TestConv2dImplicitSteadyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	defer func(p int) { igemm.ConvPath = p }(igemm.ConvPath)
	igemm.ConvPath = igemm.ConvImplicit
	cc := implicitCases[0]
	x64, w64, b64 := convInputs(cc, 5)
	xv, wv, bv := NewVar(toF32(x64), true), NewVar(toF32(w64), true), NewVar(toF32(b64), true)
	tp := NewTape[float32]()
	step := func() {
		tp.Reset()
		y := tp.Conv2d(xv, wv, bv, cc.o)
		if err := tp.Backward(tp.Sum(tp.Relu(y))); err != nil {
			panic(err)
		}
	}
	for range 3 {
		step()
	}
	for _, threads := range []int{1, 2} {
		func() {
			defer parallel.SetThreads(parallel.SetThreads(threads))
			step()
			require.Zero(t, testing.AllocsPerRun(5, step), "threads %d", threads)
		}()
	}
}

// TestSum8 against a float64 sum, lengths either side of the unrolling.
func TestSum8(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 784} {
		s := make([]float32, n)
		want := 0.0
		for i := range s {
			s[i] = float32(i%13) - 6.25
			want += float64(s[i])
		}
		require.InDelta(t, want, float64(sum8(s)), 1e-3*float64(n+1), "n %d", n)
	}
}
