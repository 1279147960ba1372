package autograd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

var poolCases = []struct {
	shape []int
	o     Pool2dOptions
}{
	{[]int{2, 3, 4, 4}, Pool2dOptions{Kernel: [2]int{2, 2}}},
	{[]int{1, 2, 5, 7}, Pool2dOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{[]int{2, 1, 6, 5}, Pool2dOptions{Kernel: [2]int{3, 2}, Stride: [2]int{1, 1}}},
	{[]int{1, 2, 7, 7}, Pool2dOptions{Kernel: [2]int{2, 3}, Stride: [2]int{2, 1}, Padding: [2]int{1, 1}}},
	{[]int{1, 1, 3, 3}, Pool2dOptions{Kernel: [2]int{3, 3}}},
}

// Max pooling without padding (the unrolled 2×2 path and the general one)
// with dilation, which average pooling does not take.
var maxPoolDilated = []struct {
	shape []int
	o     Pool2dOptions
}{
	{[]int{1, 2, 7, 8}, Pool2dOptions{Kernel: [2]int{2, 2}, Stride: [2]int{1, 2}, Dilation: [2]int{2, 1}}},
	{[]int{2, 1, 7, 9}, Pool2dOptions{Kernel: [2]int{3, 2}, Stride: [2]int{2, 3}, Dilation: [2]int{1, 2}}},
	{[]int{2, 2, 6, 7}, Pool2dOptions{Kernel: [2]int{2, 2}, Stride: [2]int{1, 2}, Dilation: [2]int{2, 2}, Padding: [2]int{1, 0}}},
}

// naivePool returns max (or average, divisor KH·KW) pooling per window.
func naivePool(x *tensor.Dense[float64], o Pool2dOptions, avg bool) []float64 {
	s := x.Shape()
	st := o.Stride
	if st == [2]int{} {
		st = o.Kernel
	}
	d := o.Dilation
	d[0], d[1] = max(d[0], 1), max(d[1], 1)
	oh := (s[2]+2*o.Padding[0]-d[0]*(o.Kernel[0]-1)-1)/st[0] + 1
	ow := (s[3]+2*o.Padding[1]-d[1]*(o.Kernel[1]-1)-1)/st[1] + 1
	var y []float64
	for n := range s[0] {
		for c := range s[1] {
			for i := range oh {
				for j := range ow {
					best, sum := math.Inf(-1), 0.0
					for kh := range o.Kernel[0] {
						for kw := range o.Kernel[1] {
							ih, iw := i*st[0]-o.Padding[0]+kh*d[0], j*st[1]-o.Padding[1]+kw*d[1]
							if ih < 0 || ih >= s[2] || iw < 0 || iw >= s[3] {
								continue
							}
							v := x.At(n, c, ih, iw)
							best = max(best, v)
							sum += v
						}
					}
					if avg {
						y = append(y, sum/float64(o.Kernel[0]*o.Kernel[1]))
					} else {
						y = append(y, best)
					}
				}
			}
		}
	}
	return y
}

func TestPool2d(t *testing.T) {
	for i, pc := range poolCases {
		t.Run(fmt.Sprintf("%v_%+v", pc.shape, pc.o), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 5))
			x := randT(r, -1, 1, pc.shape...)
			for _, avg := range []bool{false, true} {
				op := func(tp *Tape[float64], v *Var[float64]) *Var[float64] {
					if avg {
						return tp.AvgPool2d(v, pc.o)
					}
					return tp.MaxPool2d(v, pc.o)
				}
				tp := NewTape[float64]()
				// Max is exact; the mean multiplies by 1/(KH·KW), within rounding.
				require.InDeltaSlice(t, naivePool(x, pc.o, avg), op(tp, NewVar(x, false)).Value().Data(), 1e-15, "avg %v", avg)
				if !avg {
					require.Equal(t, naivePool(x, pc.o, avg), op(tp, NewVar(x, false)).Value().Data())
				}
				require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
					return weigh(tp, op(tp, in[0]))
				}, []*tensor.Dense[float64]{x}, CheckOptions{}), "avg %v", avg)
			}
		})
	}
	for i, pc := range maxPoolDilated {
		t.Run(fmt.Sprintf("dilated_%v_%+v", pc.shape, pc.o), func(t *testing.T) {
			x := randT(rand.New(rand.NewPCG(9, uint64(i))), -1, 1, pc.shape...)
			tp := NewTape[float64]()
			require.Equal(t, naivePool(x, pc.o, false), tp.MaxPool2d(NewVar(x, false), pc.o).Value().Data())
			require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
				return weigh(tp, tp.MaxPool2d(in[0], pc.o))
			}, []*tensor.Dense[float64]{x}, CheckOptions{}))
		})
	}
}

