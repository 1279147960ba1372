package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/stretchr/testify/require"
)

type binCase struct {
	name   string
	method func(d, a, b *Dense[float64]) // unused for typing; see runBinary
	ref    func(x, y float64) float64
}

var binRefs = map[string]func(x, y, p float64) float64{
	"Add":     func(x, y, _ float64) float64 { return x + y },
	"Sub":     func(x, y, _ float64) float64 { return x - y },
	"Mul":     func(x, y, _ float64) float64 { return x * y },
	"Div":     func(x, y, _ float64) float64 { return x / y },
	"Maximum": func(x, y, _ float64) float64 { return math.Max(x, y) },
	"Minimum": func(x, y, _ float64) float64 { return math.Min(x, y) },
	"AddScaled": func(x, y, p float64) float64 {
		return x + p*y
	},
	"TanhBackward":      func(y, g, _ float64) float64 { return g * (1 - y*y) },
	"SigmoidBackward":   func(y, g, _ float64) float64 { return g * y * (1 - y) },
	"ReluBackward":      func(x, g, _ float64) float64 { return map[bool]float64{true: g, false: 0}[x > 0] },
	"LeakyReluBackward": func(x, g, p float64) float64 { return map[bool]float64{true: g, false: p * g}[x > 0] },
	"GeluBackward": func(x, g, _ float64) float64 {
		// central difference of the reference gelu, exact enough here
		h := 1e-6
		return g * (geluRef(x+h) - geluRef(x-h)) / (2 * h)
	},
}

