package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

// cdCase is a convolution for the direct path: x [N, C, H, W], w [M,
// C/group, KH, KW], strides, dilations, pads (begin…, end…) or an
// auto_pad kind.
type cdCase struct {
	x, w       []int
	group      int
	s, d, pads []int
	autoPad    string
	bias, res  bool
	a          act
}

// autoPads resolves auto_pad as ONNX defines it (SAME: output ⌈in/s⌉, the
// odd padding at the end for SAME_UPPER, at the beginning for SAME_LOWER).
func (tc cdCase) autoPads() []int {
	if tc.autoPad == "" {
		return tc.pads
	}
	p := make([]int, 4)
	if tc.autoPad == "VALID" {
		return p
	}
	for i := range 2 {
		in, k := tc.x[2+i], tc.w[2+i]
		out := (in + tc.s[i] - 1) / tc.s[i]
		total := max(0, (out-1)*tc.s[i]+(k-1)*tc.d[i]+1-in)
		small := total / 2
		if tc.autoPad == "SAME_UPPER" {
			p[i], p[2+i] = small, total-small
		} else {
			p[i], p[2+i] = total-small, small
		}
	}
	return p
}

func absTensor(t *Tensor) *Tensor {
	a := NewTensor(Float, t.Shape...)
	for i, v := range t.F32 {
		a.F32[i] = float32(math.Abs(float64(v)))
	}
	return a
}

