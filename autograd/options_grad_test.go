package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/tensor"
)

// TestGradOptions checks the backward of the PyTorch-option ops against
// central differences in float64.
func TestGradOptions(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 1))
	in := func(shape ...int) *tensor.Dense[float64] { return randT(r, -2, 2, shape...) }
	cases := []gradCase{
		{"GeluErf", []*tensor.Dense[float64]{randT(r, -4, 4, 3, 5)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.GeluErf(v[0]))
		}},
		{"LayerNormShape/affine", []*tensor.Dense[float64]{in(2, 3, 4), in(3, 4), in(3, 4)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.LayerNormShape(v[0], []int{3, 4}, v[1], v[2], 1e-5))
		}},
		{"LayerNormShape/plain", []*tensor.Dense[float64]{in(3, 2, 2, 3)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.LayerNormShape(v[0], []int{2, 2, 3}, nil, nil, 1e-5))
		}},
		{"CrossEntropyWith", []*tensor.Dense[float64]{in(5, 4)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			return tp.CrossEntropyWith(v[0], []int{1, 7, 3, 0, 7}, CrossEntropyOptions{Ignore: true, IgnoreIndex: 7, LabelSmoothing: 0.2})
		}},
		{"CrossEntropyWith/ignore-a-class", []*tensor.Dense[float64]{in(4, 3)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			return tp.CrossEntropyWith(v[0], []int{1, 2, 0, 2}, CrossEntropyOptions{Ignore: true, IgnoreIndex: 2})
		}},
	}
	for _, s := range []struct {
		a, b   []int
		ta, tb bool
	}{
		{[]int{2, 1, 3, 4}, []int{3, 4, 5}, false, false},
		{[]int{3, 4}, []int{2, 4, 2}, false, false},
		{[]int{2, 3, 4}, []int{4, 5}, false, false},
		{[]int{1, 2, 4, 3}, []int{3, 1, 5, 4}, true, true},
		{[]int{2, 1, 4, 3}, []int{1, 3, 4, 2}, true, false},
		{[]int{2, 3, 4}, []int{2, 4, 3}, false, false}, // equal batches: BatchedMatMul
	} {
		cases = append(cases, gradCase{"BroadcastMatMul", []*tensor.Dense[float64]{in(s.a...), in(s.b...)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.BroadcastMatMul(v[0], v[1], transFlag(s.ta), transFlag(s.tb)))
		}})
	}
	// The same operand on both sides, broadcast against itself.
	cases = append(cases, gradCase{"BroadcastMatMul/shared", []*tensor.Dense[float64]{in(2, 1, 3, 3)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
		return weigh(tp, tp.BroadcastMatMul(v[0], tp.Reshape(v[0], 2, 3, 3), gemm.NoTrans, gemm.Trans))
	}})
	for _, o := range []Pool2dOptions{
		{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, CeilMode: true},
		{Kernel: [2]int{3, 2}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, CeilMode: true},
		{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, ExcludePad: true},
		{Kernel: [2]int{2, 3}, Stride: [2]int{3, 2}, Padding: [2]int{1, 1}, CeilMode: true, ExcludePad: true},
	} {
		// Distinct values (a permutation), so that no max pool window
		// ties and the difference quotient sees the chosen element.
		x := tensor.New[float64](2, 1, 6, 7)
		for i, p := range r.Perm(x.Size()) {
			x.Data()[i] = float64(p) / 10
		}
		cases = append(cases, gradCase{"AvgPool2d", []*tensor.Dense[float64]{x}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.AvgPool2d(v[0], o))
		}})
		if !o.ExcludePad {
			cases = append(cases, gradCase{"MaxPool2d", []*tensor.Dense[float64]{x}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
				return weigh(tp, tp.MaxPool2d(v[0], o))
			}})
		}
	}
	for _, u := range []struct {
		h, w     int
		bilinear bool
		align    bool
	}{{7, 5, false, false}, {2, 9, false, false}, {7, 5, true, false}, {7, 5, true, true}, {1, 2, true, true}, {2, 6, true, false}} {
		cases = append(cases, gradCase{"Upsample", []*tensor.Dense[float64]{in(2, 1, 3, 4)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
			if u.bilinear {
				return weigh(tp, tp.UpsampleBilinear2d(v[0], u.h, u.w, u.align))
			}
			return weigh(tp, tp.UpsampleNearest2d(v[0], u.h, u.w))
		}})
	}
	// The padding row gets no adjoint by design (PyTorch's padding_idx), so
	// the rows that read it are masked out of the loss: then its true
	// derivative is 0 too, and every other row is checked.
	mask := tensor.New[float64](6, 3)
	for i, ix := range []int{1, 4, 3, 4, 0, 1} {
		if ix != 4 {
			mask.Data()[i*3], mask.Data()[i*3+1], mask.Data()[i*3+2] = 1, 1, 1
		}
	}
	cases = append(cases, gradCase{"EmbeddingPadding", []*tensor.Dense[float64]{in(5, 3)}, func(tp *Tape[float64], v []*Var[float64]) *Var[float64] {
		return weigh(tp, tp.Mul(tp.EmbeddingPadding(v[0], []int{1, 4, 3, 4, 0, 1}, -1), tp.Const(mask)))
	}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, CheckGrad(c.f, c.inputs, CheckOptions{}))
		})
	}
}

