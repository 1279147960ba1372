package autograd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

type convCase struct {
	n, c, h, w, oc, kh, kw int
	o                      Conv2dOptions
}

func (c convCase) String() string {
	return fmt.Sprintf("x%dx%dx%dx%d_w%dx%dx%d_s%v_p%v_d%v_g%d", c.n, c.c, c.h, c.w, c.oc, c.kh, c.kw, c.o.Stride, c.o.Padding, c.o.Dilation, c.o.Groups)
}

// convCases: stride 2, padding, dilation 2, groups = C (depthwise), odd
// sizes, 1×1 kernels and kernels as large as the input.
var convGradCases = []convCase{
	{n: 2, c: 2, h: 5, w: 4, oc: 3, kh: 3, kw: 2},
	{n: 1, c: 3, h: 7, w: 5, oc: 2, kh: 3, kw: 3, o: Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{n: 2, c: 2, h: 7, w: 6, oc: 2, kh: 2, kw: 3, o: Conv2dOptions{Dilation: [2]int{2, 2}, Padding: [2]int{1, 0}}},
	{n: 2, c: 4, h: 5, w: 5, oc: 4, kh: 3, kw: 3, o: Conv2dOptions{Groups: 4, Padding: [2]int{1, 1}}},
	{n: 1, c: 4, h: 5, w: 3, oc: 6, kh: 3, kw: 1, o: Conv2dOptions{Groups: 2, Stride: [2]int{2, 1}}},
	{n: 2, c: 3, h: 3, w: 5, oc: 2, kh: 1, kw: 1},
	{n: 2, c: 2, h: 4, w: 3, oc: 3, kh: 4, kw: 3},
	{n: 1, c: 1, h: 3, w: 3, oc: 2, kh: 5, kw: 5, o: Conv2dOptions{Padding: [2]int{1, 1}}},
	{n: 3, c: 1, h: 9, w: 7, oc: 2, kh: 3, kw: 3, o: Conv2dOptions{Stride: [2]int{3, 2}, Padding: [2]int{2, 1}, Dilation: [2]int{2, 1}}},
	// Stride 1 with output rows as long as input rows (col2imStaged):
	// fewer output rows than input rows, dilation 2, a wide kernel with
	// uneven padding, and more padding than "same" on the rows.
	{n: 2, c: 2, h: 6, w: 5, oc: 3, kh: 3, kw: 3, o: Conv2dOptions{Padding: [2]int{0, 1}}},
	{n: 2, c: 3, h: 7, w: 7, oc: 2, kh: 3, kw: 3, o: Conv2dOptions{Padding: [2]int{2, 2}, Dilation: [2]int{2, 2}}},
	{n: 1, c: 2, h: 5, w: 6, oc: 2, kh: 3, kw: 5, o: Conv2dOptions{Padding: [2]int{3, 2}}},
}

// naiveConv is the 7-loop convolution, groups and bias included.
func naiveConv(cc convCase, x, w, b []float64) ([]float64, int, int) {
	s, p, d := cc.o.Stride, cc.o.Padding, cc.o.Dilation
	for i := range 2 {
		s[i], d[i] = max(s[i], 1), max(d[i], 1)
	}
	g := max(cc.o.Groups, 1)
	oh := (cc.h+2*p[0]-d[0]*(cc.kh-1)-1)/s[0] + 1
	ow := (cc.w+2*p[1]-d[1]*(cc.kw-1)-1)/s[1] + 1
	cg, ocg := cc.c/g, cc.oc/g
	y := make([]float64, cc.n*cc.oc*oh*ow)
	for n := range cc.n {
		for o := range cc.oc {
			gr := o / ocg
			for i := range oh {
				for j := range ow {
					sum := 0.0
					if b != nil {
						sum = b[o]
					}
					for c := range cg {
						for kh := range cc.kh {
							for kw := range cc.kw {
								ih, iw := i*s[0]-p[0]+kh*d[0], j*s[1]-p[1]+kw*d[1]
								if ih < 0 || ih >= cc.h || iw < 0 || iw >= cc.w {
									continue
								}
								sum += w[((o*cg+c)*cc.kh+kh)*cc.kw+kw] * x[((n*cc.c+gr*cg+c)*cc.h+ih)*cc.w+iw]
							}
						}
					}
					y[((n*cc.oc+o)*oh+i)*ow+j] = sum
				}
			}
		}
	}
	return y, oh, ow
}

func convInputs(cc convCase, seed uint64) (x, w, b *tensor.Dense[float64]) {
	r := rand.New(rand.NewPCG(seed, 9))
	g := max(cc.o.Groups, 1)
	return randT(r, -1, 1, cc.n, cc.c, cc.h, cc.w), randT(r, -1, 1, cc.oc, cc.c/g, cc.kh, cc.kw), randT(r, -1, 1, cc.oc)
}

// eachBlocking runs f with the default channel blocking and with one
// channel per block (many blocks, each adding into Y, W̄ and X̄).
func eachBlocking(t *testing.T, f func(t *testing.T)) {
	t.Run("block=default", f)
	t.Run("block=1", func(t *testing.T) {
		defer func(prev int) { convBlockElems = prev }(convBlockElems)
		convBlockElems = 1
		f(t)
	})
}

func TestConv2dForward(t *testing.T) { eachBlocking(t, testConv2dForward) }

func testConv2dForward(t *testing.T) {
	for _, cc := range convGradCases {
		t.Run(cc.String(), func(t *testing.T) {
			x, w, b := convInputs(cc, 1)
			want, oh, ow := naiveConv(cc, x.Data(), w.Data(), b.Data())
			for _, withBias := range []bool{true, false} {
				tp := NewTape[float64]()
				var bv *Var[float64]
				wantB := want
				if withBias {
					bv = NewVar(b, true)
				} else {
					wantB, _, _ = naiveConv(cc, x.Data(), w.Data(), nil)
				}
				y := tp.Conv2d(NewVar(x, true), NewVar(w, true), bv, cc.o)
				require.Equal(t, []int{cc.n, cc.oc, oh, ow}, y.Shape())
				for i, v := range y.Value().Data() {
					require.InDelta(t, wantB[i], v, 1e-12, "element %d", i)
				}
			}
			// float32 against the same reference.
			tp := NewTape[float32]()
			y := tp.Conv2d(NewVar(toF32(x), false), NewVar(toF32(w), false), NewVar(toF32(b), false), cc.o)
			for i, v := range y.Value().Data() {
				require.InDelta(t, want[i], float64(v), 1e-5, "float32 element %d", i)
			}
		})
	}
}

func TestConv2dGrad(t *testing.T) { eachBlocking(t, testConv2dGrad) }

func testConv2dGrad(t *testing.T) {
	for _, cc := range convGradCases {
		t.Run(cc.String(), func(t *testing.T) {
			x, w, b := convInputs(cc, 2)
			err := CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
				return weigh(tp, tp.Conv2d(in[0], in[1], in[2], cc.o))
			}, []*tensor.Dense[float64]{x, w, b}, CheckOptions{})
			require.NoError(t, err)
		})
	}
	// Without bias, and used twice (adjoints accumulate into x, w and b),
	// at stride 2 and at stride 1 with "same" padding (col2imStaged).
	for _, cc := range []convCase{convGradCases[1], convGradCases[0], convGradCases[10]} {
		x, w, b := convInputs(cc, 3)
		require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			y1 := tp.Conv2d(in[0], in[1], nil, cc.o)
			y2 := tp.Conv2d(in[0], in[1], nil, cc.o)
			return weigh(tp, tp.Mul(y1, y2))
		}, []*tensor.Dense[float64]{x, w}, CheckOptions{}), "%v", cc)
		require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			y1 := tp.Conv2d(in[0], in[1], in[2], cc.o)
			y2 := tp.Conv2d(in[0], in[1], in[2], cc.o)
			return weigh(tp, tp.Add(y1, tp.Mul(y2, y2)))
		}, []*tensor.Dense[float64]{x, w, b}, CheckOptions{}), "%v", cc)
	}
}

