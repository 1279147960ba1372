package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

// levels runs f once per kernel level this build can run: the Go kernels,
// and the assembly where there is one.
func levels(t *testing.T, f func(t *testing.T)) {
	prev := useAVX2
	defer func() { useAVX2 = prev }()
	for _, asm := range []bool{false, true} {
		if asm && !prev {
			continue
		}
		useAVX2 = asm
		t.Run(fmt.Sprintf("asm=%v", asm), f)
	}
}

// TestDepthwiseAgainstNaive checks the depthwise kernels (Go and vector)
// against the naive convolution on widths either side of the vector
// kernels' 8- and 16-wide steps, both strides, dilations, every fused
// epilogue and a residual.
func TestDepthwiseAgainstNaive(t *testing.T) {
	type tc struct {
		h, w, k, s, sw, d, pad int
		a                      act
		res                    bool
	}
	var cases []tc
	for _, w := range []int{1, 5, 7, 8, 9, 15, 16, 17, 23, 33} {
		for _, s := range []int{1, 2} {
			cases = append(cases, tc{h: 5, w: w, k: 3, s: s, sw: s, d: 1, pad: 1, a: act{kind: actClip, lo: 0, hi: 6}})
		}
	}
	cases = append(cases,
		tc{h: 6, w: 19, k: 3, s: 1, sw: 2, d: 1, pad: 1, a: act{kind: actRelu}},
		tc{h: 9, w: 21, k: 3, s: 2, sw: 1, d: 2, pad: 2},
		tc{h: 9, w: 18, k: 5, s: 2, sw: 2, d: 1, pad: 2, a: act{kind: actRelu}},
		tc{h: 9, w: 18, k: 5, s: 1, sw: 3, d: 1, pad: 2},
		tc{h: 6, w: 40, k: 5, s: 2, sw: 1, d: 1, pad: 2, a: act{kind: actRelu}},
		tc{h: 5, w: 40, k: 3, s: 2, sw: 2, d: 1, pad: 0},
		tc{h: 5, w: 41, k: 3, s: 2, sw: 2, d: 1, pad: 2},
		tc{h: 5, w: 37, k: 5, s: 2, sw: 2, d: 1, pad: 1},
		tc{h: 6, w: 39, k: 5, s: 1, sw: 1, d: 1, pad: 1},
		tc{h: 7, w: 11, k: 3, s: 1, sw: 1, d: 1, pad: 1, a: act{kind: actLeaky, alpha: 0.2, lo: -0.3, hi: float32(math.Inf(1))}},
		tc{h: 7, w: 13, k: 3, s: 1, sw: 1, d: 1, pad: 1, a: act{kind: actRelu}, res: true},
		tc{h: 7, w: 13, k: 3, s: 2, sw: 2, d: 1, pad: 0, a: act{kind: actGelu}},
		tc{h: 7, w: 13, k: 3, s: 2, sw: 1, d: 1, pad: 1, a: act{kind: actHardSwish}},
		tc{h: 7, w: 13, k: 3, s: 1, sw: 1, d: 1, pad: 1, a: act{kind: actHardSwish}, res: true},
	)
	r := rand.New(rand.NewPCG(3, 4))
	levels(t, func(t *testing.T) {
		for i, c := range cases {
			x, w, b := randTensor(r, 2, 3, c.h, c.w), randTensor(r, 3, 1, c.k, c.k), randTensor(r, 3)
			strides, dil, pads := []int{c.s, c.sw}, []int{c.d, c.d}, []int{c.pad, c.pad, c.pad, c.pad}
			want, shape := naiveConv(x, w, b, 3, strides, dil, pads)
			n := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
				Attrs: []*Attribute{intAttr("group", 3), intsAttr("strides", int64(c.s), int64(c.sw)),
					intsAttr("dilations", int64(c.d), int64(c.d)), intsAttr("pads", int64(c.pad), int64(c.pad), int64(c.pad), int64(c.pad))}}
			kn, err := newConv(n)
			if err != nil {
				t.Fatal(err)
			}
			k := kn.(*convKernel)
			k.act = c.a
			in := []*Tensor{x, w, b}
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
				t.Fatalf("case %d %+v: shape %v, want %v", i, c, y.Shape, shape)
			}
			for j, v := range want {
				if res != nil {
					v += float64(res.F32[j])
				}
				v = refAct(c.a, v)
				if d := math.Abs(float64(y.F32[j]) - v); d > 1e-5*(1+math.Abs(v)) {
					t.Fatalf("case %d %+v: element %d: got %g, want %g", i, c, j, y.F32[j], v)
				}
			}
		}
	})
}