// TestMaxPoolTies: on a tie the first maximum in window order (row by
// row) gets the adjoint, as in PyTorch; with overlapping windows an input
// that is the maximum of two windows gets both adjoints.
func TestMaxPoolTies(t *testing.T) {
	x := tensor.FromSlice([]float64{
		1, 3, 3, 0,
		3, 2, 0, 0,
		0, 0, 5, 5,
		0, 0, 5, 5,
	}, 1, 1, 4, 4)
	tp := NewTape[float64]()
	xv := NewVar(x, true)
	y := tp.MaxPool2d(xv, Pool2dOptions{Kernel: [2]int{2, 2}})
	require.Equal(t, []float64{3, 3, 0, 5}, y.Value().Data())
	require.NoError(t, tp.BackwardSeed(y, tensor.FromSlice([]float64{1, 10, 100, 1000}, 1, 1, 2, 2)))
	require.Equal(t, []float64{
		0, 1, 10, 0,
		0, 0, 0, 0,
		100, 0, 1000, 0,
		0, 0, 0, 0,
	}, xv.Grad().Data())

	x2 := tensor.FromSlice([]float64{1, 4, 4, 2}, 1, 1, 1, 4)
	tp2 := NewTape[float64]()
	xv2 := NewVar(x2, true)
	y2 := tp2.MaxPool2d(xv2, Pool2dOptions{Kernel: [2]int{1, 2}, Stride: [2]int{1, 1}})
	require.Equal(t, []float64{4, 4, 4}, y2.Value().Data())
	require.NoError(t, tp2.BackwardSeed(y2, tensor.FromSlice([]float64{1, 2, 4}, 1, 1, 1, 3)))
	require.Equal(t, []float64{0, 3, 4, 0}, xv2.Grad().Data())
}

func TestGlobalAvgPool(t *testing.T) {
	x := randT(rand.New(rand.NewPCG(3, 3)), -1, 1, 2, 3, 5, 4)
	tp := NewTape[float64]()
	y := tp.GlobalAvgPool2d(NewVar(x, false))
	require.Equal(t, []int{2, 3, 1, 1}, y.Shape())
	for n := range 2 {
		for c := range 3 {
			s := 0.0
			for i := range 5 {
				for j := range 4 {
					s += x.At(n, c, i, j)
				}
			}
			require.InDelta(t, s/20, y.Value().At(n, c, 0, 0), 1e-14)
		}
	}
	require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
		return weigh(tp, tp.GlobalAvgPool2d(in[0]))
	}, []*tensor.Dense[float64]{x}, CheckOptions{}))
}

func TestPoolMisuse(t *testing.T) {
	v := NewVar(tensor.New[float64](1, 1, 4, 4), false)
	for _, tc := range []struct {
		f   func(tp *Tape[float64])
		msg string
	}{
		{func(tp *Tape[float64]) {
			tp.MaxPool2d(NewVar(tensor.New[float64](4, 4), false), Pool2dOptions{Kernel: [2]int{2, 2}})
		},
			"autograd: MaxPool2d: x shape [4 4] is not N×C×H×W"},
		{func(tp *Tape[float64]) { tp.MaxPool2d(v, Pool2dOptions{}) },
			"autograd: MaxPool2d: x shape [1 1 4 4]: kernel 0x0 (both must be >= 1)"},
		{func(tp *Tape[float64]) { tp.MaxPool2d(v, Pool2dOptions{Kernel: [2]int{5, 1}}) },
			"autograd: MaxPool2d: x shape [1 1 4 4]: kernel 5x1 (dilated 5x1) is larger than the padded input 4x4"},
		{func(tp *Tape[float64]) { tp.AvgPool2d(v, Pool2dOptions{Kernel: [2]int{2, 2}, Padding: [2]int{2, 0}}) },
			"autograd: AvgPool2d: padding [2 0] is more than half the (dilated) kernel [2 2]"},
		{func(tp *Tape[float64]) { tp.AvgPool2d(v, Pool2dOptions{Kernel: [2]int{2, 2}, Dilation: [2]int{2, 2}}) },
			"autograd: AvgPool2d: dilation [2 2] is not supported"},
	} {
		func() {
			defer func() {
				err, ok := recover().(error)
				require.True(t, ok)
				require.True(t, errors.Is(err, ErrShape))
				require.Equal(t, tc.msg, err.Error())
			}()
			tc.f(NewTape[float64]())
		}()
	}
}