// TestConv2dBackwardPaths: backward with W̄ transposed (convWTransposed)
// and X̄ by col2imStaged agrees with the direct W̄ = Ȳ·col(X)ᵀ and
// tensor.Col2Im, within rounding, for every combination of the inputs
// wanting adjoints, with and without bias; and both agree with a naive
// reference for W̄, b̄ and X̄.
func TestConv2dBackwardPaths(t *testing.T) { eachBlocking(t, testConv2dBackwardPaths) }

func testConv2dBackwardPaths(t *testing.T) {
	cases := append(append([]convCase{}, convGradCases...), implicitCases[:2]...)
	for _, cc := range cases {
		t.Run(cc.String(), func(t *testing.T) {
			x, w, b := convInputs(cc, 11)
			y, _, _ := naiveConv(cc, x.Data(), w.Data(), b.Data())
			r := rand.New(rand.NewPCG(3, 4))
			seed := randT(r, -1, 1, len(y))
			wantX, wantW, wantB := naiveConvBack(cc, x.Data(), w.Data(), seed.Data())
			for _, needX := range []bool{true, false} {
				for _, needW := range []bool{true, false} {
					for _, withB := range []bool{true, false} {
						if !needX && !needW && !withB {
							continue // nothing wants an adjoint
						}
						run := func(legacy bool) (gx, gw, gb []float64) {
							defer func(a, b bool) { convWDirect, convCol2ImLegacy = a, b }(convWDirect, convCol2ImLegacy)
							convWDirect, convCol2ImLegacy = legacy, legacy
							tp := NewTape[float64]()
							xv, wv := NewVar(x.Clone(), needX), NewVar(w.Clone(), needW)
							var bv *Var[float64]
							if withB {
								bv = NewVar(b.Clone(), true)
							}
							out := tp.Conv2d(xv, wv, bv, cc.o)
							require.NoError(t, tp.BackwardSeed(out, tensor.FromSlice(seed.Data(), out.Shape()...)))
							if needX {
								gx = xv.Grad().Data()
							}
							if needW {
								gw = wv.Grad().Data()
							}
							if withB {
								gb = bv.Grad().Data()
							}
							return gx, gw, gb
						}
						nx, nw, nb := run(false)
						ox, ow, ob := run(true)
						for _, c := range []struct {
							name           string
							got, old, want []float64
						}{{"x̄", nx, ox, wantX}, {"w̄", nw, ow, wantW}, {"b̄", nb, ob, wantB}} {
							if c.got == nil {
								require.Nil(t, c.old, c.name)
								continue
							}
							require.Len(t, c.got, len(c.want), c.name)
							for i := range c.want {
								require.InDelta(t, c.old[i], c.got[i], 1e-12, "%s element %d (x %v w %v b %v)", c.name, i, needX, needW, withB)
								require.InDelta(t, c.want[i], c.got[i], 1e-12, "%s element %d against naive", c.name, i)
							}
						}
						if !withB {
							require.Nil(t, nb)
						}
					}
				}
			}
		})
	}
}

