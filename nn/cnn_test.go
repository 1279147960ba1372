package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// smallCNN is conv, batch norm, ReLU, max pool, dropout, flatten, linear.
func smallCNN(seed uint64) *Sequential[float64] {
	rng := rand.New(rand.NewPCG(seed, 0))
	return NewSequential[float64](
		NewConv2d[float64](rng, Conv2dConfig{In: 2, Out: 4, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}),
		NewBatchNorm2d[float64](4),
		Act[float64]{ReLU},
		MaxPool2d[float64]{autograd.Pool2dOptions{Kernel: [2]int{2, 2}}},
		NewDropout[float64](rand.New(rand.NewPCG(seed, 1)), 0.25),
		Flatten[float64]{},
		NewLinear[float64](rng, 4*3*3, 3, KaimingUniform),
	)
}

func TestCNNLayers(t *testing.T) {
	m := smallCNN(1)
	var names []string
	for _, p := range NamedParameters(m) {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"0.weight", "0.bias", "1.weight", "1.bias", "6.weight", "6.bias"}, names)
	var bufs []string
	for _, b := range NamedBuffers(m) {
		bufs = append(bufs, b.Name)
	}
	require.Equal(t, []string{"1.running_mean", "1.running_var", "1.num_batches_tracked"}, bufs)
	conv := m.Layers[0].(*Conv2d[float64])
	require.Equal(t, []int{4, 2, 3, 3}, conv.Weight.Shape())
	bound := math.Sqrt(6.0 / 18)
	for _, v := range conv.Weight.Value().Data() {
		require.Less(t, math.Abs(v), bound)
	}

	x := autograd.NewVar(tensor.RandNormal[float64](rand.New(rand.NewPCG(2, 2)), 0, 1, 5, 2, 6, 6), false)
	tp := autograd.NewTape[float64]()
	y := m.Forward(tp, x)
	require.Equal(t, []int{5, 3}, y.Shape())
	bn := m.Layers[1].(*BatchNorm2d[float64])
	require.NotEqual(t, []float64{0, 0, 0, 0}, bn.RunningMean.Data(), "training updates the running mean")

	// Evaluation: the running statistics are fixed and dropout is off, so
	// two forward passes agree and leave the statistics alone.
	Train[float64](m, false)
	rm := append([]float64(nil), bn.RunningMean.Data()...)
	e1 := m.Forward(tp, x).Value().Clone()
	e2 := m.Forward(tp, x).Value()
	require.Equal(t, e1.Data(), e2.Data())
	require.Equal(t, rm, bn.RunningMean.Data())
	Train[float64](m, true)
	t1 := m.Forward(tp, x).Value().Clone()
	require.NotEqual(t, e1.Data(), t1.Data())
}

// TestCNNCheckpoint: a model saved (parameters and running statistics)
// loads into a differently seeded one that then evaluates identically.
func TestCNNCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cnn.npz")
	a, b := smallCNN(1), smallCNN(2)
	x := autograd.NewVar(tensor.RandNormal[float64](rand.New(rand.NewPCG(2, 2)), 0, 1, 5, 2, 6, 6), false)
	tp := autograd.NewTape[float64]()
	a.Forward(tp, x) // moves the running statistics
	Train[float64](a, false)
	Train[float64](b, false)
	want := a.Forward(tp, x).Value().Clone()
	require.NotEqual(t, want.Data(), b.Forward(tp, x).Value().Data())
	require.NoError(t, Save(path, a))
	_, err := Load(path, b, true)
	require.NoError(t, err)
	require.Equal(t, want.Data(), b.Forward(tp, x).Value().Data())
}

func TestCNNLayerGrad(t *testing.T) {
	// The composition's gradient with respect to its input, training mode.
	m := smallCNN(3)
	m.Layers[4] = NewDropout[float64](rand.New(rand.NewPCG(1, 1)), 0) // a fixed (empty) mask
	x := tensor.RandNormal[float64](rand.New(rand.NewPCG(4, 4)), 0, 1, 3, 2, 6, 6)
	require.NoError(t, autograd.CheckGrad(func(tp *autograd.Tape[float64], in []*autograd.Var[float64]) *autograd.Var[float64] {
		return tp.Sum(tp.Square(m.Forward(tp, in[0])))
	}, []*tensor.Dense[float64]{x}, autograd.CheckOptions{}))
}

func TestCNNLayerMisuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		f   func()
		msg string
	}{
		{func() { NewConv2d[float32](rng, Conv2dConfig{In: 0, Out: 1, Kernel: [2]int{1, 1}}) }, "NewConv2d: In 0, Out 1"},
		{func() { NewConv2d[float32](rng, Conv2dConfig{In: 1, Out: 1}) }, "NewConv2d: Kernel [0 0]"},
		{func() { NewConv2d[float32](rng, Conv2dConfig{In: 3, Out: 4, Kernel: [2]int{1, 1}, Groups: 2}) }, "NewConv2d: Groups 2 does not divide In 3 and Out 4"},
		{func() { NewConv2d[float32](nil, Conv2dConfig{In: 1, Out: 1, Kernel: [2]int{1, 1}}) }, "NewConv2d: nil rng"},
		{func() { NewBatchNorm2d[float32](0) }, "NewBatchNorm2d: 0 channels"},
		{func() { NewDropout[float32](rng, -0.1) }, "NewDropout: p -0.1 is not in [0, 1]"},
	} {
		func() {
			defer func() {
				err, ok := recover().(error)
				require.True(t, ok)
				require.True(t, errors.Is(err, ErrArg))
				require.Contains(t, err.Error(), tc.msg)
			}()
			tc.f()
		}()
	}
}

// TestMLPLayer: an MLP is a Sequential, named as PyTorch names
// nn.Sequential(Linear, ReLU, Linear), and nests under its index.
func TestMLPLayer(t *testing.T) {
	dir := t.TempDir()
	m := NewMLP[float32](rand.New(rand.NewPCG(1, 1)), []int{6, 5, 4}, ReLU)
	require.NoError(t, Save(filepath.Join(dir, "a.npz"), m))
	m2 := NewMLP[float32](rand.New(rand.NewPCG(2, 2)), []int{6, 5, 4}, ReLU)
	_, err := Load(filepath.Join(dir, "a.npz"), m2, true)
	require.NoError(t, err)
	require.Equal(t, linearAt(m, 2).Weight.Value().Data(), linearAt(m2, 2).Weight.Value().Data())

	s := NewSequential[float32](Flatten[float32]{}, m)
	var names []string
	for _, p := range NamedParameters(s) {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias"}, names)
	x := autograd.NewVar(tensor.RandNormal[float32](rand.New(rand.NewPCG(3, 3)), 0, 1, 2, 6), false)
	tp := autograd.NewTape[float32]()
	require.Equal(t, m.Forward(tp, x).Value().Data(), s.Forward(tp, x).Value().Data())
}
