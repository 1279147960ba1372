package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Per-op tests against naive loops in float64, for the cases the
// conformance data misses: depthwise and grouped convolutions with
// channel multipliers, asymmetric padding, dilation, 1-D and 3-D windows,
// fused epilogues; MatMul batch broadcasting; Softmax's two axis
// semantics; the GELU's erf approximation.

func intsAttr(name string, v ...int64) *Attribute {
	return &Attribute{Name: name, Type: AttrInts, Ints: v}
}

func intAttr(name string, v int64) *Attribute {
	return &Attribute{Name: name, Type: AttrInt, I: v}
}

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	t := NewTensor(Float, shape...)
	for i := range t.F32 {
		t.F32[i] = float32(r.NormFloat64())
	}
	return t
}

// naiveConv is ONNX Conv by its definition, in float64.
func naiveConv(x, w, b *Tensor, group int, strides, dil, pads []int) ([]float64, []int) {
	r := x.Rank() - 2
	n, c, m := x.Shape[0], x.Shape[1], w.Shape[0]
	in, k := x.Shape[2:], w.Shape[2:]
	out := make([]int, r)
	for i := range r {
		out[i] = (in[i]+pads[i]+pads[r+i]-dil[i]*(k[i]-1)-1)/strides[i] + 1
	}
	cg, mg := c/group, m/group
	size, osz, ksz := numel(in), numel(out), numel(k)
	y := make([]float64, n*m*osz)
	oi, ki := make([]int, r), make([]int, r)
	for i := range n {
		for o := range m {
			gr := o / mg
			for p := range osz {
				t := p
				for d := r - 1; d >= 0; d-- {
					oi[d] = t % out[d]
					t /= out[d]
				}
				s := 0.0
				if b != nil {
					s = float64(b.F32[o])
				}
				for ci := range cg {
					ch := gr*cg + ci
					for q := range ksz {
						t := q
						for d := r - 1; d >= 0; d-- {
							ki[d] = t % k[d]
							t /= k[d]
						}
						off, ok := 0, true
						for d := range r {
							v := oi[d]*strides[d] - pads[d] + ki[d]*dil[d]
							if v < 0 || v >= in[d] {
								ok = false
								break
							}
							off = off*in[d] + v
						}
						if ok {
							s += float64(x.F32[(i*c+ch)*size+off]) * float64(w.F32[(o*cg+ci)*ksz+q])
						}
					}
				}
				y[(i*m+o)*osz+p] = s
			}
		}
	}
	return y, append([]int{n, m}, out...)
}

func TestConvAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		x, w           []int
		group          int
		strides, dil   []int
		pads           []int
		bias, relu     bool
		clipLo, clipHi float32
	}{
		{x: []int{1, 8, 9, 9}, w: []int{8, 1, 3, 3}, group: 8, strides: []int{1, 1}, dil: []int{1, 1}, pads: []int{1, 1, 1, 1}, bias: true},             // depthwise
		{x: []int{2, 6, 10, 7}, w: []int{12, 1, 3, 3}, group: 6, strides: []int{2, 2}, dil: []int{1, 1}, pads: []int{1, 0, 2, 1}, bias: true},           // depthwise, multiplier 2, asymmetric pads
		{x: []int{1, 4, 11, 11}, w: []int{4, 1, 5, 5}, group: 4, strides: []int{2, 1}, dil: []int{2, 2}, pads: []int{2, 2, 2, 2}, relu: true},           // dilated depthwise
		{x: []int{1, 3, 4, 4}, w: []int{3, 1, 3, 3}, group: 3, strides: []int{1, 1}, dil: []int{1, 1}, pads: []int{0, 0, 0, 0}},                         // output 2×2, no interior
		{x: []int{2, 6, 8, 9}, w: []int{4, 3, 3, 2}, group: 2, strides: []int{1, 2}, dil: []int{1, 1}, pads: []int{0, 1, 1, 0}, bias: true},             // grouped, asymmetric
		{x: []int{1, 5, 7, 7}, w: []int{6, 5, 1, 1}, group: 1, strides: []int{1, 1}, dil: []int{1, 1}, pads: []int{0, 0, 0, 0}, bias: true, relu: true}, // 1×1 direct
		{x: []int{1, 5, 7, 7}, w: []int{6, 5, 3, 3}, group: 1, strides: []int{3, 3}, dil: []int{2, 1}, pads: []int{2, 2, 2, 2}, clipLo: -0.5, clipHi: 0.5},
		{x: []int{1, 2, 48, 48}, w: []int{64, 2, 3, 3}, group: 1, strides: []int{1, 1}, dil: []int{1, 1}, pads: []int{1, 1, 1, 1}, bias: true, relu: true}, // column blocks
		{x: []int{2, 3, 12}, w: []int{4, 3, 3}, group: 1, strides: []int{2}, dil: []int{2}, pads: []int{1, 2}, bias: true},                                 // 1-D
		{x: []int{1, 2, 4, 5, 3}, w: []int{3, 2, 2, 3, 2}, group: 1, strides: []int{1, 2, 1}, dil: []int{1, 1, 2}, pads: []int{1, 0, 1, 0, 1, 0}},          // 3-D
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("case=%d/x=%v/w=%v/group=%d", i, c.x, c.w, c.group), func(t *testing.T) {
			x, w := randTensor(r, c.x...), randTensor(r, c.w...)
			var b *Tensor
			in := []*Tensor{x, w}
			if c.bias {
				b = randTensor(r, c.w[0])
				in = append(in, b)
			}
			p64 := make([]int64, len(c.pads))
			for j, v := range c.pads {
				p64[j] = int64(v)
			}
			s64, d64 := make([]int64, len(c.strides)), make([]int64, len(c.dil))
			for j := range c.strides {
				s64[j], d64[j] = int64(c.strides[j]), int64(c.dil[j])
			}
			n := &Node{OpType: "Conv", Opset: 13, Inputs: make([]string, len(in)), Outputs: []string{"y"},
				Attrs: []*Attribute{intAttr("group", int64(c.group)), intsAttr("strides", s64...), intsAttr("dilations", d64...), intsAttr("pads", p64...)}}
			k, err := newConv(n)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.relu:
				k.(*convKernel).act = act{kind: actRelu}
			case c.clipLo != c.clipHi:
				k.(*convKernel).act = act{kind: actClip, lo: c.clipLo, hi: c.clipHi}
			}
			y := &Tensor{}
			for range 2 { // twice: the second run reuses the cached geometry and scratch
				if err := k.Run(in, []*Tensor{y}); err != nil {
					t.Fatal(err)
				}
			}
			want, shape := naiveConv(x, w, b, c.group, c.strides, c.dil, c.pads)
			if !eqInts(y.Shape, shape) {
				t.Fatalf("shape %v, want %v", y.Shape, shape)
			}
			for j, v := range want {
				switch {
				case c.relu:
					v = math.Max(v, 0)
				case c.clipLo != c.clipHi:
					v = math.Min(math.Max(v, float64(c.clipLo)), float64(c.clipHi))
				}
				if d := math.Abs(float64(y.F32[j]) - v); d > 1e-5*(1+math.Abs(v)) {
					t.Fatalf("element %d: got %g, want %g", j, y.F32[j], v)
				}
			}
		})
	}
}

func TestMatMulBroadcastAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := [][2][]int{
		{{2, 3, 4, 5}, {2, 1, 5, 6}}, // B broadcast over heads (multi-query attention)
		{{2, 1, 4, 5}, {1, 3, 5, 6}}, // both broadcast
		{{3, 4, 5}, {5, 6}},          // a 2-D weight
		{{5}, {2, 5, 3}},             // 1-D A
		{{2, 4, 5}, {5}},             // 1-D B
		{{5}, {5}},                   // dot product
		{{2, 3, 1, 4, 5}, {3, 2, 5, 2}},
		{{0, 4, 5}, {5, 2}}, // empty batch
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("a=%v/b=%v", c[0], c[1]), func(t *testing.T) {
			a, b := randTensor(r, c[0]...), randTensor(r, c[1]...)
			k, _ := newMatMul(&Node{OpType: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}})
			y := &Tensor{}
			if err := k.Run([]*Tensor{a, b}, []*Tensor{y}); err != nil {
				t.Fatal(err)
			}
			// numpy.matmul by its definition.
			as, bs := append([]int(nil), c[0]...), append([]int(nil), c[1]...)
			if len(as) == 1 {
				as = []int{1, as[0]}
			}
			if len(bs) == 1 {
				bs = []int{bs[0], 1}
			}
			m, kk, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
			batch, err := BroadcastShape(as[:len(as)-2], bs[:len(bs)-2])
			if err != nil {
				t.Fatal(err)
			}
			sa := BroadcastStrides(as[:len(as)-2], batch)
			sb := BroadcastStrides(bs[:len(bs)-2], batch)
			want := make([]float64, 0, numel(batch)*m*n)
			for bi := range numel(batch) {
				oa, ob, t := 0, 0, bi
				for d := len(batch) - 1; d >= 0; d-- {
					v := t % batch[d]
					t /= batch[d]
					oa += v * sa[d]
					ob += v * sb[d]
				}
				for i := range m {
					for j := range n {
						s := 0.0
						for q := range kk {
							s += float64(a.F32[(oa*m+i)*kk+q]) * float64(b.F32[(ob*kk+q)*n+j])
						}
						want = append(want, s)
					}
				}
			}
			if y.Size() != len(want) {
				t.Fatalf("shape %v: %d elements, want %d", y.Shape, y.Size(), len(want))
			}
			for j, v := range want {
				if d := math.Abs(float64(y.F32[j]) - v); d > 1e-5*(1+math.Abs(v)) {
					t.Fatalf("element %d: got %g, want %g", j, y.F32[j], v)
				}
			}
		})
	}
}