// naiveConvBack returns X̄, W̄ and b̄ for output adjoint gy, by the
// 7-loop convolution's chain rule, element by element.
func naiveConvBack(cc convCase, x, w, gy []float64) (gx, gw, gb []float64) {
	s, p, d := cc.o.Stride, cc.o.Padding, cc.o.Dilation
	for i := range 2 {
		s[i], d[i] = max(s[i], 1), max(d[i], 1)
	}
	g := max(cc.o.Groups, 1)
	oh := (cc.h+2*p[0]-d[0]*(cc.kh-1)-1)/s[0] + 1
	ow := (cc.w+2*p[1]-d[1]*(cc.kw-1)-1)/s[1] + 1
	cg, ocg := cc.c/g, cc.oc/g
	gx, gw, gb = make([]float64, len(x)), make([]float64, len(w)), make([]float64, cc.oc)
	for n := range cc.n {
		for o := range cc.oc {
			gr := o / ocg
			for i := range oh {
				for j := range ow {
					dy := gy[((n*cc.oc+o)*oh+i)*ow+j]
					gb[o] += dy
					for c := range cg {
						for kh := range cc.kh {
							for kw := range cc.kw {
								ih, iw := i*s[0]-p[0]+kh*d[0], j*s[1]-p[1]+kw*d[1]
								if ih < 0 || ih >= cc.h || iw < 0 || iw >= cc.w {
									continue
								}
								wi := ((o*cg+c)*cc.kh+kh)*cc.kw + kw
								xi := ((n*cc.c+gr*cg+c)*cc.h+ih)*cc.w + iw
								gw[wi] += dy * x[xi]
								gx[xi] += dy * w[wi]
							}
						}
					}
				}
			}
		}
	}
	return gx, gw, gb
}

