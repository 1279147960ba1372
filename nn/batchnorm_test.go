package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// TestBatchNormSettings: Momentum 0 is PyTorch's momentum 0 (running
// statistics never change), Cumulative is momentum=None (the plain mean of
// the batches' statistics), and bad settings panic (issue 23 item 10).
func TestBatchNormSettings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	xs := []*tensor.Dense[float64]{
		tensor.RandNormal[float64](rng, 1, 2, 4, 2, 3, 3),
		tensor.RandNormal[float64](rng, -3, 0.5, 4, 2, 3, 3),
		tensor.RandNormal[float64](rng, 0, 1, 4, 2, 3, 3),
	}
	tp := autograd.NewTape[float64]()

	bn := NewBatchNorm2d[float64](2)
	bn.Momentum = 0
	for _, x := range xs {
		bn.Forward(tp, tp.Const(x))
	}
	assert.Equal(t, []float64{0, 0}, bn.RunningMean.Data())
	assert.Equal(t, []float64{1, 1}, bn.RunningVar.Data())
	assert.Equal(t, 3.0, bn.NumBatchesTracked.Data()[0])

	// Cumulative: the running mean is the mean of the batch means (and the
	// variance of the unbiased batch variances), computed here naively.
	bn = NewBatchNorm2d[float64](2)
	bn.Cumulative = true
	for _, x := range xs {
		bn.Forward(tp, tp.Const(x))
	}
	for c := range 2 {
		var mean, vr float64
		for _, x := range xs {
			var s, ss float64
			n := 0
			for i := range 4 {
				for h := range 3 {
					for w := range 3 {
						v := x.At(i, c, h, w)
						s += v
						ss += v * v
						n++
					}
				}
			}
			m := s / float64(n)
			mean += m / 3
			vr += (ss - float64(n)*m*m) / float64(n-1) / 3
		}
		assert.InDelta(t, mean, bn.RunningMean.At(c), 1e-12)
		assert.InDelta(t, vr, bn.RunningVar.At(c), 1e-12)
	}

	for _, tc := range []struct {
		name string
		edit func(*BatchNorm2d[float64])
		msg  string
	}{
		{"negative eps", func(b *BatchNorm2d[float64]) { b.Eps = -1 }, "Eps -1"},
		{"NaN eps", func(b *BatchNorm2d[float64]) { b.Eps = math.NaN() }, "Eps NaN"},
		{"zero eps", func(b *BatchNorm2d[float64]) { b.Eps = 0 }, "Eps 0"},
		{"NaN momentum", func(b *BatchNorm2d[float64]) { b.Momentum = math.NaN() }, "Momentum NaN"},
		{"Inf momentum", func(b *BatchNorm2d[float64]) { b.Momentum = math.Inf(1) }, "Momentum +Inf"},
		{"momentum above 1", func(b *BatchNorm2d[float64]) { b.Momentum = 1.5 }, "Momentum 1.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatchNorm2d[float64](2)
			tc.edit(b)
			defer func() {
				err, _ := recover().(error)
				require.ErrorIs(t, err, ErrArg)
				assert.Contains(t, err.Error(), tc.msg)
				assert.Equal(t, []float64{0, 0}, b.RunningMean.Data(), "nothing written")
			}()
			b.Forward(tp, tp.Const(xs[0]))
		})
	}
	require.Panics(t, func() { NewEmbedding[float32](rng, 4, 3, math.Inf(1)) })
	require.Panics(t, func() { NewEmbedding[float32](rng, 4, 3, math.NaN()) })
}
