package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

// TestPack8AgainstLoop checks the interleaving transposes against their
// loops on every tail length, with guards past the ends that must not
// change.
func TestPack8AgainstLoop(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 kernels on this machine or build")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 49, 196} {
		for _, stride := range []int{n, n + 3, 2*n + 5} {
			src := make([]float32, 7*stride+n)
			for i := range src {
				src[i] = float32(r.NormFloat64())
			}
			dst := make([]float32, 8*n+8)
			for i := range dst {
				dst[i] = -1e9
			}
			pack8(dst, src, n, stride)
			for i := range n {
				for c := range 8 {
					if dst[8*i+c] != src[c*stride+i] {
						t.Fatalf("pack8 n=%d stride=%d: dst[%d] = %g, want %g", n, stride, 8*i+c, dst[8*i+c], src[c*stride+i])
					}
				}
			}
			for i := 8 * n; i < len(dst); i++ {
				if dst[i] != -1e9 {
					t.Fatalf("pack8 n=%d: wrote past the end at %d", n, i)
				}
			}
			// And back: unpack8 into rows with guards between them.
			back := make([]float32, 8*stride+8)
			for i := range back {
				back[i] = -1e9
			}
			o := make([]float32, (n+7)&^7*8)
			copy(o, dst[:8*n])
			unpack8(back, o, n, stride)
			for i := range back {
				c, q := i/stride, i%stride
				want := float32(-1e9)
				if c < 8 && q < n {
					want = src[c*stride+q]
				}
				if back[i] != want {
					t.Fatalf("unpack8 n=%d stride=%d: element %d (row %d col %d) = %g, want %g", n, stride, i, c, q, back[i], want)
				}
			}
		}
	}
}

