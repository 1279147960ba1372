package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/stretchr/testify/require"
)

// naiveAxis reduces a along ax with f over each row (as float64), returning
// values in row-major order of the reduced shape.
func naiveAxis[T Float](a *Dense[T], ax int, f func(row []float64) float64) []float64 {
	outShape := slices.Delete(slices.Clone(a.shape), ax, ax+1)
	var out []float64
	forEach(outShape, func(idx []int) {
		row := make([]float64, a.shape[ax])
		full := slices.Insert(slices.Clone(idx), ax, 0)
		for i := range row {
			full[ax] = i
			row[i] = float64(a.At(full...))
		}
		out = append(out, f(row))
	})
	return out
}

func refSum(r []float64) float64 {
	s := 0.0
	for _, v := range r {
		s += v
	}
	return s
}

func refMax(r []float64) float64 {
	m := math.Inf(-1)
	for _, v := range r {
		m = math.Max(m, v)
	}
	return m
}

func refLSE(r []float64) float64 {
	m := refMax(r)
	if math.IsInf(m, 0) {
		return m
	}
	s := 0.0
	for _, v := range r {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

func testAxisReductions[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	refs := map[string]func([]float64) float64{
		"SumAxis":       refSum,
		"MeanAxis":      func(r []float64) float64 { return refSum(r) / float64(len(r)) },
		"MaxAxis":       refMax,
		"MinAxis":       func(r []float64) float64 { return -refMax(neg(r)) },
		"LogSumExpAxis": refLSE,
	}
	for name, ref := range refs {
		t.Run("op="+name, func(t *testing.T) {
			for trial := range 300 {
				shape := randShape(rng, 4, 5)
				if len(shape) == 0 {
					shape = []int{3}
				}
				a := randView[T](rng, shape...)
				ax := rng.IntN(len(shape))
				keep := trial%2 == 0
				outShape := reducedShape("", shape, ax, keep)
				d := randView[T](rng, outShape...)
				axis := ax
				if trial%3 == 0 {
					axis = ax - len(shape) // negative form
				}
				switch name {
				case "SumAxis":
					d.SumAxis(a, axis)
				case "MeanAxis":
					d.MeanAxis(a, axis)
				case "MaxAxis":
					d.MaxAxis(a, axis)
				case "MinAxis":
					d.MinAxis(a, axis)
				case "LogSumExpAxis":
					d.LogSumExpAxis(a, axis)
				}
				requireClose(t, d, naiveAxis(a, ax, ref), 4*tol[T](), fmt.Sprint("shape ", shape, " axis ", axis, " keep ", keep))
			}
		})
	}
	t.Run("op=ArgMaxAxis", func(t *testing.T) {
		for range 200 {
			shape := randShape(rng, 4, 5)
			if len(shape) == 0 {
				shape = []int{2}
			}
			a := randView[T](rng, shape...)
			ax := rng.IntN(len(shape))
			got := ArgMaxAxis(nil, a, ax)
			want := naiveAxis(a, ax, func(r []float64) float64 {
				best := 0
				for i, v := range r {
					if v > r[best] {
						best = i
					}
				}
				return float64(best)
			})
			for i := range want {
				require.Equal(t, int(want[i]), got[i])
			}
		}
	})
	t.Run("op=Softmax", func(t *testing.T) {
		for trial := range 200 {
			shape := randShape(rng, 4, 5)
			if len(shape) == 0 {
				shape = []int{2}
			}
			a := randView[T](rng, shape...)
			ax := rng.IntN(len(shape))
			d := randView[T](rng, shape...)
			ld := randView[T](rng, shape...)
			var want, wantLog []float64
			forEach(shape, func(idx []int) {
				full := slices.Clone(idx)
				row := make([]float64, shape[ax])
				for i := range row {
					full[ax] = i
					row[i] = float64(a.At(full...))
				}
				l := refLSE(row)
				x := float64(a.At(idx...))
				want = append(want, math.Exp(x-l))
				wantLog = append(wantLog, x-l)
			})
			if trial%3 == 0 {
				d, ld = a, cloneOf(a) // in place
			}
			d.Softmax(a, ax)
			requireClose(t, d, want, 4*tol[T](), fmt.Sprint("shape ", shape, " axis ", ax))
			if trial%3 == 0 {
				ld.LogSoftmax(ld, ax)
			} else {
				ld.LogSoftmax(a, ax)
			}
			requireClose(t, ld, wantLog, 4*tol[T](), fmt.Sprint("log shape ", shape, " axis ", ax))
		}
	})
}

// cloneOf is a test helper returning an independent copy.
func cloneOf[T Float](a *Dense[T]) *Dense[T] { return a.Clone() }

func neg(r []float64) []float64 {
	o := make([]float64, len(r))
	for i, v := range r {
		o[i] = -v
	}
	return o
}

func TestAxisReductions(t *testing.T) {
	bothTypes(t, testAxisReductions[float32], testAxisReductions[float64])
}

func testSumTo[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 400 {
		src, small, _ := randBroadcastPair(rng)
		s := randView[T](rng, src...)
		d := randView[T](rng, small...)
		init := d.Clone()
		// Reference: accumulate every source element into its target.
		want := make([]float64, d.Size())
		lead := len(src) - len(small)
		forEach(src, func(idx []int) {
			k := 0
			for i, n := range small {
				j := idx[i+lead]
				if n == 1 {
					j = 0
				}
				k = k*n + j
			}
			want[k] += float64(s.At(idx...))
		})
		if trial%2 == 0 {
			d.SumTo(s)
		} else {
			d.AddSumTo(s)
			k := 0
			forEach(small, func(idx []int) { want[k] += float64(init.At(idx...)); k++ })
		}
		requireClose(t, d, want, 8*tol[T](), fmt.Sprint("src ", src, " to ", small))
	}
	e := mustPanic(t, ErrShape, func() { New[T](3).SumTo(New[T](2, 4)) })
	require.Equal(t, "tensor: SumTo: shape [3] does not broadcast to [2 4]", e.Error())
}

func TestSumTo(t *testing.T) { bothTypes(t, testSumTo[float32], testSumTo[float64]) }

func testSumAllMeanAll[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 100 {
		shape := randShape(rng, 4, 6)
		a := randView[T](rng, shape...)
		want := 0.0
		forEach(shape, func(idx []int) { want += float64(a.At(idx...)) })
		require.InDelta(t, want, float64(SumAll(a)), 1e-4*(1+math.Abs(want)))
		require.InDelta(t, want/float64(a.Size()), float64(MeanAll(a)), 1e-4*(1+math.Abs(want)))
		mx, mn := math.Inf(-1), math.Inf(1)
		forEach(shape, func(idx []int) { v := float64(a.At(idx...)); mx = math.Max(mx, v); mn = math.Min(mn, v) })
		require.Equal(t, mx, float64(MaxAll(a)))
		require.Equal(t, mn, float64(MinAll(a)))
	}
	require.Equal(t, T(0), SumAll(New[T](0, 3)))
	mustPanic(t, ErrShape, func() { MaxAll(New[T](0)) })
	mustPanic(t, ErrShape, func() { MaxAxis(New[T](2, 0), 1, false) })
	requireClose(t, SumAxis(New[T](2, 0), 1, false), []float64{0, 0}, 0)
	requireClose(t, LogSumExpAxis(New[T](2, 0), 1, false), []float64{math.Inf(-1), math.Inf(-1)}, 0)
}

func TestSumAllMeanAll(t *testing.T) {
	bothTypes(t, testSumAllMeanAll[float32], testSumAllMeanAll[float64])
}

func testStableSoftmax[T Float](t *testing.T) {
	inf := T(math.Inf(1))
	big := T(1e30)
	a := FromSlice([]T{big, big, 0, -inf, -inf, -inf, 1, -inf, 2, -big, 0, big}, 4, 3)
	lse := LogSumExpAxis(a, 1, false)
	requireClose(t, lse, []float64{float64(big) + math.Log(2), math.Inf(-1), 2 + math.Log(1+math.Exp(-1)), float64(big)}, 1e-6)
	sm := Softmax(a, 1)
	requireClose(t, sm.Slice(0, 0, 1), []float64{0.5, 0.5, 0}, 1e-6)
	requireClose(t, sm.Slice(0, 2, 3), []float64{1 / (1 + math.E), 0, math.E / (1 + math.E)}, 1e-6)
	requireClose(t, sm.Slice(0, 3, 4), []float64{0, 0, 1}, 1e-6)
	// An all −Inf row has no distribution: NaN, as in NumPy.
	requireClose(t, sm.Slice(0, 1, 2), []float64{math.NaN(), math.NaN(), math.NaN()}, 0)
	ls := LogSoftmax(a, 1)
	requireClose(t, ls.Slice(0, 0, 1), []float64{-math.Log(2), -math.Log(2), -float64(big) - math.Log(2)}, 1e-6)
	requireClose(t, ls.Slice(0, 3, 4), []float64{-2 * float64(big), -float64(big), 0}, 1e-6)
	// +Inf in a row.
	requireClose(t, LogSumExpAxis(FromSlice([]T{inf, 1}, 2), 0, false), []float64{math.Inf(1)}, 0)
}

func TestStableSoftmax(t *testing.T) {
	bothTypes(t, testStableSoftmax[float32], testStableSoftmax[float64])
}

// Reductions give the same bits at any thread count.
func testReductionThreads[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	a := RandNormal[T](rng, 0, 1, 700, 1500)
	at := RandNormal[T](rng, 0, 1, 1500, 700).T()
	run := func() []any {
		return []any{
			SumAll(a), SumAll(at), MeanAll(a),
			SumAxis(a, 0, false).Data(), SumAxis(a, 1, false).Data(),
			SumAxis(at, 0, false).Data(), SumAxis(at, 1, true).Data(),
			MeanAxis(a, 0, false).Data(), SumTo(a, 1500).Data(), SumTo(at, 700, 1).Data(),
			MaxAxis(a, 1, false).Data(), LogSumExpAxis(a, 0, false).Data(),
			Softmax(a, 1).Data(), ArgMaxAxis(nil, at, 1),
		}
	}
	old := parallel.SetThreads(1)
	defer parallel.SetThreads(old)
	one := run()
	for _, n := range []int{2, 3, 8} {
		parallel.SetThreads(n)
		require.Equal(t, one, run(), "threads=%d", n)
	}
	// Sanity: the parallel sums are right.
	want := 0.0
	for _, v := range a.Data() {
		want += float64(v)
	}
	require.InDelta(t, want, float64(one[0].(T)), 1e-3*math.Sqrt(float64(a.Size())))
}

func TestReductionThreads(t *testing.T) {
	bothTypes(t, testReductionThreads[float32], testReductionThreads[float64])
}

func TestReductionPanics(t *testing.T) {
	a := New[float64](2, 3)
	e := mustPanic(t, ErrShape, func() { New[float64](3).SumAxis(a, 1) })
	require.Contains(t, e.Error(), "tensor: SumAxis: destination shape [3] does not fit shape [2 3] reduced over axis 1")
	mustPanic(t, ErrIndex, func() { SumAxis(a, 2, false) })
	mustPanic(t, ErrIndex, func() { Softmax(a, -3) })
	mustPanic(t, ErrShape, func() { ArgMaxAxis(make([]int, 2), a, 0) })
}

// Larger shapes reach the column-accumulating sum (many outputs, reduced
// axis not innermost) and the parallel splits; check them against the
// naive reduction too, on random views.
func testReductionsLarge[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	old := parallel.SetThreads(3)
	defer parallel.SetThreads(old)
	for _, shape := range [][]int{{5, 130}, {3, 4, 70}, {130, 2, 3}, {64, 300}, {40, 50, 30}, {2, 3000}} {
		for ax := range shape {
			for trial := range 2 {
				a := randView[T](rng, shape...)
				if trial == 1 {
					a = RandNormal[T](rng, 0, 1, shape...)
				}
				name := fmt.Sprint("shape ", shape, " axis ", ax, " trial ", trial)
				rel := 1e-5
				if !is32T[T]() {
					rel = 1e-12
				}
				requireClose(t, SumAxis(a, ax, true), naiveAxis(a, ax, refSum), rel, name)
				requireClose(t, MeanAxis(a, ax, false), naiveAxis(a, ax, func(r []float64) float64 { return refSum(r) / float64(len(r)) }), rel, name)
				requireClose(t, MaxAxis(a, ax, false), naiveAxis(a, ax, refMax), 0, name)
				requireClose(t, LogSumExpAxis(a, ax, false), naiveAxis(a, ax, refLSE), rel, name)
				small := slices.Clone(shape)
				small[ax] = 1
				requireClose(t, SumTo(a, small[1:]...), naiveSumTo(a, small[1:]), rel, name)
				acc := Ones[T](small...)
				want := naiveAxis(a, ax, refSum)
				for i := range want {
					want[i]++
				}
				requireClose(t, acc.AddSumTo(a), want, rel, name)
			}
		}
	}
}

// naiveSumTo sums a to shape (which broadcasts to a's shape).
func naiveSumTo[T Float](a *Dense[T], shape []int) []float64 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	out := make([]float64, n)
	lead := len(a.shape) - len(shape)
	forEach(a.shape, func(idx []int) {
		k := 0
		for i, d := range shape {
			j := idx[i+lead]
			if d == 1 {
				j = 0
			}
			k = k*d + j
		}
		out[k] += float64(a.At(idx...))
	})
	return out
}

func TestReductionsLarge(t *testing.T) {
	bothTypes(t, testReductionsLarge[float32], testReductionsLarge[float64])
}

// testSumToSameShape covers sums that reduce nothing (d has src's shape up
// to size-1 dimensions), which run as an elementwise copy or add: strided
// views on both sides, against the element-by-element reference.
func testSumToSameShape[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	pairs := [][2][]int{
		{{3, 4}, {3, 4}}, {{1, 3, 4}, {3, 4}}, {{3, 1, 4}, {3, 1, 4}}, {{2, 1, 3, 5}, {2, 1, 3, 5}},
		{{300, 257}, {300, 257}}, // above the parallel grain
	}
	for trial, p := range append(pairs, pairs...) {
		src, small := p[0], p[1]
		s := randView[T](rng, src...)
		d := randView[T](rng, small...)
		init := d.Clone()
		want := naiveSumTo(s, small)
		if trial < len(pairs) {
			d.SumTo(s)
		} else {
			d.AddSumTo(s)
			k := 0
			forEach(small, func(idx []int) { want[k] += float64(init.At(idx...)); k++ })
		}
		// A copy is exact; an add rounds once in T.
		rel := 0.0
		if trial >= len(pairs) {
			rel = tol[T]()
		}
		requireClose(t, d, want, rel, fmt.Sprint("src ", src, " to ", small, " add ", trial >= len(pairs)))
	}
	// MeanAxis over an axis of size 1 is a copy too.
	a := randView[T](rng, 4, 1, 6)
	m := New[T](4, 6).MeanAxis(a, 1)
	requireClose(t, m, naiveSumTo(a, []int{4, 1, 6}), 0)
}

func TestSumToSameShape(t *testing.T) {
	bothTypes(t, testSumToSameShape[float32], testSumToSameShape[float64])
}