// TestSoftmaxAxisByOpset: before opset 13 Softmax flattens from axis on;
// from 13 it normalises along the axis alone.
func TestSoftmaxAxisByOpset(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := randTensor(r, 2, 3, 4)
	for _, opset := range []int{11, 13} {
		k, _ := newSoftmax(&Node{OpType: "Softmax", Opset: opset, Attrs: []*Attribute{intAttr("axis", 1)}}, smSoftmax)
		y := &Tensor{}
		if err := k.Run([]*Tensor{x}, []*Tensor{y}); err != nil {
			t.Fatal(err)
		}
		for b := range 2 {
			if opset == 11 {
				s := 0.0
				for j := range 12 {
					s += float64(y.F32[b*12+j])
				}
				if math.Abs(s-1) > 1e-5 {
					t.Errorf("opset 11: row %d sums to %g over axes 1..2, want 1", b, s)
				}
				continue
			}
			for i := range 4 {
				s := 0.0
				for j := range 3 {
					s += float64(y.F32[b*12+j*4+i])
				}
				if math.Abs(s-1) > 1e-5 {
					t.Errorf("opset 13: column (%d, %d) sums to %g along axis 1, want 1", b, i, s)
				}
			}
		}
	}
}

func TestGeluMatchesErf(t *testing.T) {
	x := make([]float32, 0, 4001)
	for i := -2000; i <= 2000; i++ {
		x = append(x, float32(i)/250)
	}
	x = append(x, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30)
	y := make([]float32, len(x))
	geluRun(x, y)
	for i, v := range x {
		want := 0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2))
		if math.IsInf(float64(v), -1) {
			want = 0 // x·Φ(x) → 0; -Inf·0 is NaN in the formula
			if y[i] != 0 && !math.IsNaN(float64(y[i])) {
				t.Errorf("gelu(-Inf) = %g", y[i])
			}
			continue
		}
		if d := math.Abs(float64(y[i]) - want); d > 1e-6*(1+math.Abs(want)) || math.IsNaN(d) && !math.IsInf(want, 0) {
			t.Errorf("gelu(%g) = %g, want %g", v, y[i], want)
		}
	}
}

func inf32(sign int) float32 { return float32(math.Inf(sign)) }

func TestComposeActivations(t *testing.T) {
	if _, ok := compose(clipOf(0, 6), act{kind: actLeaky, alpha: 0.1}); ok {
		t.Error("a leaky slope after a clamp composed")
	}
	if _, ok := compose(act{kind: actGelu}, act{kind: actRelu}); ok {
		t.Error("Relu after GELU composed")
	}
	relu, clip6 := act{kind: actRelu}, act{kind: actClip, lo: 0, hi: 6}
	for _, c := range []struct {
		a, b, want act
	}{
		{relu, clip6, clip6},
		{clip6, relu, clip6},
		{relu, relu, relu},
		{act{}, relu, relu},
		{act{kind: actClip, lo: -1, hi: 1}, relu, act{kind: actClip, lo: 0, hi: 1}},
		{act{kind: actClip, lo: -3, hi: -1}, relu, act{kind: actClip, lo: 0, hi: 0}},
		{act{kind: actLeaky, alpha: 0.2, lo: inf32(-1), hi: inf32(1)}, act{kind: actClip, lo: -0.4, hi: inf32(1)},
			act{kind: actLeaky, alpha: 0.2, lo: -0.4, hi: inf32(1)}},
	} {
		if got, ok := compose(c.a, c.b); !ok || got != c.want {
			t.Errorf("compose(%+v, %+v) = %+v, want %+v", c.a, c.b, got, c.want)
		}
	}
}