// TestDepthwiseC8AgainstNaive checks the blocked depthwise path against
// the definition in float64 (naiveConv) on planes of every width around
// the transposes' and the kernel's steps, both strides, asymmetric pads,
// batches, bias, each epilogue (fused clamp, residual, LeakyRelu after),
// windows from 1×1 to 7×7 and dilated (the kernel that reads its weights
// from memory), at one and two threads (W rearranged per block at one,
// interleaved once as a constant at two), whole planes and strips of rows
// (a strip of 300 floats is one to three rows here). The tolerance is the
// float32 rounding bound of a sum of taps + 2 terms (bias, residual):
// γₙ·Σ|terms| (γₙ = nu/(1−nu), u = 2⁻²⁴), computed per element from the
// absolute values.
func TestDepthwiseC8AgainstNaive(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 kernels on this machine or build")
	}
	r := rand.New(rand.NewPCG(13, 14))
	inf := float32(math.Inf(1))
	type tc struct {
		n, c, h, w int
		s          []int
		pads       []int
		bias, res  bool
		a          act
		k, dil     []int // 3×3, no dilation when nil
	}
	cases := []tc{
		{1, 8, 7, 7, []int{1, 1}, []int{1, 1, 1, 1}, true, false, clipOf(0, 6), nil, nil},
		{1, 16, 14, 14, []int{2, 2}, []int{1, 1, 1, 1}, true, false, clipOf(0, 6), nil, nil},
		{2, 8, 5, 9, []int{1, 1}, []int{1, 1, 1, 1}, false, false, act{}, nil, nil},
		{1, 24, 11, 13, []int{2, 2}, []int{0, 1, 1, 0}, true, false, act{kind: actRelu}, nil, nil},
		{1, 8, 3, 3, []int{1, 1}, []int{0, 0, 0, 0}, true, false, clipOf(-0.5, 0.5), nil, nil},
		{1, 8, 1, 17, []int{1, 2}, []int{1, 1, 1, 1}, true, false, act{}, nil, nil},
		{1, 8, 20, 1, []int{3, 1}, []int{2, 1, 0, 1}, true, false, act{}, nil, nil},
		{2, 16, 9, 23, []int{1, 1}, []int{1, 1, 1, 1}, true, true, act{kind: actRelu}, nil, nil},
		{1, 8, 12, 12, []int{2, 2}, []int{1, 1, 1, 1}, true, false, act{kind: actLeaky, alpha: 0.1, lo: -inf, hi: inf}, nil, nil},
		{1, 32, 28, 28, []int{1, 1}, []int{1, 1, 1, 1}, true, false, clipOf(0, 6), nil, nil},
		{1, 16, 13, 11, []int{2, 1}, []int{2, 2, 2, 2}, true, false, act{kind: actRelu}, []int{5, 5}, nil},
		{2, 8, 9, 10, []int{1, 1}, []int{2, 2, 2, 2}, true, true, act{}, []int{5, 5}, nil},
		{1, 8, 15, 17, []int{1, 2}, []int{3, 3, 3, 3}, false, false, clipOf(0, 6), []int{7, 7}, nil},
		{1, 8, 12, 14, []int{1, 1}, []int{2, 2, 2, 2}, true, false, clipOf(-1, 1), []int{3, 3}, []int{2, 2}},
		{1, 24, 6, 9, []int{2, 2}, []int{0, 1, 0, 2}, true, false, act{}, []int{3, 5}, []int{1, 2}},
		{1, 8, 5, 5, []int{1, 1}, []int{0, 0, 0, 0}, true, false, act{}, []int{1, 1}, nil},
	}
	for _, strip := range []int{dwC8Strip, 300} {
		for _, th := range []int{1, 2} {
			for i, c := range cases {
				t.Run(fmt.Sprintf("strip=%d/threads=%d/case=%d", strip, th, i), func(t *testing.T) {
					defer func(s int) { dwC8Strip = s }(dwC8Strip)
					dwC8Strip = strip
					defer parallel.SetThreads(parallel.SetThreads(th))
					defer func(f bool) { forceParallel = f }(forceParallel)
					forceParallel = th > 1
					kern, dil := c.k, c.dil
					if kern == nil {
						kern = []int{3, 3}
					}
					if dil == nil {
						dil = []int{1, 1}
					}
					x, w := randTensor(r, c.n, c.c, c.h, c.w), randTensor(r, c.c, 1, kern[0], kern[1])
					var b *Tensor
					in := []*Tensor{x, w, nil}
					if c.bias {
						b = randTensor(r, c.c)
						in[2] = b
					}
					p64 := []int64{int64(c.pads[0]), int64(c.pads[1]), int64(c.pads[2]), int64(c.pads[3])}
					node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
						Attrs: []*Attribute{intAttr("group", int64(c.c)), intsAttr("strides", int64(c.s[0]), int64(c.s[1])),
							intsAttr("dilations", int64(dil[0]), int64(dil[1])), intsAttr("pads", p64...)}}
					kk, err := newConv(node)
					if err != nil {
						t.Fatal(err)
					}
					k := kk.(*convKernel)
					k.act = c.a
					if th == 2 {
						k.pack = &packedW{} // W constant: interleaved once (dwC8Pack)
					}
					want, shape := naiveConv(x, w, b, c.c, c.s, dil, c.pads)
					abs := func(t *Tensor) *Tensor {
						if t == nil {
							return nil
						}
						u := NewTensor(Float, t.Shape...)
						for i, v := range t.F32 {
							u.F32[i] = float32(math.Abs(float64(v)))
						}
						return u
					}
					mag, _ := naiveConv(abs(x), abs(w), abs(b), c.c, c.s, dil, c.pads)
					var res *Tensor
					if c.res {
						k.sum = true
						res = randTensor(r, shape...)
						in = append(in, res)
					}
					y := &Tensor{}
					for range 2 {
						if err := k.Run(in, []*Tensor{y}); err != nil {
							t.Fatal(err)
						}
					}
					if !eqInts(y.Shape, shape) {
						t.Fatalf("shape %v, want %v", y.Shape, shape)
					}
					const u = 1.0 / (1 << 24)
					g := func(n float64) float64 { return n * u / (1 - n*u) }
					terms := float64(kern[0]*kern[1] + 2) // taps, bias, residual
					for j, v := range want {
						m := mag[j]
						if res != nil {
							v += float64(res.F32[j])
							m += math.Abs(float64(res.F32[j]))
						}
						v = refAct(c.a, v)
						if d := math.Abs(float64(y.F32[j]) - v); d > g(terms)*m+1e-30 {
							t.Fatalf("element %d: got %g, want %g (bound %g)", j, y.F32[j], v, g(terms)*m)
						}
					}
				})
			}
		}
	}
}
