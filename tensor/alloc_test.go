package tensor

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/stretchr/testify/require"
)

// Destination-style operations allocate nothing, serial or parallel,
// contiguous or broadcast, also right after a garbage collection.
func testNoAllocs[T Float](t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{64, 1 << 17} { // below and above the parallel grain
		rows := n / 64
		a := RandNormal[T](rng, 0, 1, rows, 64)
		b := RandNormal[T](rng, 0, 1, rows, 64)
		row := RandNormal[T](rng, 0, 1, 64)
		col := RandNormal[T](rng, 0, 1, rows, 1)
		at := RandNormal[T](rng, 0, 1, 64, rows).T()
		d := New[T](rows, 64)
		s0, s1 := New[T](64), New[T](rows, 1)
		idx := make([]int, rows)
		m1, m2, mc := RandNormal[T](rng, 0, 1, 16, 16), RandNormal[T](rng, 0, 1, 16, 16), New[T](16, 16)
		m1t := m1.T()
		odd, oddIn := New[T](37), RandNormal[T](rng, 0, 1, 37)
		cases := map[string]func(){
			"Add":         func() { d.Add(a, b) },
			"AddRow":      func() { d.Add(a, row) },
			"MulCol":      func() { d.Mul(col, a) },
			"SubStrided":  func() { d.Sub(at, a) },
			"InPlace":     func() { d.Add(d, row) },
			"Exp":         func() { d.Exp(a) },
			"Tanh":        func() { d.Tanh(at) },
			"MulScalar":   func() { d.MulScalar(a, 2) },
			"Fill":        func() { d.Fill(1) },
			"Copy":        func() { d.Copy(at) },
			"TanhBack":    func() { d.TanhBackward(a, b) },
			"SumAxis0":    func() { s0.SumAxis(a, 0) },
			"SumAxis1":    func() { s1.SumAxis(a, 1) },
			"SumTo":       func() { s0.SumTo(a) },
			"AddSumTo":    func() { s1.AddSumTo(at) },
			"MaxAxis":     func() { s1.MaxAxis(a, 1) },
			"LSE":         func() { s1.LogSumExpAxis(a, -1) },
			"Softmax":     func() { d.Softmax(a, 1) },
			"ArgMax":      func() { ArgMaxAxis(idx, a, 1) },
			"SumAll":      func() { SumAll(a) },
			"MatMul":      func() { mc.MatMul(m1, m2) },
			"MatMulTrans": func() { mc.MatMul(m1t, m2) },
			"ExpOddLen":   func() { odd.Exp(oddIn) },
			"SoftmaxOdd":  func() { odd.Softmax(oddIn, 0) },
			"LogSoftOdd":  func() { odd.LogSoftmax(oddIn, 0) },
			"SoftBack":    func() { d.SoftmaxBackward(a, b, 1) },
			"LogSoftBack": func() { d.LogSoftmaxBackward(at, b, 0) },
		}
		for name, f := range cases {
			for _, th := range []int{1, 2} {
				old := parallel.SetThreads(th)
				f() // warm pools
				allocs := testing.AllocsPerRun(20, f)
				// Also after garbage collections, which empty sync.Pools
				// (the task lists are free lists that survive them).
				allocsGC := testing.AllocsPerRun(2, func() { runtime.GC(); f() })
				parallel.SetThreads(old)
				require.Zero(t, allocs, "%s n=%d threads=%d", name, n, th)
				require.Zero(t, allocsGC, "%s n=%d threads=%d, after a GC", name, n, th)
			}
		}
	}
}

func TestNoAllocs(t *testing.T) { bothTypes(t, testNoAllocs[float32], testNoAllocs[float64]) }
