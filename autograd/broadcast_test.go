package autograd

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// naiveBroadcast computes op over NumPy-broadcast operands by explicit
// multi-index arithmetic, independently of bcast.
func naiveBroadcast(op func(x, y float64) float64, a, b *tensor.Dense[float64]) *tensor.Dense[float64] {
	sa, sb := a.Shape(), b.Shape()
	nd := max(len(sa), len(sb))
	out := make([]int, nd)
	for i := range nd {
		da, db := 1, 1
		if j := i - (nd - len(sa)); j >= 0 {
			da = sa[j]
		}
		if j := i - (nd - len(sb)); j >= 0 {
			db = sb[j]
		}
		out[i] = max(da, db)
	}
	res := tensor.New[float64](out...)
	idx := make([]int, nd)
	pick := func(s []int) []int {
		k := make([]int, len(s))
		for j := range s {
			if s[j] != 1 {
				k[j] = idx[j+nd-len(s)]
			}
		}
		return k
	}
	for n := range res.Size() {
		rem := n
		for i := nd - 1; i >= 0; i-- {
			idx[i] = rem % out[i]
			rem /= out[i]
		}
		res.Data()[n] = op(a.At(pick(sa)...), b.At(pick(sb)...))
	}
	return res
}

// Random broadcast pairs: forward against the naive reference, backward
// against central differences.
func TestBroadcastRandomShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(99, 1))
	ops := []struct {
		name string
		f    func(tp *Tape[float64], a, b *Var[float64]) *Var[float64]
		ref  func(x, y float64) float64
	}{
		{"Add", (*Tape[float64]).Add, func(x, y float64) float64 { return x + y }},
		{"Sub", (*Tape[float64]).Sub, func(x, y float64) float64 { return x - y }},
		{"Mul", (*Tape[float64]).Mul, func(x, y float64) float64 { return x * y }},
		{"Div", (*Tape[float64]).Div, func(x, y float64) float64 { return x / y }},
	}
	for trial := range 40 {
		nd := 1 + r.IntN(4)
		full := make([]int, nd)
		for i := range full {
			full[i] = 1 + r.IntN(4)
		}
		mk := func() []int {
			s := append([]int(nil), full[r.IntN(nd):]...) // drop leading axes
			for i := range s {
				if r.IntN(3) == 0 {
					s[i] = 1
				}
			}
			return s
		}
		sa, sb := mk(), mk()
		op := ops[trial%len(ops)]
		t.Run(fmt.Sprintf("%s/%v/%v", op.name, sa, sb), func(t *testing.T) {
			a, b := randT(r, -1, 1, sa...), randT(r, 0.5, 2, sb...) // b > 0 for Div
			tp := NewTape[float64]()
			h := op.f(tp, tp.Const(a), tp.Const(b))
			want := naiveBroadcast(op.ref, a, b)
			require.Equal(t, want.Shape(), h.Value().Shape())
			require.InDeltaSlice(t, want.Data(), h.Value().Data(), 1e-15)
			require.NoError(t, CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
				return weigh(tp, op.f(tp, in[0], in[1]))
			}, []*tensor.Dense[float64]{a, b}, CheckOptions{}))
		})
	}
}