// TestBatchNormRunningStats: one channel holding 1, 2, 3, 4 has mean 2.5,
// biased variance 1.25 and unbiased variance 5/3; from running mean 0 and
// variance 1, momentum 0.1 gives 0.25 and 0.9 + 0.1·5/3 after one step,
// and 0.475 and 0.9·(0.9 + 1/6) + 1/6 after two.
func TestBatchNormRunningStats(t *testing.T) {
	// x is [n][c][1][2]: channel 0 holds 1, 2 (n = 0) and 3, 4 (n = 1).
	x := tensor.FromSlice([]float64{1, 2, 10, 10, 3, 4, 10, 12}, 2, 2, 1, 2)
	rm, rv := tensor.FromSlice([]float64{0, 0}, 2), tensor.FromSlice([]float64{1, 1}, 2)
	tp := NewTape[float64]()
	xv := NewVar(x, false)
	train := BatchNormOptions{Training: true}
	y := tp.BatchNorm2d(xv, nil, nil, rm, rv, train)
	is := 1 / math.Sqrt(1.25+1e-5)
	for i, want := range []float64{-1.5 * is, -0.5 * is, 0.5 * is, 1.5 * is} {
		require.InDelta(t, want, y.Value().Data()[[]int{0, 1, 4, 5}[i]], 1e-12)
	}
	require.InDelta(t, 0.25, rm.Data()[0], 1e-15)
	require.InDelta(t, 0.9+0.1*5.0/3, rv.Data()[0], 1e-15)
	// Channel 1 holds 10, 10, 10, 12: mean 10.5, unbiased variance 1.
	require.InDelta(t, 1.05, rm.Data()[1], 1e-15)
	require.InDelta(t, 1.0, rv.Data()[1], 1e-15)
	tp.BatchNorm2d(xv, nil, nil, rm, rv, train)
	require.InDelta(t, 0.475, rm.Data()[0], 1e-15)
	require.InDelta(t, 0.9*(0.9+1.0/6)+1.0/6, rv.Data()[0], 1e-15)

	// Evaluation uses (and keeps) the running statistics, with γ and β.
	gamma, beta := NewVar(tensor.FromSlice([]float64{2, 3}, 2), false), NewVar(tensor.FromSlice([]float64{0.5, -1}, 2), false)
	m0, v0 := rm.Data()[0], rv.Data()[0]
	ye := tp.BatchNorm2d(xv, gamma, beta, rm, rv, BatchNormOptions{})
	require.InDelta(t, (1-m0)/math.Sqrt(v0+1e-5)*2+0.5, ye.Value().Data()[0], 1e-12)
	require.InDelta(t, (12-rm.Data()[1])/math.Sqrt(rv.Data()[1]+1e-5)*3-1, ye.Value().Data()[7], 1e-12)
	require.Equal(t, m0, rm.Data()[0])
	require.Equal(t, v0, rv.Data()[0])
}

func TestBatchNormGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	x := randT(r, -2, 2, 3, 2, 3, 2)
	gamma, beta := randT(r, 0.5, 1.5, 2), randT(r, -1, 1, 2)
	for _, training := range []bool{true, false} {
		rm, rv := randT(r, -0.5, 0.5, 2), randT(r, 0.5, 2, 2)
		require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.BatchNorm2d(in[0], in[1], in[2], rm, rv, BatchNormOptions{Training: training}))
		}, []*tensor.Dense[float64]{x, gamma, beta}, CheckOptions{}), "training %v", training)
	}
	// No affine parameters, no running statistics, used twice.
	require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
		y := tp.BatchNorm2d(in[0], nil, nil, nil, nil, BatchNormOptions{})
		return weigh(tp, tp.Mul(y, tp.Tanh(y)))
	}, []*tensor.Dense[float64]{x}, CheckOptions{}))
}

