package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

// TestConvPackedWeights: a Conv with its weights packed once (packedW)
// gives, at 1 and 2 threads and on every run, the bits of the same Conv
// multiplying the unpacked weights, and the naive convolution's values:
// 1×1 windows read in place (with and without column blocks), im2col
// windows, groups, a residual; float64 bitwise as well.
func TestConvPackedWeights(t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	// GEMM's packed weights: the direct 1×1 kernels have their own test
	// (TestConv1x1Direct).
	defer func(v bool) { c1x1Off = v }(c1x1Off)
	c1x1Off = true
	r := rand.New(rand.NewPCG(21, 22))
	cases := []struct {
		x, w        []int
		group, s, p int
		res, f64    bool
	}{
		{x: []int{1, 32, 20, 20}, w: []int{48, 32, 1, 1}, group: 1, s: 1},
		{x: []int{1, 8, 64, 40}, w: []int{20, 8, 1, 1}, group: 1, s: 1, res: true}, // column blocks
		{x: []int{2, 16, 14, 14}, w: []int{32, 8, 3, 3}, group: 2, s: 1, p: 1},
		{x: []int{1, 24, 15, 15}, w: []int{40, 24, 3, 3}, group: 1, s: 2, p: 1},
		{x: []int{1, 7, 9, 9}, w: []int{5, 7, 1, 1}, group: 1, s: 1}, // small: plain GEMM
		{x: []int{1, 32, 20, 20}, w: []int{48, 32, 1, 1}, group: 1, s: 1, f64: true},
		{x: []int{1, 16, 12, 12}, w: []int{24, 8, 3, 3}, group: 2, s: 1, p: 1, f64: true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("case=%d/x=%v/w=%v/group=%d/f64=%v", i, c.x, c.w, c.group, c.f64), func(t *testing.T) {
			x, w, b := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
			pads := []int{c.p, c.p, c.p, c.p}
			want, shape := naiveConv(x, w, b, c.group, []int{c.s, c.s}, []int{1, 1}, pads)
			in := []*Tensor{x, w, b}
			var res *Tensor
			if c.res {
				res = randTensor(r, shape...)
				in = append(in, res)
			}
			if c.f64 {
				for j, v := range in {
					d := NewTensor(Double, v.Shape...)
					for e, f := range v.F32 {
						d.F64[e] = float64(f)
					}
					in[j] = d
				}
			}
			p := int64(c.p)
			mk := func(packed bool) *convKernel {
				n := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
					Attrs: []*Attribute{intAttr("group", int64(c.group)), intsAttr("strides", int64(c.s), int64(c.s)), intsAttr("pads", p, p, p, p)}}
				kn, err := newConv(n)
				if err != nil {
					t.Fatal(err)
				}
				k := kn.(*convKernel)
				k.act = act{kind: actRelu}
				k.sum = c.res
				if packed {
					k.pack = &packedW{}
				}
				return k
			}
			plain, packed := mk(false), mk(true)
			for _, th := range []int{1, 2} {
				parallel.SetThreads(th)
				y0, y1 := &Tensor{}, &Tensor{}
				if err := plain.Run(in, []*Tensor{y0}); err != nil {
					t.Fatal(err)
				}
				for run := range 2 {
					if err := packed.Run(in, []*Tensor{y1}); err != nil {
						t.Fatal(err)
					}
					if !eqInts(y1.Shape, shape) {
						t.Fatalf("shape %v, want %v", y1.Shape, shape)
					}
					for j, v := range want {
						if res != nil {
							v += float64(res.F32[j])
						}
						v = math.Max(v, 0)
						var got, ref float64
						if c.f64 {
							got, ref = y1.F64[j], y0.F64[j]
						} else {
							got, ref = float64(y1.F32[j]), float64(y0.F32[j])
						}
						if got != ref {
							t.Fatalf("threads=%d run %d: element %d: packed %g, unpacked %g", th, run, j, got, ref)
						}
						if d := math.Abs(got - v); d > 1e-5*(1+math.Abs(v)) {
							t.Fatalf("threads=%d run %d: element %d: got %g, want %g", th, run, j, got, v)
						}
					}
				}
			}
			if packed.pack.f32 == nil && packed.pack.f64 == nil && c.x[1] != 7 {
				t.Errorf("weights never packed")
			}
		})
	}
}

// TestMarkConstW: the rewrites give a model's Conv nodes with constant
// weights a packedW.
func TestMarkConstW(t *testing.T) {
	m := loadFused(t, "testdata/models/tiny_cnn_op13.onnx", true)
	convs, packed := 0, 0
	for _, n := range m.Graph.Nodes {
		if k, ok := n.kernel.(*convKernel); ok {
			convs++
			if k.pack != nil {
				packed++
			}
		}
	}
	if convs == 0 || packed != convs {
		t.Fatalf("%d of %d Conv nodes marked", packed, convs)
	}
}

