package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
)

// softGradRef is the adjoint of Σ g ⊙ f(x) by central differences in
// float64, f Softmax or LogSoftmax along axis: independent of the formula.
func softGradRef(x, g *Dense[float64], axis int, log bool) []float64 {
	f := func(x *Dense[float64]) float64 {
		y := New[float64](x.Shape()...)
		if log {
			y.LogSoftmax(x, axis)
		} else {
			y.Softmax(x, axis)
		}
		return SumAll(New[float64](x.Shape()...).Mul(y, g))
	}
	xc := x.Clone()
	out := make([]float64, 0, xc.Size())
	k := 0
	forEach(xc.Shape(), func(idx []int) {
		v := xc.At(idx...)
		const h = 1e-6
		xc.Set(v+h, idx...)
		up := f(xc)
		xc.Set(v-h, idx...)
		dn := f(xc)
		xc.Set(v, idx...)
		out = append(out, (up-dn)/(2*h))
		k++
	})
	return out
}

func TestSoftmaxBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := range 60 {
		shape := randShape(rng, 4, 5)
		if len(shape) == 0 {
			shape = []int{3}
		}
		axis := rng.IntN(len(shape)) - rng.IntN(2)*len(shape) // negative half the time
		log := trial%2 == 1
		x, g := randView[float64](rng, shape...), randView[float64](rng, shape...)
		y := New[float64](shape...)
		if log {
			y.LogSoftmax(x, axis)
		} else {
			y.Softmax(x, axis)
		}
		want := softGradRef(x, g, axis, log)
		name := fmt.Sprint(shape, " axis ", axis, " log ", log)
		d := randView[float64](rng, shape...)
		back := d.SoftmaxBackward
		if log {
			back = d.LogSoftmaxBackward
		}
		require.Same(t, d, back(y, g, axis))
		requireClose(t, d, want, 1e-7, name)
		// In place over g gives the same bits.
		g2 := g.Clone()
		if log {
			g2.LogSoftmaxBackward(y, g2, axis)
		} else {
			g2.SoftmaxBackward(y, g2, axis)
		}
		require.Equal(t, d.Contiguous().Data(), g2.Data(), name)
		// float32 within its precision of float64.
		y32, g32 := convert[float32](y), convert[float32](g)
		d32 := New[float32](shape...)
		if log {
			d32.LogSoftmaxBackward(y32, g32, axis)
		} else {
			d32.SoftmaxBackward(y32, g32, axis)
		}
		requireClose(t, d32, d.Contiguous().Data(), 1e-5, name)
	}
	mustPanic(t, ErrShape, func() { New[float64](2, 3).SoftmaxBackward(New[float64](2, 3), New[float64](3, 2), 1) })
	mustPanic(t, ErrIndex, func() { New[float64](2, 3).SoftmaxBackward(New[float64](2, 3), New[float64](2, 3), 2) })
	a := New[float64](4, 4)
	mustPanic(t, ErrOverlap, func() { a.Slice(0, 0, 2).SoftmaxBackward(a.Slice(0, 1, 3), New[float64](2, 4), 1) })
}

// Rows split across two threads give the same bits as one.
func TestSoftmaxBackwardThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	x, g := RandNormal[float32](rng, 0, 1, 300, 257), RandNormal[float32](rng, 0, 1, 300, 257)
	y := Softmax(x, 1)
	ly := LogSoftmax(x, 0)
	run := func(th int) ([]float32, []float32) {
		old := parallel.SetThreads(th)
		defer parallel.SetThreads(old)
		return New[float32](300, 257).SoftmaxBackward(y, g, 1).Data(), New[float32](300, 257).LogSoftmaxBackward(ly, g, 0).Data()
	}
	a1, b1 := run(1)
	a2, b2 := run(2)
	require.Equal(t, a1, a2)
	require.Equal(t, b1, b2)
	require.False(t, math.IsNaN(float64(a1[0])))
}

// convert copies x into a new contiguous tensor of element type U.
func convert[U Float](x *Dense[float64]) *Dense[U] {
	out := New[U](x.Shape()...)
	k := 0
	forEach(x.Shape(), func(idx []int) { out.Data()[k] = U(x.At(idx...)); k++ })
	return out
}
