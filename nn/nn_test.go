package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

func randTensor(rng *rand.Rand, shape ...int) *tensor.Dense[float64] {
	t := tensor.New[float64](shape...)
	for i := range t.Data() {
		t.Data()[i] = rng.Float64()*2 - 1
	}
	return t
}

// TestLinearForward compares x·W + b with a naive triple loop.
func TestLinearForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l := NewLinear[float64](rng, 5, 3, XavierNormal)
	for i := range l.Bias.Value().Data() {
		l.Bias.Value().Data()[i] = float64(i) - 1 // nonzero bias
	}
	x := randTensor(rng, 4, 5)
	tp := autograd.NewTape[float64]()
	y := l.Forward(tp, autograd.NewVar(x, false)).Value()
	require.Equal(t, []int{4, 3}, y.Shape())
	for i := range 4 {
		for j := range 3 {
			want := l.Bias.Value().At(j)
			for k := range 5 {
				want += x.At(i, k) * l.Weight.Value().At(j, k)
			}
			assert.InDelta(t, want, y.At(i, j), 1e-14)
		}
	}
	assert.Equal(t, []float64{-1, 0, 1}, l.Bias.Value().Data())
	assert.Equal(t, []int{3, 5}, l.Weight.Shape(), "PyTorch's [out, in]")

	// [..., In] input: every leading axis is a batch axis.
	x3 := randTensor(rng, 2, 2, 5)
	y3 := l.Forward(tp, autograd.NewVar(x3, false)).Value()
	require.Equal(t, []int{2, 2, 3}, y3.Shape())
	y2 := l.Forward(tp, autograd.NewVar(x3.Reshape(4, 5), false)).Value()
	assert.Equal(t, y2.Data(), y3.Data())
}

func TestMLPStructure(t *testing.T) {
	m := NewMLP[float32](rand.New(rand.NewPCG(1, 0)), []int{784, 512, 256, 10}, ReLU)
	assert.Equal(t, 784*512+512+512*256+256+256*10+10, NumParameters(m))
	var names []string
	var shapes [][]int
	for _, p := range NamedParameters(m) {
		names = append(names, p.Name)
		shapes = append(shapes, p.Var.Value().Shape())
		assert.True(t, p.Var.RequiresGrad(), p.Name)
	}
	assert.Equal(t, []string{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}, names)
	assert.Equal(t, [][]int{{512, 784}, {512}, {256, 512}, {256}, {10, 256}, {10}}, shapes)
	require.Len(t, Parameters(m), 6)
	assert.Same(t, linearAt(m, 2).Weight, Parameters(m)[2])
	for _, b := range []*autograd.Var[float32]{linearAt(m, 0).Bias, linearAt(m, 2).Bias, linearAt(m, 4).Bias} {
		for _, v := range b.Value().Data() {
			require.Zero(t, v)
		}
	}
	// Same seed, same weights.
	m2 := NewMLP[float32](rand.New(rand.NewPCG(1, 0)), []int{784, 512, 256, 10}, ReLU)
	assert.Equal(t, linearAt(m, 4).Weight.Value().Data(), linearAt(m2, 4).Weight.Value().Data())
}

func TestMLPPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 0))
	for name, f := range map[string]func(){
		"one size":       func() { NewMLP[float32](rng, []int{3}, ReLU) },
		"zero width":     func() { NewMLP[float32](rng, []int{3, 0, 2}, ReLU) },
		"bad activation": func() { NewMLP[float32](rng, []int{3, 2}, Activation(42)) },
		"nil rng":        func() { NewLinear[float32](nil, 3, 2, KaimingUniform) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				p := recover()
				require.NotNil(t, p)
				err, ok := p.(error)
				require.True(t, ok, "panic value %v is not an error", p)
				assert.ErrorIs(t, err, ErrArg)
			}()
			f()
		})
	}
}

func TestParseActivation(t *testing.T) {
	for _, a := range []Activation{ReLU, Tanh, Sigmoid, GELU, LeakyReLU, Identity} {
		got, err := ParseActivation(a.String())
		require.NoError(t, err)
		assert.Equal(t, a, got)
	}
	got, err := ParseActivation(" LeakyReLU ")
	require.NoError(t, err)
	assert.Equal(t, LeakyReLU, got)
	_, err = ParseActivation("swish")
	assert.Error(t, err)
}

// TestMLPGradient checks the MLP's parameter gradients (through Linear and
// each activation) against central differences of the cross-entropy loss,
// in float64.
func TestMLPGradient(t *testing.T) {
	for _, act := range []Activation{ReLU, Tanh, Sigmoid, GELU, LeakyReLU, Identity} {
		t.Run("act="+act.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(act)))
			m := NewMLP[float64](rng, []int{4, 6, 5, 3}, act)
			for _, p := range Parameters(m) {
				for i := range p.Value().Data() {
					p.Value().Data()[i] += 0.1 * (rng.Float64() - 0.5) // nonzero biases
				}
			}
			x := autograd.NewVar(randTensor(rng, 7, 4), false)
			labels := []int{0, 2, 1, 1, 0, 2, 2}
			tp := autograd.NewTape[float64]()
			loss := func() float64 {
				tp.Reset()
				return tp.CrossEntropy(m.Forward(tp, x), labels).Value().Data()[0]
			}
			tp.Reset()
			require.NoError(t, tp.Backward(tp.CrossEntropy(m.Forward(tp, x), labels)))
			const h = 1e-6
			for _, p := range NamedParameters(m) {
				v, g := p.Var.Value().Data(), p.Var.Grad().Data()
				for i := range v {
					old := v[i]
					v[i] = old + h
					up := loss()
					v[i] = old - h
					down := loss()
					v[i] = old
					num := (up - down) / (2 * h)
					// ReLU-like kinks can sit inside [x−h, x+h]; the random
					// inputs make that improbable and the test is seeded.
					assert.InDelta(t, num, g[i], 1e-7+1e-6*math.Abs(num), "%s[%d]", p.Name, i)
				}
			}
		})
	}
}

func TestActivateUnknownPanics(t *testing.T) {
	tp := autograd.NewTape[float32]()
	x := autograd.NewVar(tensor.New[float32](2), false)
	defer func() {
		err, _ := recover().(error)
		assert.True(t, errors.Is(err, ErrArg), "%v", err)
	}()
	Activate(tp, Activation(-1), x)
}