// TestConvFusedResidual checks the Conv+Add epilogue: y = relu(conv + b + r)
// for a residual of the output's shape (general and depthwise paths) and
// one that broadcasts to it.
func TestConvFusedResidual(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		name  string
		w     []int
		group int
		res   []int
	}{
		{"general", []int{6, 4, 3, 3}, 1, []int{2, 6, 5, 5}},
		{"depthwise", []int{4, 1, 3, 3}, 4, []int{2, 4, 5, 5}},
		{"broadcast", []int{6, 4, 3, 3}, 1, []int{6, 1, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, w, b, res := randTensor(r, 2, 4, 5, 5), randTensor(r, c.w...), randTensor(r, c.w[0]), randTensor(r, c.res...)
			n := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b", "r"}, Outputs: []string{"y"},
				Attrs: []*Attribute{intAttr("group", int64(c.group)), intsAttr("pads", 1, 1, 1, 1)}}
			k, err := newConv(n)
			if err != nil {
				t.Fatal(err)
			}
			k.(*convKernel).sum = true
			k.(*convKernel).act = act{kind: actRelu}
			y := &Tensor{}
			if err := k.Run([]*Tensor{x, w, b, res}, []*Tensor{y}); err != nil {
				t.Fatal(err)
			}
			want, shape := naiveConv(x, w, b, c.group, []int{1, 1}, []int{1, 1}, []int{1, 1, 1, 1})
			if !eqInts(y.Shape, shape) {
				t.Fatalf("shape %v, want %v", y.Shape, shape)
			}
			st := BroadcastStrides(res.Shape, shape)
			id := BroadcastStrides(shape, shape)
			ForBroadcast(shape, [][]int{id, st}, func(i int, idx []int) {
				v := math.Max(want[i]+float64(res.F32[idx[1]]), 0)
				if d := math.Abs(float64(y.F32[i]) - v); d > 1e-5*(1+math.Abs(v)) {
					t.Fatalf("element %d: got %g, want %g", i, y.F32[i], v)
				}
			})
		})
	}
}

func clipOf(lo, hi float32) act { return act{kind: actClip, lo: lo, hi: hi} }

func TestEinsumAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	a, b := randTensor(r, 2, 3, 4), randTensor(r, 1, 4, 5)
	run := func(eq string, in ...*Tensor) *Tensor {
		t.Helper()
		k, err := newEinsum(&Node{OpType: "Einsum", Inputs: make([]string, len(in)), Attrs: []*Attribute{{Name: "equation", Type: AttrString, S: eq}}})
		if err != nil {
			t.Fatal(err)
		}
		y := &Tensor{}
		if err := k.Run(in, []*Tensor{y}); err != nil {
			t.Fatalf("%s: %v", eq, err)
		}
		return y
	}
	// Batch matrix product with the batch broadcast through "...", implicit output.
	y := run("...ij,...jk", a, b)
	if !eqInts(y.Shape, []int{2, 3, 5}) {
		t.Fatalf("...ij,...jk: shape %v", y.Shape)
	}
	for bi := range 2 {
		for i := range 3 {
			for k := range 5 {
				s := 0.0
				for j := range 4 {
					s += float64(a.F32[(bi*3+i)*4+j]) * float64(b.F32[j*5+k])
				}
				if g := float64(y.F32[(bi*3+i)*5+k]); math.Abs(g-s) > 1e-5*(1+math.Abs(s)) {
					t.Fatalf("...ij,...jk [%d %d %d] = %g, want %g", bi, i, k, g, s)
				}
			}
		}
	}
	// Diagonal and full sum.
	m := randTensor(r, 4, 4)
	d, tot := run("ii->i", m), run("ij->", m)
	sum := 0.0
	for i := range 4 {
		if d.F32[i] != m.F32[i*5] {
			t.Errorf("ii->i [%d] = %g, want %g", i, d.F32[i], m.F32[i*5])
		}
		for j := range 4 {
			sum += float64(m.F32[i*4+j])
		}
	}
	if tot.Rank() != 0 || math.Abs(float64(tot.F32[0])-sum) > 1e-5 {
		t.Errorf("ij-> = %v %v, want scalar %g", tot.Shape, tot.F32, sum)
	}
}