func TestBatchNormMisuse(t *testing.T) {
	x := NewVar(tensor.New[float64](2, 3, 2, 2), false)
	for _, tc := range []struct {
		f   func(tp *Tape[float64])
		msg string
	}{
		{func(tp *Tape[float64]) {
			tp.BatchNorm2d(x, NewVar(tensor.New[float64](2), false), nil, nil, nil, BatchNormOptions{})
		}, "autograd: BatchNorm2d: gamma shape [2] does not fit x shape [2 3 2 2] (want [3])"},
		{func(tp *Tape[float64]) {
			tp.BatchNorm2d(x, nil, nil, tensor.New[float64](3), nil, BatchNormOptions{})
		}, "autograd: BatchNorm2d: runMean and runVar must both be given or both be nil"},
		{func(tp *Tape[float64]) {
			tp.BatchNorm2d(NewVar(tensor.New[float64](1, 3, 1, 1), false), nil, nil, nil, nil, BatchNormOptions{Training: true})
		}, "autograd: BatchNorm2d: x shape [1 3 1 1] has 1 value per channel; training needs more than 1"},
	} {
		func() {
			defer func() {
				err, ok := recover().(error)
				require.True(t, ok)
				require.True(t, errors.Is(err, ErrShape))
				require.Equal(t, tc.msg, err.Error())
			}()
			tc.f(NewTape[float64]())
		}()
	}
}

func TestDropout(t *testing.T) {
	x := randT(rand.New(rand.NewPCG(1, 1)), 1, 2, 50, 40)
	drop := func(seed uint64) []float64 {
		tp := NewTape[float64]()
		return tp.Dropout(NewVar(x, false), 0.3, rand.New(rand.NewPCG(seed, 0))).Value().Data()
	}
	a, b, c := drop(1), drop(1), drop(2)
	require.Equal(t, a, b, "same seed, same mask")
	require.NotEqual(t, a, c)
	zeros := 0
	for i, v := range a {
		if v == 0 {
			zeros++
		} else {
			require.InDelta(t, x.Data()[i]/0.7, v, 1e-15)
		}
	}
	require.InDelta(t, 0.3, float64(zeros)/float64(len(a)), 0.03) // 2000 draws: 3σ ≈ 0.031
	require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
		return weigh(tp, tp.Dropout(in[0], 0.5, rand.New(rand.NewPCG(4, 4))))
	}, []*tensor.Dense[float64]{randT(rand.New(rand.NewPCG(2, 2)), -1, 1, 3, 5)}, CheckOptions{}))
	tp := NewTape[float64]()
	require.Equal(t, make([]float64, 2000), tp.Dropout(NewVar(x, false), 1, rand.New(rand.NewPCG(1, 1))).Value().Data())
	require.PanicsWithError(t, "autograd: Dropout: p 1.5 is not in [0, 1]", func() { tp.Dropout(NewVar(x, false), 1.5, rand.New(rand.NewPCG(1, 1))) })
	require.PanicsWithError(t, "autograd: Dropout: nil rng", func() { tp.Dropout(NewVar(x, false), 0.5, nil) })
}

func TestPoolNormSteadyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	r := rand.New(rand.NewPCG(5, 5))
	xv := NewVar(toF32(randT(r, -1, 1, 4, 3, 8, 8)), true)
	g, b := NewVar(toF32(randT(r, 0.5, 1, 3)), true), NewVar(toF32(randT(r, 0.5, 1, 3)), true)
	rm, rv := tensor.New[float32](3), tensor.Full[float32](1, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	tp := NewTape[float32]()
	step := func() {
		tp.Reset()
		y := tp.BatchNorm2d(xv, g, b, rm, rv, BatchNormOptions{Training: true})
		y = tp.MaxPool2d(tp.Relu(y), Pool2dOptions{Kernel: [2]int{2, 2}})
		y = tp.AvgPool2d(y, Pool2dOptions{Kernel: [2]int{2, 2}})
		y = tp.Dropout(tp.GlobalAvgPool2d(y), 0.2, rng)
		if err := tp.Backward(tp.Sum(y)); err != nil {
			panic(err)
		}
	}
	step()
	step()
	require.Zero(t, testing.AllocsPerRun(5, step))
}

