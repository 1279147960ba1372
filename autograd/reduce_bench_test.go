package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/tensor"
)

// BenchmarkRowOps times one forward and backward step (Reset, the op, a
// seeded Backward) of the reductions, softmaxes, broadcasting products and
// the classifier loss, in float32 on 256×512 (1024×256 and 128×10 for the
// loss: a chargpt batch, and the MLP's and CNN's), so that moving their
// kernels into tensor can be seen not to cost speed or allocations.
func BenchmarkRowOps(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(shape ...int) *tensor.Dense[float32] {
		d := tensor.New[float32](shape...)
		for i, s := 0, d.Data(); i < len(s); i++ {
			s[i] = float32(rng.NormFloat64())
		}
		return d
	}
	const rows, cols = 256, 512
	x := NewVar(fill(rows, cols), true)
	bias := NewVar(fill(cols), true)
	col := NewVar(fill(rows, 1), true)
	logits := NewVar(fill(1024, 256), true)
	labels := make([]int, 1024)
	for i := range labels {
		labels[i] = rng.IntN(256)
	}
	small := NewVar(fill(128, 10), true) // BenchmarkMLPStep's and the CNN's logits
	smallLabels := make([]int, 128)
	for i := range smallLabels {
		smallLabels[i] = rng.IntN(10)
	}
	seeds := map[string]*tensor.Dense[float32]{}
	cases := []struct {
		name string
		f    func(tp *Tape[float32]) *Var[float32]
	}{
		{"Softmax", func(tp *Tape[float32]) *Var[float32] { return tp.Softmax(x, -1) }},
		{"LogSoftmax", func(tp *Tape[float32]) *Var[float32] { return tp.LogSoftmax(x, -1) }},
		{"Softmax/axis=0", func(tp *Tape[float32]) *Var[float32] { return tp.Softmax(x, 0) }},
		{"LogSumExp", func(tp *Tape[float32]) *Var[float32] { return tp.LogSumExp(x, -1) }},
		{"SumAxis/axis=0", func(tp *Tape[float32]) *Var[float32] { return tp.SumAxis(x, 0) }},
		{"MeanAxis/axis=1", func(tp *Tape[float32]) *Var[float32] { return tp.MeanAxis(x, 1) }},
		{"Add/bias", func(tp *Tape[float32]) *Var[float32] { return tp.Add(x, bias) }},
		{"Mul/bias", func(tp *Tape[float32]) *Var[float32] { return tp.Mul(x, bias) }},
		{"Div/column", func(tp *Tape[float32]) *Var[float32] { return tp.Div(x, col) }},
		{"CrossEntropy", func(tp *Tape[float32]) *Var[float32] { return tp.CrossEntropy(logits, labels) }},
		{"CrossEntropy/128x10", func(tp *Tape[float32]) *Var[float32] { return tp.CrossEntropy(small, smallLabels) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			tp := NewTape[float32]()
			step := func() {
				tp.Reset()
				y := c.f(tp)
				s, ok := seeds[c.name]
				if !ok {
					s = fill(y.Shape()...)
					seeds[c.name] = s
				}
				if err := tp.BackwardSeed(y, s); err != nil {
					b.Fatal(err)
				}
			}
			step()
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
		})
	}
}