// TestCol2ImStaged: col2imStaged adds the same as tensor.Col2Im (within
// rounding) into an image that already holds values, over geometries at
// stride 1 with output rows as long as input rows: padding on neither,
// one or both axes, dilation, kernels wider than tall and as wide as the
// padded row, and rows long and short against the vector adds.
func TestCol2ImStaged(t *testing.T) {
	for _, g := range []tensor.Conv2D{
		{C: 1, H: 28, W: 28, KH: 5, KW: 5, PadH: 2, PadW: 2},
		{C: 3, H: 14, W: 14, KH: 5, KW: 5, PadH: 2, PadW: 2},
		{C: 2, H: 6, W: 5, KH: 3, KW: 3, PadW: 1},
		{C: 2, H: 7, W: 7, KH: 3, KW: 3, PadH: 2, PadW: 2, DilationH: 2, DilationW: 2},
		{C: 1, H: 5, W: 6, KH: 3, KW: 5, PadH: 3, PadW: 2},
		{C: 2, H: 4, W: 3, KH: 1, KW: 1},
		{C: 1, H: 3, W: 3, KH: 3, KW: 7, PadH: 1, PadW: 3},
		{C: 2, H: 9, W: 70, KH: 2, KW: 3, PadW: 1, DilationH: 3},
	} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			l := col2imStagedLen(g)
			require.Positive(t, l)
			rows, cols := g.ColShape()
			r := rand.New(rand.NewPCG(5, uint64(rows)))
			dcol := randT(r, -1, 1, rows*cols).Data()
			x0 := randT(r, -1, 1, g.C*g.H*g.W).Data()
			want := append([]float64(nil), x0...)
			tensor.Col2Im(g, want, dcol)
			got := append([]float64(nil), x0...)
			plane := make([]float64, l)
			for i := range plane {
				plane[i] = math.NaN() // scratch: must be written before it is read
			}
			dc := append([]float64(nil), dcol...)
			col2imStaged(g, got, dc, plane)
			require.Equal(t, dcol, dc, "dcol changed")
			for i := range want {
				require.InDelta(t, want[i], got[i], 1e-12, "element %d", i)
			}
		})
	}
	require.Zero(t, col2imStagedLen(tensor.Conv2D{C: 1, H: 5, W: 5, KH: 3, KW: 3, StrideW: 2}))
	require.Zero(t, col2imStagedLen(tensor.Conv2D{C: 1, H: 5, W: 5, KH: 3, KW: 3}))
}

// TestTransposeAdd against the definition, sizes either side of its 32×32
// blocks and those conv backward transposes, setting and adding.
func TestTransposeAdd(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {26, 32}, {32, 32}, {33, 31}, {9, 7}, {801, 64}} {
		rows, cols := sz[0], sz[1]
		src := make([]float32, rows*cols)
		for i := range src {
			src[i] = float32(i)
		}
		dst := make([]float32, rows*cols)
		transposeAdd(dst, src, rows, cols, false)
		for r := range rows {
			for c := range cols {
				require.Equal(t, src[r*cols+c], dst[c*rows+r])
			}
		}
		transposeAdd(dst, src, rows, cols, true)
		for r := range rows {
			for c := range cols {
				require.Equal(t, 2*src[r*cols+c], dst[c*rows+r])
			}
		}
	}
}

// TestConv2dThreads: every result is bitwise the same at 1 and 2 threads.
func TestConv2dThreads(t *testing.T) { eachBlocking(t, testConv2dThreads) }

