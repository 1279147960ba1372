package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

// c1x1Case is one 1×1 convolution of the direct kernels' test: c input and
// m output channels over an h×w plane, n images.
type c1x1Case struct{ n, c, m, h, w int }

// TestConv1x1Direct compares the 1×1 convolution (the direct AVX2 kernels
// where the build has them, GEMM elsewhere) with a float64 loop by the
// definition, over shapes that reach every tail of the kernels: panels of
// 1..6 channels (m not a multiple of 6), pixel counts 1..40 and 49, tiles
// of 16 and 8 pixels and tails of 1..7, 1-D and 2-D, each with and without
// bias and residual, without activation, with Relu and with Clip, at 1 and
// 2 threads. The error bound is Higham's γ_n·Σ|terms| with n = C + 2
// roundings per output (the bias, C fused multiply-adds, the residual; the
// tail's four chains and their two sums round at most ⌈C/4⌉ + 2 times, and
// exactly when C ≤ 2 leaves chains at zero); the clamp does not enlarge
// it. The direct kernels run on the image in place and packed.
func TestConv1x1Direct(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	var cases []c1x1Case
	for p := 1; p <= 40; p++ {
		cases = append(cases, c1x1Case{1, 1 + p%7*3, 1 + p%13, 1, p})
	}
	cases = append(cases, c1x1Case{1, 16, 13, 7, 7}, c1x1Case{2, 24, 20, 5, 9}, c1x1Case{1, 96, 8, 7, 7},
		c1x1Case{1, 5, 30, 24, 24}, c1x1Case{1, 40, 64, 3, 3})
	acts := []act{{}, {kind: actRelu}, {kind: actClip, lo: -0.5, hi: 1.5}}
	defer func(v int) { c1x1PackMode = v }(c1x1PackMode)
	for _, th := range []int{1, 2} {
		prev := parallel.SetThreads(th)
		for _, pm := range []int{-1, 1} { // the image in place, packed
			c1x1PackMode = pm
			for ci, tc := range cases {
				for opt := range 4 {
					hasB, hasR := opt&1 != 0, opt&2 != 0
					a := acts[(ci+opt)%len(acts)]
					name := fmt.Sprintf("th=%d/pack=%d/n=%d/c=%d/m=%d/%dx%d/b=%v/r=%v/act=%d", th, pm, tc.n, tc.c, tc.m, tc.h, tc.w, hasB, hasR, a.kind)
					checkConv1x1(t, r, name, tc, a, hasB, hasR)
				}
			}
		}
		parallel.SetThreads(prev)
	}
}

// TestConv1x1Pays: the direct kernels take every 1×1 convolution of
// MobileNetV2 (where BenchmarkConv1x1 measured them) and leave to GEMM
// one that would read 4 MB of weights four times.
func TestConv1x1Pays(t *testing.T) {
	for _, s := range [][3]int{{16, 96, 12544}, {24, 144, 3136}, {32, 16, 12544}, {96, 24, 3136}, {144, 24, 3136},
		{32, 192, 784}, {192, 32, 784}, {64, 384, 196}, {384, 64, 196}, {576, 96, 196}, {96, 576, 196},
		{160, 960, 49}, {960, 160, 49}, {960, 320, 49}, {320, 1280, 49}} {
		if !c1x1Pays(s[0], s[1], s[2]) {
			t.Errorf("%d→%d over %d pixels: GEMM, want the direct kernel", s[0], s[1], s[2])
		}
	}
	if c1x1Pays(2048, 512, 49) {
		t.Errorf("2048→512 over 49 pixels: the direct kernel, want GEMM")
	}
}

