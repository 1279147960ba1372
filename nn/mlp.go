package nn

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// MLP is a multilayer perceptron: Linear layers with Act between them (not
// after the last, whose outputs are the logits or regression values).
type MLP[T tensor.Float] struct {
	Layers []*Linear[T]
	Act    Activation
}

// NewMLP returns an MLP with layer widths sizes (input first, output last,
// at least two), act between layers, and weights drawn from rng layer by
// layer with act.DefaultInit(). It panics (wrapping ErrArg) for fewer than
// two sizes, a size < 1, an unknown activation or a nil rng.
func NewMLP[T tensor.Float](rng *rand.Rand, sizes []int, act Activation) *MLP[T] {
	if len(sizes) < 2 {
		panic(fmt.Errorf("%w: NewMLP: sizes %v (need at least input and output)", ErrArg, sizes))
	}
	if act < 0 || int(act) >= len(actNames) {
		panic(fmt.Errorf("%w: NewMLP: unknown activation %v", ErrArg, act))
	}
	m := &MLP[T]{Act: act}
	for i := range len(sizes) - 1 {
		m.Layers = append(m.Layers, NewLinear[T](rng, sizes[i], sizes[i+1], act.DefaultInit()))
	}
	return m
}

// Forward records the network applied to x ([batch, In]) on tp and returns
// the output ([batch, Out]).
func (m *MLP[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	act := Act[T]{m.Act}
	for i, l := range m.Layers {
		x = l.Forward(tp, x)
		if i < len(m.Layers)-1 {
			x = act.Forward(tp, x)
		}
	}
	return x
}

// Sizes returns the layer widths, input first.
func (m *MLP[T]) Sizes() []int {
	s := []int{m.Layers[0].In}
	for _, l := range m.Layers {
		s = append(s, l.Out)
	}
	return s
}

// NamedParams returns every parameter with its stable name: "layer0.weight",
// "layer0.bias", "layer1.weight", ... in layer order.
func (m *MLP[T]) NamedParams() []Param[T] {
	var ps []Param[T]
	for i, l := range m.Layers {
		ps = append(ps, l.NamedParams("layer"+strconv.Itoa(i)+".")...)
	}
	return ps
}

// Params returns the parameters in the order of NamedParams, for an
// optimiser.
func (m *MLP[T]) Params() []*autograd.Var[T] {
	var ps []*autograd.Var[T]
	for _, p := range m.NamedParams() {
		ps = append(ps, p.Var)
	}
	return ps
}

// NumParams returns the total number of scalar parameters.
func (m *MLP[T]) NumParams() int {
	n := 0
	for _, p := range m.NamedParams() {
		n += p.Var.Value().Size()
	}
	return n
}

// Save writes every parameter to path under its name (see NamedParams),
// as .npz or .safetensors by path's extension (see Save).
func (m *MLP[T]) Save(path string) error { return Save(path, m.NamedParams()) }

// Load reads parameters saved by Save into the model, in place.
func (m *MLP[T]) Load(path string) error { return Load(path, m.NamedParams()) }

// Layer returns m as a Layer, so that an MLP composes like any other
// model: nested in a Sequential, saved by SaveLayer. Its forward pass is
// m's (Linear, Act, ..., Linear, each a Layer applied in turn) and its
// parameters are named as NamedParams names them ("layer0.weight", ...),
// after the prefix, so SaveLayer(path, m.Layer()) writes the checkpoint
// that m.Save writes.
func (m *MLP[T]) Layer() Layer[T] { return mlpLayer[T]{m} }

type mlpLayer[T tensor.Float] struct{ m *MLP[T] }

func (l mlpLayer[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return l.m.Forward(tp, x)
}

func (l mlpLayer[T]) NamedParams(prefix string) []Param[T] {
	ps := l.m.NamedParams()
	for i := range ps {
		ps[i].Name = prefix + ps[i].Name
	}
	return ps
}
