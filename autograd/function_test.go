package autograd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// mulAdd is a user-defined op of two inputs, a⊙b + a, for the tests:
// ā += ȳ⊙(b + 1), b̄ += ȳ⊙a.
type mulAdd[T tensor.Float] struct{ calls *int }

func (m mulAdd[T]) Forward(ctx *Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T] {
	a, b := in[0].Contiguous(), in[1].Contiguous()
	ctx.Save(a, b)
	y := ctx.Alloc(a.Shape()...)
	for i, v := range a.Data() {
		y.Data()[i] = v*b.Data()[i] + v
	}
	return y
}

func (m mulAdd[T]) Backward(ctx *Context[T], gy *tensor.Dense[T], gin ...*tensor.Dense[T]) {
	if m.calls != nil {
		*m.calls++
	}
	a, b, g := ctx.Saved()[0].Data(), ctx.Saved()[1].Data(), gy.Data()
	if gin[0] != nil {
		for i := range g {
			gin[0].Data()[i] += g[i] * (b[i] + 1)
		}
	}
	if gin[1] != nil {
		for i := range g {
			gin[1].Data()[i] += g[i] * a[i]
		}
	}
}

func TestApplyCheckGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b := randn(r, 3, 4), randn(r, 3, 4)
	w := randn(r, 3, 4)
	err := CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
		// The user op on several paths: with itself, with a built-in op
		// after it, and with the same Var as both inputs.
		y := tp.Apply(mulAdd[float64]{}, in[0], in[1])
		z := tp.Apply(mulAdd[float64]{}, tp.Tanh(y), in[0])
		s := tp.Apply(mulAdd[float64]{}, in[1], in[1])
		return tp.Sum(tp.Mul(tp.Add(z, s), tp.Const(w)))
	}, []*tensor.Dense[float64]{a, b}, CheckOptions{})
	require.NoError(t, err)
}

func randn(r *rand.Rand, shape ...int) *tensor.Dense[float64] {
	d := tensor.New[float64](shape...)
	for i := range d.Data() {
		d.Data()[i] = r.NormFloat64()
	}
	return d
}

func TestApplySemantics(t *testing.T) {
	tp := NewTape[float32]()
	a := NewVar(tensor.FromSlice([]float32{1, 2}, 2), true)
	b := NewVar(tensor.FromSlice([]float32{3, 4}, 2), false)
	calls := 0
	y := tp.Apply(mulAdd[float32]{&calls}, a, b)
	require.Equal(t, "Function", y.Op())
	require.True(t, y.RequiresGrad())
	require.Equal(t, []float32{4, 10}, y.Value().Data())
	require.NoError(t, tp.Backward(tp.Sum(y)))
	require.Equal(t, []float32{4, 5}, a.Grad().Data())
	require.Nil(t, b.Grad(), "b needs no gradient")
	require.Equal(t, 1, calls)

	// No inputs need a gradient: the node records no backward work.
	tp.Reset()
	c := NewVar(tensor.FromSlice([]float32{1, 2}, 2), false)
	y = tp.Apply(mulAdd[float32]{&calls}, c, b)
	require.False(t, y.RequiresGrad())
	require.ErrorIs(t, tp.Backward(tp.Sum(y)), ErrNoGrad)

	// No-grad mode: a value, nothing recorded for Backward.
	tp.Reset()
	prev := tp.NoGrad(true)
	y = tp.Apply(mulAdd[float32]{&calls}, a, b)
	tp.NoGrad(prev)
	require.False(t, y.RequiresGrad())
	require.Equal(t, 1, calls)

	// Misuse panics.
	tp.Reset()
	requireMisuse(t, "nil Function", func() { tp.Apply(nil, a) })
	requireMisuse(t, "nil Var", func() { tp.Apply(mulAdd[float32]{}, a, nil) })
	requireMisuse(t, "Forward returned nil", func() { tp.Apply(nilForward{}, a) })
}

type nilForward struct{}

func (nilForward) Forward(*Context[float32], ...*tensor.Dense[float32]) *tensor.Dense[float32] {
	return nil
}
func (nilForward) Backward(*Context[float32], *tensor.Dense[float32], ...*tensor.Dense[float32]) {}

// A user op built on Context.Alloc allocates nothing once the loop is
// steady, as built-in ops do.
func TestApplySteadyState(t *testing.T) {
	tp := NewTape[float32]()
	a := NewVar(tensor.FromSlice([]float32{1, 2, 3}, 3), true)
	b := NewVar(tensor.FromSlice([]float32{3, 4, 5}, 3), true)
	step := func() {
		tp.Reset()
		y := tp.Apply(mulAdd[float32]{}, a, b)
		if err := tp.Backward(tp.Sum(y)); err != nil {
			t.Fatal(err)
		}
		a.ZeroGrad()
		b.ZeroGrad()
	}
	step()
	step()
	require.Zero(t, testing.AllocsPerRun(20, step))
}

// Anomaly mode names the user op that produced a NaN.
func TestApplyAnomaly(t *testing.T) {
	tp := NewTape[float64]()
	tp.Anomaly(true)
	a := NewVar(tensor.FromSlice([]float64{1, math.Inf(1)}, 2), true)
	b := NewVar(tensor.FromSlice([]float64{0, 0}, 2), true)
	y := tp.Apply(mulAdd[float64]{}, b, a) // b·a + b, and 0·Inf is NaN
	err := tp.Backward(tp.Sum(y))
	var ae *AnomalyError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "Function", ae.Op)
}