// TestConvDirectAgainstNaive checks the direct path for several input
// channels per group (1 < C/group, C/group·KH·KW ≤ 27, or C/group ≤
// directTileChannels with a larger window) against ONNX's
// definition in float64 (naiveConv), for both kernels (the tiled AVX2 one
// and, to 27 taps, convDepthwise's Go one; GEMM above), one and two
// threads. Each output is a sum
// of kk = C/group·KH·KW products, the bias and the residual, rounded in a
// chain of at most kk + 2 operations: its error is at most γ_{kk+2}·(Σ|w·x|
// + |b| + |r|) (Higham's bound, as in TestWinogradAgainstNaive). Relu,
// Clip and LeakyRelu (slope < 1) do not enlarge it; HardSwish, of slope at
// most 1.5, scales it by 1.5 and adds its own four roundings.
func TestConvDirectAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 27))
	clip := act{kind: actClip, lo: 0, hi: 6}
	inf := float32(math.Inf(1))
	one, two := []int{1, 1}, []int{2, 2}
	cases := []cdCase{
		{x: []int{1, 3, 17, 23}, w: []int{32, 3, 3, 3}, group: 1, s: two, d: one, pads: []int{1, 1, 1, 1}, bias: true, a: clip},
		{x: []int{2, 3, 9, 40}, w: []int{8, 3, 3, 3}, group: 1, s: two, d: one, autoPad: "SAME_UPPER", bias: true, a: act{kind: actHardSwish}},
		{x: []int{1, 2, 11, 1}, w: []int{5, 2, 3, 3}, group: 1, s: one, d: one, pads: []int{1, 1, 1, 1}, a: act{kind: actRelu}},
		{x: []int{1, 6, 13, 19}, w: []int{6, 3, 3, 3}, group: 2, s: one, d: one, autoPad: "SAME_LOWER", bias: true, res: true, a: act{kind: actRelu}},
		{x: []int{1, 4, 10, 33}, w: []int{10, 2, 3, 3}, group: 2, s: two, d: one, autoPad: "VALID", bias: true, res: true},
		{x: []int{1, 3, 12, 31}, w: []int{7, 3, 1, 9}, group: 1, s: []int{1, 2}, d: one, pads: []int{0, 4, 1, 3}, bias: true, a: clip},
		{x: []int{1, 3, 14, 9}, w: []int{4, 3, 9, 1}, group: 1, s: []int{2, 1}, d: one, pads: []int{4, 0, 3, 0}, a: clip},
		{x: []int{1, 2, 15, 25}, w: []int{9, 2, 3, 3}, group: 1, s: []int{3, 3}, d: two, pads: []int{2, 2, 2, 2}, bias: true, a: act{kind: actClip, lo: -0.5, hi: 1}},
		{x: []int{1, 2, 5, 7}, w: []int{3, 2, 1, 13}, group: 1, s: one, d: one, pads: []int{0, 6, 0, 6}, bias: true, a: act{kind: actLeaky, alpha: 0.1, lo: -inf, hi: inf}},
		{x: []int{3, 9, 8, 18}, w: []int{12, 3, 2, 2}, group: 3, s: two, d: one, autoPad: "SAME_UPPER", res: true, a: clip},
	}
	// Over 27 taps, at most directTileChannels channels per group.
	cases = append(cases,
		cdCase{x: []int{1, 3, 23, 29}, w: []int{16, 3, 7, 7}, group: 1, s: two, d: one, pads: []int{3, 3, 3, 3}, bias: true, a: act{kind: actRelu}},
		cdCase{x: []int{1, 8, 12, 17}, w: []int{6, 4, 5, 5}, group: 2, s: one, d: two, autoPad: "SAME_UPPER", bias: true, res: true, a: clip},
		cdCase{x: []int{1, 3, 39, 45}, w: []int{5, 3, 11, 11}, group: 1, s: []int{4, 4}, d: one, pads: []int{2, 2, 2, 2}, bias: true},
		cdCase{x: []int{2, 32, 9, 11}, w: []int{32, 4, 3, 3}, group: 8, s: one, d: one, pads: []int{1, 1, 1, 1}, res: true, a: act{kind: actRelu}},
	)
	for wd := 1; wd <= 40; wd++ {
		cases = append(cases, cdCase{x: []int{1, 3, 5, wd}, w: []int{5, 3, 3, 3}, group: 1, s: []int{1 + wd%2, 1 + wd%2}, d: one,
			pads: []int{1, 1, 1, 1}, bias: true, a: clip})
	}
	kernels := []string{"go"}
	if useAVX2 {
		kernels = append(kernels, "avx2")
	}
	eps := math.Ldexp(1, -24)
	for _, tc := range cases {
		x, w, b := randTensor(r, tc.x...), randTensor(r, tc.w...), randTensor(r, tc.w[0])
		if !tc.bias {
			b = nil
		}
		pads := tc.autoPads()
		want, shape := naiveConv(x, w, b, tc.group, tc.s, tc.d, pads)
		bound, _ := naiveConv(absTensor(x), absTensor(w), nil, tc.group, tc.s, tc.d, pads)
		var res *Tensor
		if tc.res {
			res = randTensor(r, shape...)
		}
		kk := tc.w[1] * tc.w[2] * tc.w[3]
		nn := float64(kk + 2)
		gamma := nn * eps / (1 - nn*eps)
		for _, kern := range kernels {
			for _, th := range []int{1, 2} {
				name := fmt.Sprintf("x=%v/w=%v/g=%d/s=%v/d=%v/pads=%v%s/bias=%v/res=%v/act=%d/kernel=%s/threads=%d",
					tc.x, tc.w, tc.group, tc.s, tc.d, tc.pads, tc.autoPad, tc.bias, tc.res, tc.a.kind, kern, th)
				t.Run(name, func(t *testing.T) {
					defer func(u bool) { useAVX2 = u }(useAVX2)
					useAVX2 = kern == "avx2"
					defer parallel.SetThreads(parallel.SetThreads(th))
					defer func(f bool) { forceParallel = f }(forceParallel)
					forceParallel = th > 1
					y := cdRun(t, tc, x, w, b, res)
					if !eqInts(y.Shape, shape) {
						t.Fatalf("shape %v, want %v", y.Shape, shape)
					}
					worst := 0.0
					for i, v := range want {
						o := i / (shape[2] * shape[3]) % shape[1]
						extra := 0.0
						if b != nil {
							extra += math.Abs(float64(b.F32[o]))
						}
						if res != nil {
							v += float64(res.F32[i])
							extra += math.Abs(float64(res.F32[i]))
						}
						tol := gamma * (bound[i] + extra)
						switch tc.a.kind {
						case actLeaky:
							v = max(v, 0) + float64(tc.a.alpha)*min(v, 0)
						case actHardSwish:
							v = v * min(max(v+3, 0), 6) / 6
							tol = 1.5*tol + 4*eps*math.Abs(v)
						}
						lo, hi, _ := clampOf[float64](tc.a)
						if tc.a.kind != actHardSwish {
							v = min(max(v, lo), hi)
						}
						d := math.Abs(float64(y.F32[i]) - v)
						if !(d <= tol) {
							t.Fatalf("element %d: got %g, want %g (error %.3g > bound %.3g)", i, y.F32[i], v, d, tol)
						}
						if tol > 0 {
							worst = max(worst, d/tol)
						}
					}
					t.Logf("largest error / bound: %.3g", worst)
				})
			}
		}
	}
}