// refAct is the activation a in float64.
func refAct(a act, v float64) float64 {
	switch a.kind {
	case actRelu:
		return math.Max(v, 0)
	case actClip:
		return math.Min(math.Max(v, float64(a.lo)), float64(a.hi))
	case actLeaky:
		v = math.Max(v, 0) + float64(a.alpha)*math.Min(v, 0)
		return math.Min(math.Max(v, float64(a.lo)), float64(a.hi))
	case actGelu:
		return 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
	case actHardSwish:
		return v * math.Min(math.Max(v+3, 0), 6) / 6
	}
	return v
}

// TestEpilogueAgainstLoop checks the epilogue kernels against a loop in
// float64 on lengths either side of their 8- and 32-wide steps, with NaN
// guards after the end.
func TestEpilogueAgainstLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	inf := float32(math.Inf(1))
	acts := []act{{}, {kind: actRelu}, {kind: actClip, lo: -0.25, hi: 0.5},
		{kind: actLeaky, alpha: 0.1, lo: -inf, hi: inf}, {kind: actLeaky, alpha: 0.1, lo: -0.05, hi: 0.3},
		{kind: actHardSwish}}
	levels(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 40, 65, 100} {
			for _, a := range acts {
				for _, withRes := range []bool{false, true} {
					buf := make([]float32, n+4)
					rb := make([]float32, n+4)
					for i := range buf {
						buf[i], rb[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
					}
					for i := n; i < n+4; i++ {
						buf[i] = float32(math.NaN())
					}
					y0 := append([]float32(nil), buf...)
					var res []float32
					if withRes {
						res = rb[:n]
					}
					epilogue(a, buf[:n], res, 0.125)
					for i := range n {
						v := float64(y0[i]) + 0.125
						if withRes {
							v += float64(rb[i])
						}
						if want := refAct(a, v); math.Abs(float64(buf[i])-want) > 1e-6*(1+math.Abs(want)) {
							t.Fatalf("n %d act %+v res %v: element %d: got %g, want %g", n, a, withRes, i, buf[i], want)
						}
					}
					for i := n; i < n+4; i++ {
						if !math.IsNaN(float64(buf[i])) {
							t.Fatalf("n %d: wrote past the end at %d", n, i)
						}
					}
				}
			}
		}
	})
}

// TestDirectConvAgainstNaive checks the direct path of convolutions with
// a few input channels per group (MobileNetV2's first layer: 3 channels,
// 3×3, stride 2) against the naive convolution, at both kernel levels.
func TestDirectConvAgainstNaive(t *testing.T) {
	cases := []struct {
		x, w               []int
		group, stride, pad int
		a                  act
		res                bool
	}{
		{x: []int{1, 3, 17, 19}, w: []int{8, 3, 3, 3}, group: 1, stride: 2, pad: 1, a: act{kind: actClip, lo: 0, hi: 6}},
		{x: []int{2, 3, 9, 33}, w: []int{5, 3, 3, 3}, group: 1, stride: 1, pad: 1, a: act{kind: actRelu}, res: true},
		{x: []int{1, 4, 10, 12}, w: []int{6, 2, 3, 3}, group: 2, stride: 2, pad: 0},
		{x: []int{1, 2, 7, 20}, w: []int{9, 2, 3, 1}, group: 1, stride: 1, pad: 0, a: act{kind: actHardSwish}},
	}
	r := rand.New(rand.NewPCG(9, 10))
	levels(t, func(t *testing.T) {
		for i, c := range cases {
			x, w, b := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
			p := int64(c.pad)
			n := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
				Attrs: []*Attribute{intAttr("group", int64(c.group)), intsAttr("strides", int64(c.stride), int64(c.stride)), intsAttr("pads", p, p, p, p)}}
			kn, err := newConv(n)
			if err != nil {
				t.Fatal(err)
			}
			k := kn.(*convKernel)
			k.act = c.a
			want, shape := naiveConv(x, w, b, c.group, []int{c.stride, c.stride}, []int{1, 1}, []int{c.pad, c.pad, c.pad, c.pad})
			in := []*Tensor{x, w, b}
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
				t.Fatalf("case %d: shape %v, want %v", i, y.Shape, shape)
			}
			for j, v := range want {
				if res != nil {
					v += float64(res.F32[j])
				}
				v = refAct(c.a, v)
				if d := math.Abs(float64(y.F32[j]) - v); d > 1e-5*(1+math.Abs(v)) {
					t.Fatalf("case %d: element %d: got %g, want %g", i, j, y.F32[j], v)
				}
			}
		}
	})
}

