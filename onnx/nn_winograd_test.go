package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
)

// winoConv builds a Conv node whose weight is a graph constant (so that
// the Winograd path may take it) with the given pads, activation and
// residual, and runs it.
func winoConv(t *testing.T, x, w, b, res *Tensor, pads []int64, a act, constW bool) (*Tensor, *convKernel) {
	t.Helper()
	node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
		Attrs: []*Attribute{intsAttr("pads", pads...)}}
	if constW {
		node.graph = &Graph{consts: map[string]*Tensor{"w": w}}
	}
	kk, err := newConv(node)
	if err != nil {
		t.Fatal(err)
	}
	k := kk.(*convKernel)
	k.act = a
	in := []*Tensor{x, w, b}
	if res != nil {
		k.sum = true
		node.Inputs = append(node.Inputs, "r")
		in = append(in, res)
	}
	y := &Tensor{}
	if err := k.Run(in, []*Tensor{y}); err != nil {
		t.Fatal(err)
	}
	return y, k
}

// The transforms of F(4×4, 3×3), as in nn_winograd.go's comment (Bᵀ and
// Aᵀ; G is winoG).
var (
	winoBT = [6][6]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoAT = [4][6]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// winoAbsBound returns, for each output of the convolution (pads
// [top, left, bottom, right]), the Winograd sum computed on absolute
// values: S = |Aᵀ| (Σ_c |G||g_kc||Gᵀ| ⊙ |Bᵀ||d_c||B|) |A|. Rounding
// error analysis (Higham's γ_n = nε/(1−nε) bound for sums of products,
// applied to each stage) bounds the float32 result's error by
// γ_n·(S + |bias| + |residual|) where n is the longest chain of roundings
// one output goes through: 3 + 3 in the input transform, 1 rounding U to
// float32, C in the sum over channels, 4 + 4 in the output transform and
// 2 for the bias and residual: n = C + 17. A Lipschitz-1 activation
// (Relu, Clip, LeakyRelu with slope < 1) does not enlarge it.
func winoAbsBound(x, w *Tensor, pads []int) []float64 {
	n, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	m := w.Shape[0]
	oh, ow := h+pads[0]+pads[2]-2, wd+pads[1]+pads[3]-2
	s := make([]float64, n*m*oh*ow)
	// |U| per (k, c).
	u := make([][6][6]float64, m*c)
	for o := range m {
		for ci := range c {
			for i := range 6 {
				for j := range 6 {
					v := 0.0
					for p := range 3 {
						for q := range 3 {
							v += math.Abs(winoG[i][p]) * math.Abs(float64(w.F32[((o*c+ci)*3+p)*3+q])) * math.Abs(winoG[j][q])
						}
					}
					u[o*c+ci][i][j] = v
				}
			}
		}
	}
	for img := range n {
		for ti := 0; ti < oh; ti += 4 {
			for tj := 0; tj < ow; tj += 4 {
				vs := make([][6][6]float64, c)
				for ci := range c {
					var d [6][6]float64
					for i := range 6 {
						for j := range 6 {
							ii, jj := ti+i-pads[0], tj+j-pads[1]
							if ii >= 0 && ii < h && jj >= 0 && jj < wd {
								d[i][j] = math.Abs(float64(x.F32[((img*c+ci)*h+ii)*wd+jj]))
							}
						}
					}
					for i := range 6 {
						for j := range 6 {
							v := 0.0
							for p := range 6 {
								for q := range 6 {
									v += math.Abs(winoBT[i][p]) * d[p][q] * math.Abs(winoBT[j][q])
								}
							}
							vs[ci][i][j] = v
						}
					}
				}
				for o := range m {
					var e [6][6]float64
					for ci := range c {
						for i := range 6 {
							for j := range 6 {
								e[i][j] += u[o*c+ci][i][j] * vs[ci][i][j]
							}
						}
					}
					for i := 0; i < 4 && ti+i < oh; i++ {
						for j := 0; j < 4 && tj+j < ow; j++ {
							v := 0.0
							for p := range 6 {
								for q := range 6 {
									v += math.Abs(winoAT[i][p]) * e[p][q] * math.Abs(winoAT[j][q])
								}
							}
							s[((img*m+o)*oh+ti+i)*ow+tj+j] = v
						}
					}
				}
			}
		}
	}
	return s
}

// TestWinogradAgainstNaive: the Winograd path against ONNX Conv's
// definition in float64 (naiveConv) on shapes whose tiles do not divide
// the output, with symmetric, asymmetric and wide pads, channel counts
// that are not multiples of 8, batches, bias, residual and activations,
// in one block and in many blocks on two threads. The tolerance is the
// rounding-error bound of winoAbsBound.
func TestWinogradAgainstNaive(t *testing.T) {
	defer func(p, b int) { winoMinTiles, winoBlockTiles = p, b }(winoMinTiles, winoBlockTiles)
	winoMinTiles = 1
	r := rand.New(rand.NewPCG(21, 4))
	eps := math.Ldexp(1, -24)
	inf := float32(math.Inf(1))
	cases := []struct {
		x, w []int
		pads []int // top, left, bottom, right
		res  bool
		a    act
	}{
		{[]int{1, 8, 8, 8}, []int{8, 8, 3, 3}, []int{1, 1, 1, 1}, false, act{}},
		{[]int{2, 10, 13, 7}, []int{13, 10, 3, 3}, []int{0, 0, 0, 0}, false, act{kind: actRelu}},
		{[]int{1, 9, 8, 8}, []int{8, 9, 3, 3}, []int{0, 1, 2, 0}, true, act{kind: actClip, lo: -0.5, hi: 1}},
		{[]int{1, 17, 21, 19}, []int{12, 17, 3, 3}, []int{1, 1, 1, 1}, true, act{kind: actRelu}},
		{[]int{3, 8, 6, 5}, []int{9, 8, 3, 3}, []int{2, 2, 2, 2}, false, act{kind: actLeaky, alpha: 0.1, lo: -inf, hi: inf}},
		{[]int{1, 11, 3, 3}, []int{10, 11, 3, 3}, []int{1, 1, 1, 1}, true, act{kind: actLeaky, alpha: 0.25, lo: -inf, hi: inf}},
	}
	kernels := []string{"go"}
	if useAVX2 {
		kernels = append(kernels, "avx2")
	}
	for _, tc := range cases {
		for _, blocks := range []struct {
			name    string
			tiles   int
			threads int
		}{{"one-block", 1 << 20, 1}, {"one-block/threads=2", 1 << 20, 2}, {"row-blocks/threads=2", 1, 2}} {
			for _, kern := range kernels {
				t.Run(fmt.Sprintf("x=%v/w=%v/pads=%v/res=%v/act=%d/%s/kernel=%s", tc.x, tc.w, tc.pads, tc.res, tc.a.kind, blocks.name, kern), func(t *testing.T) {
					winoBlockTiles = blocks.tiles
					defer func(u bool) { useAVX2 = u }(useAVX2)
					useAVX2 = kern == "avx2"
					defer parallel.SetThreads(parallel.SetThreads(blocks.threads))
					x, w, b := randTensor(r, tc.x...), randTensor(r, tc.w...), randTensor(r, tc.w[0])
					pads := []int64{int64(tc.pads[0]), int64(tc.pads[1]), int64(tc.pads[2]), int64(tc.pads[3])}
					// ONNX pads are [x1_begin, x2_begin, x1_end, x2_end].
					want, shape := naiveConv(x, w, b, 1, []int{1, 1}, []int{1, 1}, tc.pads)
					var res *Tensor
					if tc.res {
						res = randTensor(r, shape...)
					}
					x0, w0 := append([]float32(nil), x.F32...), append([]float32(nil), w.F32...)
					y, k := winoConv(t, x, w, b, res, pads, tc.a, true)
					if ww := k.wino.Load(); ww == nil || ww == winoNotConst {
						t.Fatal("the Winograd path was not taken")
					}
					if !eqInts(y.Shape, shape) {
						t.Fatalf("shape %v, want %v", y.Shape, shape)
					}
					for i := range x0 {
						if x.F32[i] != x0[i] {
							t.Fatalf("input changed at %d", i)
						}
					}
					for i := range w0 {
						if w.F32[i] != w0[i] {
							t.Fatalf("weight changed at %d", i)
						}
					}
					bound := winoAbsBound(x, w, tc.pads)
					c := tc.x[1]
					nn := float64(c + 17)
					gamma := nn * eps / (1 - nn*eps)
					ohw := shape[2] * shape[3]
					worst := 0.0
					for i, v := range want {
						o := i / ohw % shape[1]
						extra := math.Abs(float64(b.F32[o]))
						if res != nil {
							v += float64(res.F32[i])
							extra += math.Abs(float64(res.F32[i]))
						}
						lo, hi, _ := clampOf[float64](tc.a)
						switch tc.a.kind {
						case actLeaky:
							v = max(v, 0) + float64(tc.a.alpha)*min(v, 0)
						}
						v = min(max(v, lo), hi)
						tol := gamma * (bound[i] + extra)
						d := math.Abs(float64(y.F32[i]) - v)
						if !(d <= tol) {
							t.Fatalf("element %d: got %g, want %g (error %.3g > bound %.3g)", i, y.F32[i], v, d, tol)
						}
						worst = max(worst, d/tol)
					}
					t.Logf("largest error / bound: %.3g", worst)
				})
			}
		}
	}
}

// TestWinogradFallbacks: a weight computed at run time (not a graph
// constant), or a convolution Winograd does not serve, runs the im2col
// path and gives the result the switch-off path does.
func TestWinogradFallbacks(t *testing.T) {
	defer func(p int) { winoMinTiles = p }(winoMinTiles)
	winoMinTiles = 1
	r := rand.New(rand.NewPCG(5, 6))
	x, w, b := randTensor(r, 1, 8, 9, 9), randTensor(r, 8, 8, 3, 3), randTensor(r, 8)
	y, k := winoConv(t, x, w, b, nil, []int64{1, 1, 1, 1}, act{}, false)
	if k.wino.Load() != winoNotConst {
		t.Fatal("a non-constant weight was transformed, or not marked as such")
	}
	convNoWinograd = true
	y2, k2 := winoConv(t, x, w, b, nil, []int64{1, 1, 1, 1}, act{}, true)
	convNoWinograd = false
	if k2.wino.Load() != nil {
		t.Fatal("Winograd ran while switched off")
	}
	for i := range y.F32 {
		if y.F32[i] != y2.F32[i] {
			t.Fatalf("element %d: %g vs %g", i, y.F32[i], y2.F32[i])
		}
	}
}

// BenchmarkWinogradConv times ResNet-18's 3×3 stride-1 layers (bias and
// Relu fused) with Winograd and with im2col, at the threads set.
func BenchmarkWinogradConv(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range []struct{ hw, c int }{{56, 64}, {28, 128}, {14, 256}, {7, 512}} {
		x, w, bias := randTensor(r, 1, s.c, s.hw, s.hw), randTensor(r, s.c, s.c, 3, 3), randTensor(r, s.c)
		for _, impl := range []string{"winograd", "im2col"} {
			b.Run(fmt.Sprintf("hw=%d/c=%d/impl=%s", s.hw, s.c, impl), func(b *testing.B) {
				defer func(p bool, t int) { convNoWinograd, winoMinTiles = p, t }(convNoWinograd, winoMinTiles)
				convNoWinograd, winoMinTiles = impl != "winograd", 1
				node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
					Attrs: []*Attribute{intsAttr("pads", 1, 1, 1, 1)}}
				node.graph = &Graph{consts: map[string]*Tensor{"w": w}}
				kk, err := newConv(node)
				if err != nil {
					b.Fatal(err)
				}
				k := kk.(*convKernel)
				k.act = act{kind: actRelu}
				in, out := []*Tensor{x, w, bias}, []*Tensor{{}}
				if err := k.Run(in, out); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if err := k.Run(in, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(2*float64(s.c*s.c*9*s.hw*s.hw)*float64(b.N)/b.Elapsed().Seconds()/1e9, "direct-GFLOP/s")
			})
		}
	}
}

// TestWinogradZeroAllocs: once the weight is transformed, a run
// allocates nothing, on one thread and on two with several blocks.
func TestWinogradZeroAllocs(t *testing.T) {
	defer func(p, b int) { winoMinTiles, winoBlockTiles = p, b }(winoMinTiles, winoBlockTiles)
	winoMinTiles, winoBlockTiles = 1, 8
	r := rand.New(rand.NewPCG(7, 8))
	x, w, b := randTensor(r, 2, 16, 19, 17), randTensor(r, 24, 16, 3, 3), randTensor(r, 24)
	res := randTensor(r, 2, 24, 19, 17)
	x1, res1 := randTensor(r, 1, 16, 19, 17), randTensor(r, 1, 24, 19, 17)
	for _, th := range []int{1, 2} {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("threads=%d/split=%v", th, split), func(t *testing.T) {
				defer parallel.SetThreads(parallel.SetThreads(th))
				x, res := x, res
				if split { // one image in one block: its phases run in parallel
					x, res = x1, res1
					defer func(b int) { winoBlockTiles = b }(winoBlockTiles)
					winoBlockTiles = 1000
				}
				_, k := winoConv(t, x, w, b, res, []int64{1, 1, 1, 1}, act{kind: actRelu}, true)
				if ww := k.wino.Load(); ww == nil || ww == winoNotConst {
					t.Fatal("the Winograd path was not taken")
				}
				in, out := []*Tensor{x, w, b, res}, []*Tensor{{}}
				for range 2 {
					if err := k.Run(in, out); err != nil {
						t.Fatal(err)
					}
				}
				if n := testing.AllocsPerRun(5, func() { _ = k.Run(in, out) }); n != 0 {
					t.Errorf("%v allocations per run", n)
				}
			})
		}
	}
}