func checkConv1x1(t *testing.T, r *rand.Rand, name string, tc c1x1Case, a act, hasB, hasR bool) {
	t.Helper()
	hw := tc.h * tc.w
	x, w := randTensor(r, tc.n, tc.c, tc.h, tc.w), randTensor(r, tc.m, tc.c, 1, 1)
	if tc.h == 1 && tc.w%3 == 0 {
		// A 1-D convolution (a 2-D one of height 1 to convRun).
		x.Shape, w.Shape = []int{tc.n, tc.c, tc.w}, []int{tc.m, tc.c, 1}
	}
	var b, res *Tensor
	in := []*Tensor{x, w, nil}
	if hasB {
		b = randTensor(r, tc.m)
		in[2] = b
	}
	if hasR {
		res = randTensor(r, tc.n, tc.m, tc.h, tc.w)
		if x.Rank() == 3 {
			res.Shape = []int{tc.n, tc.m, tc.w}
		}
		in = append(in, res)
	}
	node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"}}
	node.graph = &Graph{consts: map[string]*Tensor{"w": w}}
	kk, err := newConv(node)
	if err != nil {
		t.Fatal(err)
	}
	k := kk.(*convKernel)
	k.act, k.sum, k.pack = a, hasR, &packedW{}
	out := []*Tensor{{}}
	for range 2 { // the second run reads the packed weights
		if err := k.Run(in, out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	y := out[0]
	ys := [][]float32{y.F32}
	if useAVX2 {
		// Run took the direct path (but for one input channel, which is
		// depthwise): calling it again gives the same bits.
		var rs []float32
		if hasR {
			rs = res.F32
		}
		var bs []float32
		if hasB {
			bs = b.F32
		}
		y2 := make([]float32, len(y.F32))
		if !conv1x1(k, a, tc.n, tc.c, tc.m, hw, x.F32, w.F32, bs, rs, y2) {
			t.Fatalf("%s: the direct kernel does not apply", name)
		}
		ys = append(ys, y2)
		for i := range y2 {
			if tc.c > 1 && y2[i] != y.F32[i] && !(y2[i] != y2[i] && y.F32[i] != y.F32[i]) {
				t.Fatalf("%s: Run's y[%d] = %g, the direct kernel's %g", name, i, y.F32[i], y2[i])
			}
		}
	}
	lo, hi, _ := clampOf[float64](a)
	nn := float64(tc.c + 2)
	eps := math.Ldexp(1, -24)
	gamma := nn * eps / (1 - nn*eps)
	for i := range tc.n {
		for o := range tc.m {
			for p := range hw {
				s, abs := 0.0, 0.0
				for c := range tc.c {
					v := float64(w.F32[o*tc.c+c]) * float64(x.F32[(i*tc.c+c)*hw+p])
					s += v
					abs += math.Abs(v)
				}
				if hasB {
					s += float64(b.F32[o])
					abs += math.Abs(float64(b.F32[o]))
				}
				j := (i*tc.m+o)*hw + p
				if hasR {
					s += float64(res.F32[j])
					abs += math.Abs(float64(res.F32[j]))
				}
				want := min(max(s, lo), hi)
				for _, y := range ys {
					if d := math.Abs(float64(y[j]) - want); !(d <= gamma*abs) {
						t.Fatalf("%s: y[%d] = %g, want %g (error %.3g > bound %.3g)", name, j, y[j], want, d, gamma*abs)
					}
				}
			}
		}
	}
}

// BenchmarkConv1x1 times MobileNetV2's 1×1 convolutions (batch 1, Clip(0,
// 6) fused where the model has it, the residual where it has one) on the
// direct kernels (as chosen, on the image in place, packed) and on GEMM, at the threads set (ADJOINT_NUM_THREADS).
func BenchmarkConv1x1(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	type shape struct {
		c, m, hw  int
		clip, res bool
	}
	shapes := []shape{
		{16, 96, 112, true, false}, {24, 144, 56, true, false}, {32, 16, 112, false, false}, {96, 24, 56, false, false},
		{144, 24, 56, false, true}, {32, 192, 28, true, false}, {192, 32, 28, false, true}, {64, 384, 14, true, false},
		{384, 64, 14, false, true}, {576, 96, 14, false, true}, {160, 960, 7, true, false}, {960, 160, 7, false, true},
		{960, 320, 7, false, false}, {320, 1280, 7, true, false},
	}
	for _, s := range shapes {
		x, w, bias := randTensor(r, 1, s.c, s.hw, s.hw), randTensor(r, s.m, s.c, 1, 1), randTensor(r, s.m)
		in := []*Tensor{x, w, bias}
		if s.res {
			in = append(in, randTensor(r, 1, s.m, s.hw, s.hw))
		}
		for _, path := range []string{"auto", "inplace", "packed", "gemm"} {
			b.Run(fmt.Sprintf("c=%d/m=%d/hw=%d/res=%v/%s", s.c, s.m, s.hw, s.res, path), func(b *testing.B) {
				defer func(v bool, p int) { c1x1Off, c1x1PackMode = v, p }(c1x1Off, c1x1PackMode)
				c1x1Off = path == "gemm"
				c1x1PackMode = map[string]int{"inplace": -1, "packed": 1}[path]
				node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"}}
				node.graph = &Graph{consts: map[string]*Tensor{"w": w}}
				kk, err := newConv(node)
				if err != nil {
					b.Fatal(err)
				}
				k := kk.(*convKernel)
				if s.clip {
					k.act = act{kind: actClip, lo: 0, hi: 6}
				}
				k.sum, k.pack = s.res, &packedW{}
				out := []*Tensor{{}}
				if err := k.Run(in, out); err != nil {
					b.Fatal(err)
				}
				c0 := cpuTime()
				for b.Loop() {
					if err := k.Run(in, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/op")
				b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/1e3/float64(b.N), "cpuµs/op")
			})
		}
	}
}