// cdRun runs tc's convolution through a Conv node (twice, the second run
// reusing the kernel's buffers and jobs).
func cdRun(t *testing.T, tc cdCase, x, w, b, res *Tensor) *Tensor {
	t.Helper()
	attrs := []*Attribute{intsAttr("strides", int64(tc.s[0]), int64(tc.s[1])),
		intsAttr("dilations", int64(tc.d[0]), int64(tc.d[1])), intAttr("group", int64(tc.group))}
	if tc.autoPad != "" {
		attrs = append(attrs, &Attribute{Name: "auto_pad", Type: AttrString, S: tc.autoPad})
	} else {
		p := tc.pads
		attrs = append(attrs, intsAttr("pads", int64(p[0]), int64(p[1]), int64(p[2]), int64(p[3])))
	}
	node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"}, Attrs: attrs}
	kk, err := newConv(node)
	if err != nil {
		t.Fatal(err)
	}
	k := kk.(*convKernel)
	k.act = tc.a
	in := []*Tensor{x, w, b}
	if b == nil {
		node.Inputs[2] = ""
		in = []*Tensor{x, w, nil}
	}
	if res != nil {
		k.sum = true
		node.Inputs = append(node.Inputs, "r")
		in = append(in, res)
	}
	y := &Tensor{}
	for range 2 {
		if err := k.Run(in, []*Tensor{y}); err != nil {
			t.Fatal(err)
		}
	}
	return y
}

// TestConvDirectKernelBounds runs the tile kernel itself (where there is
// one) on every tile width and row length up to 3 vectors and a half,
// with NaN guards around the output: it must write exactly the tile's
// rows (the last vector of each masked) and sum each output's taps (a
// naive float64 loop, within γ_{ntaps+1} of Σ|w·x| + |b|), clamped.
func TestConvDirectKernelBounds(t *testing.T) {
	if !useAVX2 {
		t.Skip("no direct convolution kernel on this platform")
	}
	r := rand.New(rand.NewPCG(8, 9))
	const guard, oh = 16, 3
	offs := []int{0, 1, 5, 40, 41, 45, 83} // 7 taps over a plane of rows xs apart
	eps := math.Ldexp(1, -24)
	for nc := 1; nc <= 4; nc++ {
		for ow := 1; ow <= 28; ow++ {
			xs, ys := ow+90, ow+3
			ycs := oh * ys
			x := make([]float32, (oh-1)*xs+83+ow+dwSlack)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			w := make([]float32, nc+2+len(offs)*nc)
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
			w[nc], w[nc+1] = -1, 1.5
			buf := make([]float32, guard+nc*ycs+guard)
			for i := range buf {
				buf[i] = float32(math.NaN())
			}
			y := buf[guard : guard+nc*ycs]
			taps := newTapOffsets(offs)
			// One float short of the output or of the plane's slack: the
			// bounds check refuses.
			for _, short := range [][2]int{{1, 0}, {0, 1}} {
				func() {
					defer func() {
						if recover() == nil {
							t.Fatalf("nc %d, ow %d: no panic with y %d and x %d floats short", nc, ow, short[0], short[1])
						}
					}()
					ye := (nc-1)*ycs + (oh-1)*ys + ow - short[0]
					convDirectAsm(y[:ye], x[:len(x)-short[1]], w, taps, nc, oh, ow, ys, ycs, xs)
				}()
			}
			if !convDirectAsm(y, x, w, taps, nc, oh, ow, ys, ycs, xs) {
				t.Fatal("no kernel ran")
			}
			for i, v := range buf {
				c, p := (i-guard)/ycs, (i-guard)%ycs
				inside := i >= guard && c < nc && p%ys < ow
				if !inside {
					if !math.IsNaN(float64(v)) {
						t.Fatalf("nc %d, ow %d: wrote %g at %d, outside the output", nc, ow, v, i-guard)
					}
					continue
				}
				row, q := p/ys, p%ys
				s, a := float64(w[c]), math.Abs(float64(w[c]))
				for k, o := range offs {
					pr := float64(w[nc+2+k*nc+c]) * float64(x[row*xs+q+o])
					s += pr
					a += math.Abs(pr)
				}
				want := min(max(s, -1), 1.5)
				n := float64(len(offs) + 1)
				if d := math.Abs(float64(v) - want); !(d <= n*eps/(1-n*eps)*a) {
					t.Fatalf("nc %d, ow %d: channel %d row %d col %d: got %g, want %g", nc, ow, c, row, q, v, want)
				}
			}
		}
	}
}