// TestMaxPool2x2Fast: the branch-free 2×2 pool (maxPool2x2) chooses the
// same pixel as the general window scan, bit for bit in value and index,
// on data full of ties (three distinct values), signed zeros and NaNs, at
// strides and dilations that make windows meet, overlap or skip pixels,
// on odd sizes that leave a row and column out, in float32 and float64; and
// the adjoint lands on the chosen pixels.
func TestMaxPool2x2Fast(t *testing.T) {
	shapes := [][]int{{2, 3, 28, 28}, {1, 2, 7, 9}, {3, 1, 2, 2}, {1, 1, 5, 4}}
	opts := []Pool2dOptions{
		{Kernel: [2]int{2, 2}},
		{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}},
		{Kernel: [2]int{2, 2}, Stride: [2]int{3, 2}},
		{Kernel: [2]int{2, 2}, Stride: [2]int{1, 2}, Dilation: [2]int{2, 1}},
		{Kernel: [2]int{2, 2}, Stride: [2]int{2, 1}, Dilation: [2]int{1, 2}},
	}
	for si, shape := range shapes {
		for oi, o := range opts {
			if (o.Kernel[0]-1)*max(o.Dilation[0], 1)+1 > shape[2] || (o.Kernel[1]-1)*max(o.Dilation[1], 1)+1 > shape[3] {
				continue
			}
			t.Run(fmt.Sprintf("%v_%+v", shape, o), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(si), uint64(oi)))
				x := tensor.New[float64](shape...)
				vals := []float64{0, math.Copysign(0, -1), 1, 2, math.NaN()}
				for i := range x.Data() {
					k := r.IntN(100)
					switch {
					case k < 3:
						x.Data()[i] = vals[4] // NaN
					case k < 10:
						x.Data()[i] = vals[1] // −0
					default:
						x.Data()[i] = vals[k%4]
					}
				}
				run64 := func(generic bool) ([]uint64, []int, []uint64) {
					defer func(p bool) { maxPoolGeneric = p }(maxPoolGeneric)
					maxPoolGeneric = generic
					tp := NewTape[float64]()
					xv := NewVar(x.Clone(), true)
					y := tp.MaxPool2d(xv, o)
					seed := tensor.New[float64](y.Shape()...)
					for i := range seed.Data() {
						seed.Data()[i] = float64(i + 1)
					}
					idx := append([]int(nil), y.fn.(*maxPoolNode[float64]).idx...)
					require.NoError(t, tp.BackwardSeed(y, seed))
					return bits64(y.Value().Data()), idx, bits64(xv.Grad().Data())
				}
				run32 := func(generic bool) ([]uint32, []int) {
					defer func(p bool) { maxPoolGeneric = p }(maxPoolGeneric)
					maxPoolGeneric = generic
					tp := NewTape[float32]()
					y := tp.MaxPool2d(NewVar(toF32(x), false), o)
					return bits32(y.Value().Data()), append([]int(nil), y.fn.(*maxPoolNode[float32]).idx...)
				}
				gy, gi, gg := run64(true)
				fy, fi, fg := run64(false)
				require.Equal(t, gi, fi, "indices")
				require.Equal(t, gy, fy, "values")
				require.Equal(t, gg, fg, "adjoints")
				gy32, gi32 := run32(true)
				fy32, fi32 := run32(false)
				require.Equal(t, gi32, fi32, "float32 indices")
				require.Equal(t, gy32, fy32, "float32 values")
				if o.Stride == [2]int{} { // PyTorch's default, where naivePool's max applies (no NaN there)
					clean := x.Clone()
					for i, v := range clean.Data() {
						if v != v {
							clean.Data()[i] = 3
						}
					}
					tp := NewTape[float64]()
					require.Equal(t, naivePool(clean, o, false), tp.MaxPool2d(NewVar(clean, false), o).Value().Data())
				}
			})
		}
	}
}