// TestConvColumnSplit: at 2 threads, column blocks split between threads
// (convColArgs) give the bits of GEMM's own split, and the naive
// convolution's values, for a 1×1 window read in place and an im2col one,
// with a residual and an uneven last block.
func TestConvColumnSplit(t *testing.T) {
	defer parallel.SetThreads(parallel.SetThreads(2))
	defer func() { convNoColSplit = false }()
	r := rand.New(rand.NewPCG(23, 24))
	for _, c := range []struct{ x, w []int }{
		{x: []int{1, 8, 64, 40}, w: []int{20, 8, 1, 1}},
		{x: []int{1, 24, 56, 56}, w: []int{144, 24, 1, 1}},
		{x: []int{2, 4, 50, 47}, w: []int{12, 4, 3, 3}},
	} {
		x, w, b := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
		p := int64(c.w[2] / 2)
		pads := []int{int(p), int(p), int(p), int(p)}
		want, shape := naiveConv(x, w, b, 1, []int{1, 1}, []int{1, 1}, pads)
		res := randTensor(r, shape...)
		in := []*Tensor{x, w, b, res}
		var ys [2]*Tensor
		for i, off := range []bool{true, false} {
			convNoColSplit = off
			n := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
				Attrs: []*Attribute{intsAttr("pads", p, p, p, p)}}
			kn, err := newConv(n)
			if err != nil {
				t.Fatal(err)
			}
			k := kn.(*convKernel)
			k.act, k.sum, k.pack = act{kind: actClip, lo: 0, hi: 6}, true, &packedW{}
			ys[i] = &Tensor{}
			for range 2 {
				if err := k.Run(in, []*Tensor{ys[i]}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for j, v := range want {
			v = math.Min(math.Max(v+float64(res.F32[j]), 0), 6)
			if ys[0].F32[j] != ys[1].F32[j] {
				t.Fatalf("x %v w %v: element %d: split %g, unsplit %g", c.x, c.w, j, ys[1].F32[j], ys[0].F32[j])
			}
			if d := math.Abs(float64(ys[1].F32[j]) - v); d > 1e-5*(1+math.Abs(v)) {
				t.Fatalf("x %v w %v: element %d: got %g, want %g", c.x, c.w, j, ys[1].F32[j], v)
			}
		}
	}
}

// TestConvShiftAgainstNaive: KH×1 convolutions at stride 1 without
// padding (convShift: KH products reading the image in place) give the
// naive convolution's values, at 1 and 2 threads, with groups, dilation,
// column blocks, a residual, float64; and the same values as im2col
// (convNoShift) to rounding.
func TestConvShiftAgainstNaive(t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	defer func() { convNoShift = false }()
	r := rand.New(rand.NewPCG(25, 26))
	cases := []struct {
		x, w       []int
		group, dil int
		res, f64   bool
	}{
		{x: []int{1, 24, 20, 12}, w: []int{24, 24, 3, 1}, group: 1, dil: 1},
		{x: []int{2, 20, 11, 5}, w: []int{12, 10, 3, 1}, group: 2, dil: 2, res: true},
		{x: []int{1, 12, 70, 40}, w: []int{16, 12, 3, 1}, group: 1, dil: 1, res: true}, // column blocks
		{x: []int{1, 6, 9, 7}, w: []int{10, 6, 5, 1}, group: 1, dil: 1},
		{x: []int{1, 16, 12, 6}, w: []int{20, 16, 3, 1}, group: 1, dil: 1, f64: true},
	}
	for i, c := range cases {
		x, w, b := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
		want, shape := naiveConv(x, w, b, c.group, []int{1, 1}, []int{c.dil, 1}, []int{0, 0, 0, 0})
		in := []*Tensor{x, w, b}
		var res *Tensor
		if c.res {
			res = randTensor(r, shape...)
			in = append(in, res)
		}
		if c.f64 {
			for j, v := range in {
				d := NewTensor(Double, v.Shape...)
				for e, f := range v.F32 {
					d.F64[e] = float64(f)
				}
				in[j] = d
			}
		}
		for _, th := range []int{1, 2} {
			parallel.SetThreads(th)
			for _, off := range []bool{false, true} {
				convNoShift = off
				n := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
					Attrs: []*Attribute{intAttr("group", int64(c.group)), intsAttr("dilations", int64(c.dil), 1)}}
				kn, err := newConv(n)
				if err != nil {
					t.Fatal(err)
				}
				k := kn.(*convKernel)
				k.act, k.sum, k.pack = act{kind: actRelu}, c.res, &packedW{}
				y := &Tensor{}
				for range 2 {
					if err := k.Run(in, []*Tensor{y}); err != nil {
						t.Fatal(err)
					}
				}
				if !eqInts(y.Shape, shape) {
					t.Fatalf("case %d: shape %v, want %v", i, y.Shape, shape)
				}
				if !off && k.pack.s32 == nil && k.pack.s64 == nil {
					t.Fatalf("case %d: the shifted products did not run", i)
				}
				for j, v := range want {
					if res != nil {
						v += float64(res.F32[j])
					}
					v = math.Max(v, 0)
					got := 0.0
					if c.f64 {
						got = y.F64[j]
					} else {
						got = float64(y.F32[j])
					}
					if d := math.Abs(got - v); d > 1e-5*(1+math.Abs(v)) {
						t.Fatalf("case %d threads=%d noShift=%v: element %d: got %g, want %g", i, th, off, j, got, v)
					}
				}
			}
		}
	}
}
