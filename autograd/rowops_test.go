package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// Broadcast products whose adjoints accumulate (an operand on several
// paths, broadcast or of the output's shape), with a transposed view as an
// operand, which tensor's kernels read in place: every gradient against
// central differences.
func TestBroadcastAccumulateAndViews(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 11))
	ops := []struct {
		name string
		f    func(tp *Tape[float64], a, b *Var[float64]) *Var[float64]
	}{
		{"Add", (*Tape[float64]).Add},
		{"Sub", (*Tape[float64]).Sub},
		{"Mul", (*Tape[float64]).Mul},
		{"Div", (*Tape[float64]).Div},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			// a [3,4], b [4], c [4,3] (read transposed), d [3,1]; all in
			// [0.5, 2] so that Div's divisors are safe.
			in := []*tensor.Dense[float64]{randT(r, 0.5, 2, 3, 4), randT(r, 0.5, 2, 4), randT(r, 0.5, 2, 4, 3), randT(r, 0.5, 2, 3, 1)}
			require.NoError(t, CheckGrad(func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
				a, b, c, d := v[0], v[1], v[2], v[3]
				y := weigh(tp, op.f(tp, a, b))                            // b broadcast
				y = tp.Add(y, weigh(tp, op.f(tp, tp.Transpose(c), b)))    // b again (accumulates), a strided view
				y = tp.Add(y, weigh(tp, op.f(tp, a, d)))                  // a again, full shape, accumulates
				y = tp.Add(y, weigh(tp, op.f(tp, b, a)))                  // b on the left
				return tp.Add(y, weigh(tp, op.f(tp, d, tp.Transpose(c)))) // d on the left, against a view
			}, in, CheckOptions{}))
		})
	}
}

// rowOpsGraph uses every op whose kernel is tensor's: softmaxes,
// log-sum-exp, axis sums and means, broadcast products and the loss.
func rowOpsGraph[T tensor.Float](tp *Tape[T], x, bias, col *Var[T], labels []int) *Var[T] {
	h := tp.Add(tp.Mul(x, bias), tp.Div(x, col))
	h = tp.Sub(h, tp.Reshape(tp.MeanAxis(h, 1), -1, 1))
	sm := tp.Mean(tp.Mul(tp.Softmax(h, -1), tp.LogSoftmax(h, 0)))
	l := tp.Mean(tp.LogSumExp(h, 1))
	s := tp.Mean(tp.SumAxis(h, 0))
	return tp.Add(tp.Add(tp.CrossEntropy(h, labels), sm), tp.Add(l, s))
}

// The ops run through tensor's kernels give the same bits at one and two
// threads and, once warm, allocate nothing per step; sizes are above the
// kernels' parallel grains so that the two-thread run really splits.
func TestRowOpsThreadsAndAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const n, c = 96, 384
	mk := func(lo, hi float64, shape ...int) *Var[float32] {
		d := tensor.New[float32](shape...)
		for i := range d.Data() {
			d.Data()[i] = float32(lo + (hi-lo)*r.Float64())
		}
		return NewVar(d, true)
	}
	x, bias, col := mk(-2, 2, n, c), mk(-1, 1, c), mk(0.5, 2, n, 1)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = r.IntN(c)
	}
	params := []*Var[float32]{x, bias, col}
	run := func(threads int) (float32, [][]float32, float64) {
		prev := parallel.SetThreads(threads)
		defer parallel.SetThreads(prev)
		tp := NewTape[float32]()
		var loss float32
		step := func() {
			for _, p := range params {
				p.ZeroGrad()
			}
			l := rowOpsGraph(tp, x, bias, col, labels)
			if err := tp.Backward(l); err != nil {
				t.Fatal(err)
			}
			loss = l.Value().Data()[0]
			tp.Reset()
		}
		step()
		step()
		allocs := 0.0
		if !raceEnabled {
			allocs = testing.AllocsPerRun(10, step)
		}
		var grads [][]float32
		for _, p := range params {
			grads = append(grads, append([]float32(nil), p.Grad().Data()...))
		}
		return loss, grads, allocs
	}
	l1, g1, a1 := run(1)
	l2, g2, a2 := run(2)
	require.Equal(t, l1, l2, "loss at 1 and 2 threads")
	require.Equal(t, g1, g2, "gradients at 1 and 2 threads")
	require.Zero(t, a1, "allocations per step, 1 thread")
	require.Zero(t, a2, "allocations per step, 2 threads")
}

// The same graph in float64 against central differences, on a small size.
func TestRowOpsGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	labels := []int{2, 0, 4}
	in := []*tensor.Dense[float64]{randT(r, -2, 2, 3, 5), randT(r, -1, 1, 5), randT(r, 0.5, 2, 3, 1)}
	require.NoError(t, CheckGrad(func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
		return rowOpsGraph(tp, v[0], v[1], v[2], labels)
	}, in, CheckOptions{}))
}