// TestWinogradKernels compares the transforms' assembly (where this
// machine has it) with their Go versions on random data: the same values
// up to rounding (the two sum in different orders), and nothing written
// outside the elements each one stores (guards of NaN around and between
// them).
func TestWinogradKernels(t *testing.T) {
	if !useAVX2 {
		t.Skip("no assembly transforms on this machine or build")
	}
	defer func(u bool) { useAVX2 = u }(useAVX2)
	r := rand.New(rand.NewPCG(9, 10))
	guard := float32(math.NaN())
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = guard
		}
		return s
	}
	var tmp [winoTmp]float32
	const xrs, vs, ms, ow, ohw = 7, 21, 19, 9, 50
	for trial := range 20 {
		// Input: a 6×6 window of 8 interleaved channels, rows xrs pixels apart.
		x := make([]float32, 6*xrs*8)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		va, vg := fill(36*vs+8), fill(36*vs+8)
		useAVX2 = true
		winoIn(va, x, &tmp, xrs, vs)
		winoInGo(vg, x, xrs, vs)
		for i := range va {
			inside := i < 35*vs+8 && i%vs < 8
			a, g := va[i], vg[i]
			if !inside {
				if a == a || g == g {
					t.Fatalf("trial %d: input transform wrote element %d outside its stores (%g, %g)", trial, i, a, g)
				}
				continue
			}
			// Rounding differs by a few ε of the terms' sizes (inputs
			// of unit scale, coefficients up to 25 in two dimensions).
			if d := math.Abs(float64(a - g)); d > 1e-5*(10+math.Abs(float64(g))) {
				t.Fatalf("trial %d: V element %d: assembly %g, Go %g", trial, i, a, g)
			}
		}
		// Output: 36 matrices of 8 channels, ms apart, into 8 planes.
		m := make([]float32, 35*ms+8)
		for i := range m {
			m[i] = float32(r.NormFloat64())
		}
		res := make([]float32, 8*ohw)
		for i := range res {
			res[i] = float32(r.NormFloat64())
		}
		p := [10]float32{}
		for i := range 8 {
			p[i] = float32(r.NormFloat64())
		}
		p[8], p[9] = -2, 3
		for _, withRes := range []bool{false, true} {
			var rs []float32
			if withRes {
				rs = res
			}
			ya, yg := fill(8*ohw), fill(8*ohw)
			useAVX2 = true
			winoOut(ya, m, rs, &tmp, &p, ms, ow, ohw)
			winoOutGo(yg, m, rs, &p, ms, ow, ohw)
			for i := range ya {
				inside := i%ohw/ow < 4 && i%ohw%ow < 4
				a, g := ya[i], yg[i]
				if !inside {
					if a == a || g == g {
						t.Fatalf("trial %d: output transform wrote element %d outside its tile (%g, %g)", trial, i, a, g)
					}
					continue
				}
				if d := math.Abs(float64(a - g)); d > 1e-5*(10+math.Abs(float64(g))) {
					t.Fatalf("trial %d (residual %v): Y element %d: assembly %g, Go %g", trial, withRes, i, a, g)
				}
			}
		}
		// Packing: 8 channels' rows interleaved.
		const hw, n = 37, 16
		src := make([]float32, 7*hw+n)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		d := fill(n*8 + 8)
		if got := winoPack(d, src, hw, n+5); got != n {
			t.Fatalf("winoPack did %d columns, want %d", got, n)
		}
		for i, v := range d {
			if i >= n*8 {
				if v == v {
					t.Fatalf("winoPack wrote element %d past its columns", i)
				}
				continue
			}
			if want := src[i%8*hw+i/8]; v != want {
				t.Fatalf("winoPack element %d = %g, want %g", i, v, want)
			}
		}
	}
}