func geluRef(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

func callBinary[T Float](name string, d, a, b *Dense[T], p T) *Dense[T] {
	switch name {
	case "Add":
		return d.Add(a, b)
	case "Sub":
		return d.Sub(a, b)
	case "Mul":
		return d.Mul(a, b)
	case "Div":
		return d.Div(a, b)
	case "Maximum":
		return d.Maximum(a, b)
	case "Minimum":
		return d.Minimum(a, b)
	case "AddScaled":
		return d.AddScaled(a, p, b)
	case "TanhBackward":
		return d.TanhBackward(a, b)
	case "SigmoidBackward":
		return d.SigmoidBackward(a, b)
	case "ReluBackward":
		return d.ReluBackward(a, b)
	case "LeakyReluBackward":
		return d.LeakyReluBackward(a, b, p)
	case "GeluBackward":
		return d.GeluBackward(a, b)
	}
	panic(name)
}

func testBinaryRandom[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, ref := range binRefs {
		t.Run("op="+name, func(t *testing.T) {
			for trial := range 300 {
				_, as, bs := randBroadcastPair(rng)
				out := BroadcastShapes(as, bs)
				a, b := randView[T](rng, as...), randView[T](rng, bs...)
				d := randView[T](rng, out...)
				p := T(0.3)
				callBinary(name, d, a, b, p)
				want := make([]float64, 0, d.Size())
				forEach(out, func(idx []int) {
					want = append(want, ref(float64(bcastAt(a, idx)), float64(bcastAt(b, idx)), float64(p)))
				})
				rel := tol[T]()
				if name == "GeluBackward" {
					rel = 1e-5 // the reference is a finite difference
				}
				requireClose(t, d, want, rel, fmt.Sprint("trial ", trial, " shapes ", out, as, bs))
			}
		})
	}
}

func TestBinaryBroadcastRandom(t *testing.T) {
	bothTypes(t, testBinaryRandom[float32], testBinaryRandom[float64])
}

func TestBinaryHandComputed(t *testing.T) {
	bothTypes(t, testBinaryHand[float32], testBinaryHand[float64])
}

func testBinaryHand[T Float](t *testing.T) {
	a := FromSlice([]T{1, 2, 3, 4, 5, 6}, 2, 3)
	row := FromSlice([]T{10, 20, 30}, 3)
	col := FromSlice([]T{100, 200}, 2, 1)
	requireClose(t, Add(a, row), []float64{11, 22, 33, 14, 25, 36}, 0)
	requireClose(t, Add(row, a), []float64{11, 22, 33, 14, 25, 36}, 0)
	requireClose(t, Sub(a, col), []float64{-99, -98, -97, -196, -195, -194}, 0)
	requireClose(t, Mul(col, row), []float64{1000, 2000, 3000, 2000, 4000, 6000}, 0)
	requireClose(t, Div(a, Scalar[T](2)), []float64{0.5, 1, 1.5, 2, 2.5, 3}, 0)
	requireClose(t, Maximum(a, FromSlice([]T{3}, 1)), []float64{3, 3, 3, 4, 5, 6}, 0)
	requireClose(t, Minimum(a, FromSlice([]T{3}, 1)), []float64{1, 2, 3, 3, 3, 3}, 0)
	// [4,1] with [3] -> [4,3]
	c := Add(FromSlice([]T{0, 1, 2, 3}, 4, 1), FromSlice([]T{0, 10, 20}, 3))
	require.Equal(t, []int{4, 3}, c.Shape())
	requireClose(t, c, []float64{0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23}, 0)
	// In place.
	a.Add(a, row)
	requireClose(t, a, []float64{11, 22, 33, 14, 25, 36}, 0)
	// NaN propagates through Maximum and Minimum from either side.
	n := T(math.NaN())
	requireClose(t, Maximum(FromSlice([]T{n, 1}, 2), FromSlice([]T{1, n}, 2)), []float64{math.NaN(), math.NaN()}, 0)
	requireClose(t, Minimum(FromSlice([]T{n, 1}, 2), FromSlice([]T{1, n}, 2)), []float64{math.NaN(), math.NaN()}, 0)
}

var unaryRefs = map[string]func(x, p float64) float64{
	"Neg":       func(x, _ float64) float64 { return -x },
	"Abs":       func(x, _ float64) float64 { return math.Abs(x) },
	"Exp":       func(x, _ float64) float64 { return math.Exp(x) },
	"Log":       func(x, _ float64) float64 { return math.Log(x) },
	"Sqrt":      func(x, _ float64) float64 { return math.Sqrt(x) },
	"Square":    func(x, _ float64) float64 { return x * x },
	"Pow":       func(x, p float64) float64 { return math.Pow(x, p) },
	"Tanh":      func(x, _ float64) float64 { return math.Tanh(x) },
	"Sigmoid":   func(x, _ float64) float64 { return 1 / (1 + math.Exp(-x)) },
	"Relu":      func(x, _ float64) float64 { return math.Max(x, 0) },
	"LeakyRelu": func(x, p float64) float64 { return map[bool]float64{true: x, false: p * x}[x >= 0] },
	"Gelu":      func(x, _ float64) float64 { return geluRef(x) },
	"AddScalar": func(x, p float64) float64 { return x + p },
	"MulScalar": func(x, p float64) float64 { return x * p },
	"Copy":      func(x, _ float64) float64 { return x },
}

func callUnary[T Float](name string, d, a *Dense[T], p T) *Dense[T] {
	switch name {
	case "Neg":
		return d.Neg(a)
	case "Abs":
		return d.Abs(a)
	case "Exp":
		return d.Exp(a)
	case "Log":
		return d.Log(a)
	case "Sqrt":
		return d.Sqrt(a)
	case "Square":
		return d.Square(a)
	case "Pow":
		return d.Pow(a, p)
	case "Tanh":
		return d.Tanh(a)
	case "Sigmoid":
		return d.Sigmoid(a)
	case "Relu":
		return d.Relu(a)
	case "LeakyRelu":
		return d.LeakyRelu(a, p)
	case "Gelu":
		return d.Gelu(a)
	case "AddScalar":
		return d.AddScalar(a, p)
	case "MulScalar":
		return d.MulScalar(a, p)
	case "Copy":
		d.Copy(a)
		return d
	}
	panic(name)
}

func testUnaryRandom[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, ref := range unaryRefs {
		t.Run("op="+name, func(t *testing.T) {
			for trial := range 200 {
				shape := randShape(rng, 4, 4)
				a, d := randView[T](rng, shape...), randView[T](rng, shape...)
				if name == "Log" || name == "Sqrt" || name == "Pow" {
					a.Abs(a) // keep to the real domain
				}
				ps := []T{0.3, 2, 0.5, 1, -1.5}
				p := ps[trial%len(ps)]
				want := make([]float64, 0, a.Size())
				forEach(shape, func(idx []int) { want = append(want, ref(float64(a.At(idx...)), float64(p))) })
				if trial%4 == 0 {
					d = a // in place
				}
				callUnary(name, d, a, p)
				rel := tol[T]()
				if is32T[T]() && name != "Neg" && name != "Abs" && name != "Copy" {
					rel = 1e-5 // a few ulp from math32 and float32 rounding
				}
				requireClose(t, d, want, rel, fmt.Sprint("trial ", trial, " shape ", shape, " p ", p))
			}
		})
	}
}

func TestUnaryRandom(t *testing.T) {
	bothTypes(t, testUnaryRandom[float32], testUnaryRandom[float64])
}

func testUnarySpecial[T Float](t *testing.T) {
	inf, nan := T(math.Inf(1)), T(math.NaN())
	x := FromSlice([]T{-inf, -1e30, -3, -0.0, 0, 2, 1e30, inf, nan}, 9)
	for _, name := range []string{"Exp", "Tanh", "Sigmoid", "Relu", "Abs", "Neg", "Square"} {
		got := callUnary(name, New[T](9), x, 0)
		want := make([]float64, 9)
		for i := range want {
			want[i] = unaryRefs[name](float64(x.At(i)), 0)
			if is32T[T]() {
				want[i] = float64(float32(want[i]))
			}
		}
		requireClose(t, got, want, 1e-6, name)
	}
}

func TestUnarySpecialValues(t *testing.T) {
	bothTypes(t, testUnarySpecial[float32], testUnarySpecial[float64])
}

// Large operations split across threads; the result must match a serial
// run bit for bit, with a broadcast and a strided operand.
func testParallelElementwise[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a := RandNormal[T](rng, 0, 1, 300, 700)
	row := RandNormal[T](rng, 0, 1, 700)
	bt := RandNormal[T](rng, 0, 1, 700, 300).T()
	run := func() []*Dense[T] {
		return []*Dense[T]{Add(a, row), Mul(a, bt), Exp(a), Tanh(bt), Sub(bt, row), Gelu(a)}
	}
	old := parallel.SetThreads(1)
	defer parallel.SetThreads(old)
	serial := run()
	parallel.SetThreads(3)
	par := run()
	for i := range serial {
		require.Equal(t, serial[i].Data(), par[i].Data(), "op %d", i)
	}
	// And against the element-by-element definition.
	want := make([]float64, 0, a.Size())
	forEach(a.Shape(), func(idx []int) { want = append(want, float64(a.At(idx...))*float64(bt.At(idx...))) })
	requireClose(t, par[1], want, tol[T]())
}

func TestParallelElementwise(t *testing.T) {
	bothTypes(t, testParallelElementwise[float32], testParallelElementwise[float64])
}

func TestFillZero(t *testing.T) {
	a := New[float64](3, 4)
	a.T().Slice(0, 1, 3).Fill(7)
	requireClose(t, a, []float64{0, 7, 7, 0, 0, 7, 7, 0, 0, 7, 7, 0}, 0)
	a.Zero()
	requireClose(t, a, make([]float64, 12), 0)
	requireClose(t, Full[float32](2.5, 2), []float64{2.5, 2.5}, 0)
}

func TestElementwisePanics(t *testing.T) {
	a, b := New[float32](2, 3), New[float32](4)
	e := mustPanic(t, ErrShape, func() { Add(a, b) })
	require.Equal(t, "tensor: Add: shapes [2 3] and [4] do not broadcast", e.Error())
	e = mustPanic(t, ErrShape, func() { New[float32](3, 2).Mul(a, New[float32](3)) })
	require.Contains(t, e.Error(), "tensor: Mul: destination shape [3 2], want [2 3]")
	mustPanic(t, ErrShape, func() { New[float32](2).Exp(a) })
	// Nothing written before the panic.
	d := Full[float32](9, 2, 2)
	mustPanic(t, ErrShape, func() { d.Add(New[float32](2, 2), New[float32](3)) })
	requireClose(t, d, []float64{9, 9, 9, 9}, 0)
}

func TestOverlapPanics(t *testing.T) {
	x := Arange(0.0, 9, 1).Reshape(3, 3)
	mustPanic(t, ErrOverlap, func() { x.Add(x.T(), Ones[float64](3, 3)) })
	mustPanic(t, ErrOverlap, func() { x.Add(x, x.Slice(0, 0, 1)) })
	mustPanic(t, ErrOverlap, func() { x.Slice(0, 1, 3).Exp(x.Slice(0, 0, 2)) })
	mustPanic(t, ErrOverlap, func() { x.Slice(1, 0, 1).SumAxis(x, 1) })
	mustPanic(t, ErrOverlap, func() { x.Slice(0, 0, 1).SumTo(x) })
	mustPanic(t, ErrOverlap, func() { x.Slice(1, 0, 1).MaxAxis(x, 1) })
	mustPanic(t, ErrOverlap, func() { x.Softmax(x.T(), 0) })
	requireClose(t, x, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}, 0) // untouched
	// The same view, also through a different slice of the same array,
	// is in place and allowed.
	buf := []float64{9, 0, 1, 2}
	y := FromSlice(buf[1:], 3)
	FromSlice(buf, 4).Slice(0, 1, 4).Add(y, Scalar(1.0))
	requireClose(t, y, []float64{1, 2, 3}, 0)
	x.Softmax(x, 1)
	requireClose(t, SumAxis(x, 1, false), []float64{1, 1, 1}, 1e-15)
}