// TestConvImplicitMatchesIm2Col: packing patches straight into GEMM's
// panels gives im2col's bits (same products, same order), with column
// blocks, asymmetric padding and a residual epilogue, and both agree with
// the naive loop.
func TestConvImplicitMatchesIm2Col(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		x, w []int
		pads []int64
	}{
		{[]int{1, 4, 46, 46}, []int{72, 4, 3, 3}, []int64{1, 1, 1, 1}}, // blocks of 896 columns
		{[]int{2, 3, 20, 17}, []int{80, 3, 5, 3}, []int64{2, 0, 1, 1}}, // asymmetric pads
		{[]int{1, 2, 9, 9}, []int{8, 2, 3, 3}, []int64{1, 1, 1, 1}},    // K = 18 ≤ 32
	} {
		t.Run(fmt.Sprintf("x=%v/w=%v", c.x, c.w), func(t *testing.T) {
			x, w, b := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
			run := func(im2col bool) *Tensor {
				prev, prevA, prevD := convIm2ColOnly, convImplicitAlways, convNoDirect
				convIm2ColOnly, convImplicitAlways, convNoDirect = im2col, !im2col, true
				defer func() { convIm2ColOnly, convImplicitAlways, convNoDirect = prev, prevA, prevD }()
				k, err := newConv(&Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
					Attrs: []*Attribute{intsAttr("pads", c.pads...)}})
				if err != nil {
					t.Fatal(err)
				}
				k.(*convKernel).act = act{kind: actRelu}
				y := &Tensor{}
				if err := k.Run([]*Tensor{x, w, b}, []*Tensor{y}); err != nil {
					t.Fatal(err)
				}
				return y
			}
			a, p := run(false), run(true)
			for i := range a.F32 {
				if a.F32[i] != p.F32[i] {
					t.Fatalf("element %d: implicit %g, im2col %g", i, a.F32[i], p.F32[i])
				}
			}
			if testing.Short() && c.x[2] > 40 {
				return // the naive loop takes a while under emulation; the bits match im2col's
			}
			pads := []int{int(c.pads[0]), int(c.pads[1]), int(c.pads[2]), int(c.pads[3])}
			want, _ := naiveConv(x, w, b, 1, []int{1, 1}, []int{1, 1}, pads)
			for i, v := range want {
				v = math.Max(v, 0)
				if d := math.Abs(float64(a.F32[i]) - v); d > 1e-5*(1+math.Abs(v)) {
					t.Fatalf("element %d: got %g, want %g", i, a.F32[i], v)
				}
			}
		})
	}
}

// TestLpPool: p = 2, 3×3 windows at stride 2 with one pixel of padding,
// against numpy (the first five outputs of
// x = np.arange(50, dtype=np.float32).reshape(2,1,5,5) - 20;
// xp = np.pad(x, ((0,0),(0,0),(1,1),(1,1)));
// y[:,:,i,j] = np.sqrt((xp[:,:,2*i:2*i+3,2*j:2*j+3]**2).sum(axis=(2,3)))).
func TestLpPool(t *testing.T) {
	x := NewTensor(Float, 2, 1, 5, 5)
	for i := range x.F32 {
		x.F32[i] = float32(i - 20)
	}
	k, err := newLpPool(&Node{OpType: "LpPool", Opset: 18, Attrs: []*Attribute{
		intsAttr("kernel_shape", 3, 3), intsAttr("strides", 2, 2), intsAttr("pads", 1, 1, 1, 1), intAttr("p", 2)}})
	if err != nil {
		t.Fatal(err)
	}
	y := &Tensor{}
	if err := k.Run([]*Tensor{x}, []*Tensor{y}); err != nil {
		t.Fatal(err)
	}
	if !eqInts(y.Shape, []int{2, 1, 3, 3}) {
		t.Fatalf("shape %v", y.Shape)
	}
	for i, want := range []float32{34.380226, 38.50974, 28.460499, 25.357445, 27.055498} {
		if math.Abs(float64(y.F32[i]-want)) > 1e-5*float64(want) {
			t.Errorf("y[%d] = %g, want %g", i, y.F32[i], want)
		}
	}
}