// TestMaxPool2DAgainstNaive checks maxPool2D (its inside-the-image fast
// paths and the general one) against a loop over every tap.
func TestMaxPool2DAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct{ h, w, kh, kw, sh, sw, ph, pw int }{
		{8, 10, 2, 2, 2, 2, 0, 0}, {9, 11, 2, 2, 2, 2, 0, 0}, {7, 9, 3, 3, 2, 2, 0, 0},
		{6, 7, 2, 2, 1, 1, 0, 0}, {5, 9, 1, 3, 1, 2, 0, 0}, {7, 7, 3, 3, 2, 2, 1, 1},
		{8, 8, 3, 3, 2, 2, 1, 1}, {9, 10, 3, 2, 1, 3, 2, 1}, {4, 5, 5, 5, 1, 1, 2, 2},
	} {
		oh, ow := (c.h+2*c.ph-c.kh)/c.sh+1, (c.w+2*c.pw-c.kw)/c.sw+1
		x := make([]float32, c.h*c.w)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		y := make([]float32, oh*ow)
		lo := float32(math.Inf(-1))
		maxPool2D(x, y, lo, c.h, c.w, oh, ow, c.kh, c.kw, c.sh, c.sw, 1, 1, c.ph, c.pw)
		for i := range oh {
			for j := range ow {
				m := lo
				for a := range c.kh {
					for b := range c.kw {
						ih, iw := i*c.sh-c.ph+a, j*c.sw-c.pw+b
						if ih >= 0 && ih < c.h && iw >= 0 && iw < c.w && x[ih*c.w+iw] > m {
							m = x[ih*c.w+iw]
						}
					}
				}
				if y[i*ow+j] != m {
					t.Fatalf("%+v: output (%d, %d) = %g, want %g", c, i, j, y[i*ow+j], m)
				}
			}
		}
	}
}

// TestRowArithAgainstLoop checks the float32 Add/Sub/Mul/Div of
// same-shape operands and of a broadcast row (either side), large enough
// to take the parallel vector path, against a loop, at both levels.
func TestRowArithAgainstLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	prev := parallel.SetThreads(2)
	defer parallel.SetThreads(prev)
	levels(t, func(t *testing.T) {
		for _, c := range []struct{ a, b []int }{
			{[]int{3, 130, 101}, []int{3, 130, 101}},
			{[]int{1, 257, 131}, []int{131}},
			{[]int{1, 1, 131}, []int{4, 257, 131}},
			{[]int{64, 600}, []int{1, 600}},
		} {
			for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
				a, b := randTensor(r, c.a...), randTensor(r, c.b...)
				shape, err := BroadcastShape(a.Shape, b.Shape)
				if err != nil {
					t.Fatal(err)
				}
				o := &Tensor{}
				o.Reset(Float, shape)
				if !rowArith(op, a, b, o, shape) {
					t.Fatalf("%s %v %v: not taken", op, c.a, c.b)
				}
				sa, sb := BroadcastStrides(a.Shape, shape), BroadcastStrides(b.Shape, shape)
				id := BroadcastStrides(shape, shape)
				ForBroadcast(shape, [][]int{id, sa, sb}, func(i int, idx []int) {
					x, y := a.F32[idx[1]], b.F32[idx[2]]
					var want float32
					switch op {
					case "Add":
						want = x + y
					case "Sub":
						want = x - y
					case "Mul":
						want = x * y
					case "Div":
						want = x / y
					}
					if o.F32[i] != want {
						t.Fatalf("%s %v %v: element %d = %g, want %g", op, c.a, c.b, i, o.F32[i], want)
					}
				})
			}
		}
	})
}
