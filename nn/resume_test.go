package nn_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// TestResumeBitwise: training k steps, saving model and optimiser, loading
// both into fresh objects and training on gives bitwise the parameters of
// an uninterrupted run, for SGD with momentum, Adam and AdamW (with a
// schedule, so the step count matters too), in both formats.
func TestResumeBitwise(t *testing.T) {
	const total, k = 7, 3
	type opt interface {
		optim.Optimizer
		nn.Stateful[float32]
	}
	sched := optim.Cosine{Base: 0.05, Total: total}
	mks := map[string]func([]*autograd.Var[float32]) opt{
		"sgd-momentum": func(ps []*autograd.Var[float32]) opt {
			return optim.NewSGD(ps, optim.SGDConfig{LR: 0.05, Momentum: 0.9, Schedule: sched})
		},
		"adam":  func(ps []*autograd.Var[float32]) opt { return optim.NewAdam(ps, optim.AdamConfig{Schedule: sched}) },
		"adamw": func(ps []*autograd.Var[float32]) opt { return optim.NewAdamW(ps, optim.AdamConfig{Schedule: sched}) },
	}
	rng := rand.New(rand.NewPCG(5, 5))
	x := tensor.RandNormal[float32](rng, 0, 1, 8, 4)
	labels := []int{0, 1, 2, 0, 1, 2, 0, 1}
	step := func(m nn.Layer[float32], o opt, tp *autograd.Tape[float32]) {
		tp.Reset()
		require.NoError(t, tp.Backward(tp.CrossEntropy(m.Forward(tp, tp.Const(x)), labels)))
		o.Step()
		o.ZeroGrad()
	}
	for name, mk := range mks {
		for _, ext := range []string{".safetensors", ".npz"} {
			t.Run(name+ext, func(t *testing.T) {
				tp := autograd.NewTape[float32]()
				newModel := func(seed uint64) *nn.Sequential[float32] {
					return nn.NewMLP[float32](rand.New(rand.NewPCG(seed, 1)), []int{4, 6, 3}, nn.Tanh)
				}
				a := newModel(1)
				oa := mk(nn.Parameters(a))
				for range total {
					step(a, oa, tp)
				}

				b := newModel(1)
				ob := mk(nn.Parameters(b))
				for range k {
					step(b, ob, tp)
				}
				path := filepath.Join(t.TempDir(), "ckpt"+ext)
				require.NoError(t, nn.Save(path, b, ob))

				c := newModel(2) // other weights, fresh optimiser
				oc := mk(nn.Parameters(c))
				_, err := nn.Load(path, c, true, oc)
				require.NoError(t, err)
				require.Equal(t, k, oc.Steps())
				for range total - k {
					step(c, oc, tp)
				}
				for i, p := range nn.NamedParameters(a) {
					require.Equal(t, p.Var.Value().Data(), nn.NamedParameters(c)[i].Var.Value().Data(), p.Name)
				}
			})
		}
	}
}