func testConv2dThreads(t *testing.T) {
	cc := convCase{n: 5, c: 3, h: 9, w: 8, oc: 4, kh: 3, kw: 3, o: Conv2dOptions{Padding: [2]int{1, 1}}}
	x64, w64, b64 := convInputs(cc, 4)
	x, w, b := toF32(x64), toF32(w64), toF32(b64)
	run := func(threads int) [][]float32 {
		defer parallel.SetThreads(parallel.SetThreads(threads))
		tp := NewTape[float32]()
		xv, wv, bv := NewVar(x.Clone(), true), NewVar(w.Clone(), true), NewVar(b.Clone(), true)
		y := tp.Conv2d(xv, wv, bv, cc.o)
		require.NoError(t, tp.BackwardSeed(y, tensor.Full[float32](0.5, y.Shape()...)))
		return [][]float32{y.Value().Data(), xv.Grad().Data(), wv.Grad().Data(), bv.Grad().Data()}
	}
	one := run(1)
	require.Equal(t, one, run(2))
	require.Equal(t, one, run(3))
}

func TestConv2dSteadyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	cc := convCase{n: 4, c: 2, h: 8, w: 8, oc: 3, kh: 3, kw: 3, o: Conv2dOptions{Padding: [2]int{1, 1}}}
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
	step()
	step()
	require.Zero(t, testing.AllocsPerRun(5, step))
}

func TestConv2dMisuse(t *testing.T) {
	v := func(shape ...int) *Var[float64] { return NewVar(tensor.New[float64](shape...), false) }
	for _, tc := range []struct {
		name    string
		x, w, b *Var[float64]
		o       Conv2dOptions
		msg     string
	}{
		{"x not 4-D", v(2, 3, 4), v(1, 3, 1, 1), nil, Conv2dOptions{}, "autograd: Conv2d: x shape [2 3 4] is not N×C×H×W"},
		{"w not 4-D", v(1, 3, 4, 4), v(3, 1, 1), nil, Conv2dOptions{}, "autograd: Conv2d: w shape [3 1 1] is not OC×C/groups×KH×KW"},
		{"channel mismatch", v(1, 3, 4, 4), v(2, 2, 1, 1), nil, Conv2dOptions{},
			"autograd: Conv2d: channel mismatch: x shape [1 3 4 4] has 3 channels, w shape [2 2 1 1] with groups 1 wants 2"},
		{"groups not dividing C", v(1, 3, 4, 4), v(2, 1, 1, 1), nil, Conv2dOptions{Groups: 2},
			"autograd: Conv2d: groups 2 does not divide x's 3 channels (x shape [1 3 4 4])"},
		{"groups not dividing OC", v(1, 4, 4, 4), v(3, 2, 1, 1), nil, Conv2dOptions{Groups: 2},
			"autograd: Conv2d: groups 2 does not divide w's 3 output channels (w shape [3 2 1 1])"},
		{"kernel larger than padded input", v(1, 1, 4, 4), v(1, 1, 7, 3), nil, Conv2dOptions{Padding: [2]int{1, 1}},
			"autograd: Conv2d: x shape [1 1 4 4], w shape [1 1 7 3]: kernel 7x3 (dilated 7x3) is larger than the padded input 6x6"},
		{"negative stride", v(1, 1, 4, 4), v(1, 1, 1, 1), nil, Conv2dOptions{Stride: [2]int{-1, 1}},
			"autograd: Conv2d: x shape [1 1 4 4], w shape [1 1 1 1]: stride -1x1 (both must be >= 1)"},
		{"bias shape", v(1, 1, 4, 4), v(2, 1, 1, 1), v(3), Conv2dOptions{},
			"autograd: Conv2d: bias shape [3] does not fit w shape [2 1 1 1] (want [2])"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				p := recover()
				err, ok := p.(error)
				require.True(t, ok, "want a panic with an error, got %v", p)
				require.True(t, errors.Is(err, ErrShape))
				require.Equal(t, tc.msg, err.Error())
			}()
			NewTape[float64]().Conv2d(tc.x, tc.w, tc.b, tc.o)
		})
	}
}