// BenchmarkConvDirect times the tiled direct kernel (impl=tiles) against
// the path the same convolution took without it (impl=old: convDepthwise's
// per-channel kernel to 27 taps, GEMM over patches above) on first layers
// (MobileNetV2, PaddleOCR's classifier, ResNet-18) and a ResNeXt-50
// grouped 3×3 (32 groups of 4 channels), at the threads set
// (ADJOINT_NUM_THREADS).
func BenchmarkConvDirect(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := []struct {
		name     string
		x, w     []int
		group, s int
		pad      int64
		a        act
	}{
		{"mobilenetv2-first", []int{1, 3, 224, 224}, []int{32, 3, 3, 3}, 1, 2, 1, act{kind: actClip, lo: 0, hi: 6}},
		{"ppocr-cls-first", []int{1, 3, 48, 192}, []int{8, 3, 3, 3}, 1, 2, 1, act{kind: actHardSwish}},
		{"resnet18-first", []int{1, 3, 224, 224}, []int{64, 3, 7, 7}, 1, 2, 3, act{kind: actRelu}},
		{"resnext50-g32", []int{1, 128, 56, 56}, []int{128, 4, 3, 3}, 32, 1, 1, act{kind: actRelu}},
	}
	for _, s := range shapes {
		x, w, bias := randTensor(r, s.x...), randTensor(r, s.w...), randTensor(r, s.w[0])
		for _, impl := range []string{"tiles", "old"} {
			b.Run(fmt.Sprintf("layer=%s/impl=%s", s.name, impl), func(b *testing.B) {
				defer func(v bool) { convNoTiles = v }(convNoTiles)
				convNoTiles = impl == "old"
				st := int64(s.s)
				node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
					Attrs: []*Attribute{intsAttr("pads", s.pad, s.pad, s.pad, s.pad), intsAttr("strides", st, st), intAttr("group", int64(s.group))}}
				node.graph = &Graph{consts: map[string]*Tensor{"w": w}}
				kk, err := newConv(node)
				if err != nil {
					b.Fatal(err)
				}
				k := kk.(*convKernel)
				k.act = s.a
				k.pack = &packedW{} // W is a constant, as markConstW finds it
				in, out := []*Tensor{x, w, bias}, []*Tensor{{}}
				if err := k.Run(in, out); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if err := k.Run(in, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/op")
			})
		}
	}
}

// TestConvDirect1D: a 1-D convolution (run as a 2-D one of height 1) with
// a few channels per group takes the direct path too; against naiveConv
// with the bound of TestConvDirectAgainstNaive.
func TestConvDirect1D(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	eps := math.Ldexp(1, -24)
	for _, tc := range []struct {
		x, w          []int
		group, s, pad int
	}{
		{[]int{2, 3, 37}, []int{10, 3, 5}, 1, 2, 2},
		{[]int{1, 8, 29}, []int{6, 4, 9}, 2, 1, 4},
		{[]int{1, 2, 9}, []int{5, 2, 3}, 1, 3, 0},
	} {
		for _, kern := range []string{"go", "avx2"} {
			if kern == "avx2" && !useAVX2 {
				continue
			}
			t.Run(fmt.Sprintf("x=%v/w=%v/g=%d/s=%d/pad=%d/kernel=%s", tc.x, tc.w, tc.group, tc.s, tc.pad, kern), func(t *testing.T) {
				defer func(u bool) { useAVX2 = u }(useAVX2)
				useAVX2 = kern == "avx2"
				x, w, b := randTensor(r, tc.x...), randTensor(r, tc.w...), randTensor(r, tc.w[0])
				p := int64(tc.pad)
				node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
					Attrs: []*Attribute{intsAttr("pads", p, p), intsAttr("strides", int64(tc.s)), intAttr("group", int64(tc.group))}}
				kk, err := newConv(node)
				if err != nil {
					t.Fatal(err)
				}
				y := &Tensor{}
				if err := kk.Run([]*Tensor{x, w, b}, []*Tensor{y}); err != nil {
					t.Fatal(err)
				}
				want, shape := naiveConv(x, w, b, tc.group, []int{tc.s}, []int{1}, []int{tc.pad, tc.pad})
				bound, _ := naiveConv(absTensor(x), absTensor(w), nil, tc.group, []int{tc.s}, []int{1}, []int{tc.pad, tc.pad})
				if !eqInts(y.Shape, shape) {
					t.Fatalf("shape %v, want %v", y.Shape, shape)
				}
				n := float64(tc.w[1]*tc.w[2] + 2)
				for i, v := range want {
					o := i / shape[2] % shape[1]
					tol := n * eps / (1 - n*eps) * (bound[i] + math.Abs(float64(b.F32[o])))
					if d := math.Abs(float64(y.F32[i]) - v); !(d <= tol) {
						t.Fatalf("element %d: got %g, want %g (error %.3g > bound %.3g)", i, y.F32[i], v, d, tol)
					}
				}
			})
		}
	}
}
