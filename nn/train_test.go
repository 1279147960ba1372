package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// spirals returns k interleaved 2-D spirals of n points each (the CS231n
// toy problem), with a little noise: not linearly separable.
func spirals(rng *rand.Rand, n, k int) (*tensor.Dense[float32], []int) {
	x := tensor.New[float32](n*k, 2)
	y := make([]int, n*k)
	for c := range k {
		for i := range n {
			r := float64(i) / float64(n)
			th := float64(c)*4 + 4*r + rng.NormFloat64()*0.2
			x.Set(float32(r*math.Sin(th)), c*n+i, 0)
			x.Set(float32(r*math.Cos(th)), c*n+i, 1)
			y[c*n+i] = c
		}
	}
	return x, y
}

// xorBlobs returns four Gaussian blobs at (±1, ±1), class 1 where the signs
// differ.
func xorBlobs(rng *rand.Rand, n int) (*tensor.Dense[float32], []int) {
	x := tensor.New[float32](n, 2)
	y := make([]int, n)
	for i := range n {
		a, b := float64(2*(i%2)-1), float64(2*((i/2)%2)-1)
		x.Set(float32(a+0.3*rng.NormFloat64()), i, 0)
		x.Set(float32(b+0.3*rng.NormFloat64()), i, 1)
		if a != b {
			y[i] = 1
		}
	}
	return x, y
}

func accuracy(logits *tensor.Dense[float32], y []int) float64 {
	k := logits.Shape()[1]
	d := logits.Data()
	ok := 0
	for i, c := range y {
		best := 0
		for j := range k {
			if d[i*k+j] > d[i*k+best] {
				best = j
			}
		}
		if best == c {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

// TestTrainingLearns trains small MLPs full-batch on problems a linear
// model cannot solve (its best cross-entropy on the 3 spirals is about 0.75,
// on XOR ln 2 = 0.69) and requires the loss to fall far below that.
func TestTrainingLearns(t *testing.T) {
	cases := []struct {
		name      string
		data      func(*rand.Rand) (*tensor.Dense[float32], []int)
		sizes     []int
		act       nn.Activation
		opt       func([]*autograd.Var[float32]) optim.Optimizer
		steps     int
		threshold float64
	}{
		{"spirals/adam", func(r *rand.Rand) (*tensor.Dense[float32], []int) { return spirals(r, 100, 3) },
			[]int{2, 64, 64, 3}, nn.ReLU,
			func(p []*autograd.Var[float32]) optim.Optimizer { return optim.NewAdam(p, optim.AdamConfig{LR: 0.01}) },
			600, 0.15},
		{"spirals/adamw-tanh", func(r *rand.Rand) (*tensor.Dense[float32], []int) { return spirals(r, 100, 3) },
			[]int{2, 64, 64, 3}, nn.Tanh,
			func(p []*autograd.Var[float32]) optim.Optimizer {
				return optim.NewAdamW(p, optim.AdamConfig{LR: 0.01, WeightDecay: 1e-4})
			},
			600, 0.15},
		{"xor/sgd-momentum", func(r *rand.Rand) (*tensor.Dense[float32], []int) { return xorBlobs(r, 200) },
			[]int{2, 16, 2}, nn.Tanh,
			func(p []*autograd.Var[float32]) optim.Optimizer {
				return optim.NewSGD(p, optim.SGDConfig{LR: 0.1, Momentum: 0.9})
			},
			300, 0.05},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			xd, y := tc.data(rng)
			x := autograd.NewVar(xd, false)
			m := nn.NewMLP[float32](rng, tc.sizes, tc.act)
			opt := tc.opt(nn.Parameters(m))
			tp := autograd.NewTape[float32]()
			var first, last float64
			for s := range tc.steps {
				tp.Reset()
				loss := tp.CrossEntropy(m.Forward(tp, x), y)
				last = float64(loss.Value().Data()[0])
				if s == 0 {
					first = last
				}
				require.NoError(t, tp.Backward(loss))
				opt.Step()
				opt.ZeroGrad()
			}
			tp.Reset()
			tp.NoGrad(true)
			acc := accuracy(m.Forward(tp, x).Value(), y)
			t.Logf("loss %.4f -> %.4f after %d steps, training accuracy %.1f%%", first, last, tc.steps, 100*acc)
			assert.Less(t, last, tc.threshold)
			assert.Greater(t, acc, 0.95)
		})
	}
}