func TestOptionsMisuse(t *testing.T) {
	tp := NewTape[float64]()
	v := func(shape ...int) *Var[float64] { return NewVar(tensor.New[float64](shape...), true) }
	require.Panics(t, func() { tp.BroadcastMatMul(v(2, 3, 4), v(3, 4, 5), gemm.NoTrans, gemm.NoTrans) }, "batches 2 and 3")
	require.Panics(t, func() { tp.BroadcastMatMul(v(3, 4), v(2, 5, 6), gemm.NoTrans, gemm.NoTrans) }, "inner")
	require.Panics(t, func() { tp.BroadcastMatMul(v(4), v(4, 5), gemm.NoTrans, gemm.NoTrans) }, "rank 1")
	require.Panics(t, func() { tp.LayerNormShape(v(2, 3, 4), []int{2, 4}, nil, nil, 1e-5) })
	require.Panics(t, func() { tp.LayerNormShape(v(2, 3, 4), []int{3, 4}, v(12), nil, 1e-5) })
	require.Panics(t, func() { tp.LayerNormShape(v(2, 3, 4), nil, nil, nil, 1e-5) })
	require.Panics(t, func() { tp.CrossEntropyWith(v(2, 3), []int{0, 3}, CrossEntropyOptions{}) })
	require.Panics(t, func() { tp.CrossEntropyWith(v(2, 3), []int{0, -100}, CrossEntropyOptions{}) }, "ignore off")
	require.Panics(t, func() { tp.CrossEntropyWith(v(2, 3), []int{0, 1}, CrossEntropyOptions{LabelSmoothing: 1.5}) })
	require.Panics(t, func() { tp.EmbeddingPadding(v(3, 2), []int{0}, 3) })
	require.Panics(t, func() { tp.UpsampleNearest2d(v(1, 1, 2, 2), 0, 3) })
	require.Panics(t, func() { tp.UpsampleBilinear2d(v(1, 2, 2), 2, 3, false) })
	require.Panics(t, func() {
		tp.BatchNorm2d(v(2, 1, 2, 2), nil, nil, tensor.New[float64](1), tensor.New[float64](1), BatchNormOptions{Training: true, CumulativeAverage: true})
	})
	require.NotPanics(t, func() {
		tp.CrossEntropyWith(v(2, 3), []int{0, -100}, CrossEntropyOptions{Ignore: true, IgnoreIndex: -100})
	})
}

// The new ops, like the old, allocate nothing once a loop is steady.
func TestOptionsSteadyState(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 2))
	tp := NewTape[float32]()
	leaf := func(shape ...int) *Var[float32] {
		d := tensor.New[float32](shape...)
		for i := range d.Data() {
			d.Data()[i] = float32(r.NormFloat64())
		}
		return NewVar(d, true)
	}
	x, w, b := leaf(2, 3, 4), leaf(3, 4), leaf(3, 4)
	ma, mb := leaf(2, 1, 3, 4), leaf(3, 4, 5)
	img := leaf(2, 2, 7, 8)
	logits := leaf(4, 5)
	table := leaf(5, 3)
	rm, rv := tensor.New[float32](2), tensor.Full[float32](1, 2)
	labels := []int{1, -100, 4, 0}
	idx := []int{0, 3, 0, 2}
	ns := []int{3, 4}
	step := func() {
		tp.Reset()
		l := tp.Sum(tp.GeluErf(tp.LayerNormShape(x, ns, w, b, 1e-5)))
		l = tp.Add(l, tp.Sum(tp.BroadcastMatMul(ma, mb, gemm.NoTrans, gemm.NoTrans)))
		l = tp.Add(l, tp.CrossEntropyWith(logits, labels, CrossEntropyOptions{Ignore: true, IgnoreIndex: -100, LabelSmoothing: 0.1}))
		p := Pool2dOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, CeilMode: true, ExcludePad: true}
		l = tp.Add(l, tp.Sum(tp.AvgPool2d(img, p)))
		l = tp.Add(l, tp.Sum(tp.MaxPool2d(img, p)))
		l = tp.Add(l, tp.Sum(tp.UpsampleBilinear2d(img, 5, 9, false)))
		l = tp.Add(l, tp.Sum(tp.UpsampleNearest2d(img, 5, 9)))
		l = tp.Add(l, tp.Sum(tp.EmbeddingPadding(table, idx, 0)))
		l = tp.Add(l, tp.Sum(tp.BatchNorm2d(img, nil, nil, rm, rv, BatchNormOptions{Training: true, CumulativeAverage: true, BatchesTracked: 3})))
		if err := tp.Backward(l); err != nil {
			t.Fatal(err)
		}
		for _, v := range []*Var[float32]{x, w, b, ma, mb, img, logits, table} {
			v.ZeroGrad()
		}
	}
	step()
	step()
	require.Zero(t, testing.AllocsPerRun(10, step))
}
