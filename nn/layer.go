package nn

import (
	"strconv"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Layer is one piece of a model: it records its forward pass on a tape and
// names its parameters. Linear, the activations (Act) and Sequential
// implement it; a model is a composition of layers, not a special case.
//
// NamedParams returns the layer's trainable parameters, each named with
// prefix prepended ("" at the top of a model). Names are stable, match
// PyTorch's state_dict names where the structure is the same, and are the
// keys a checkpoint holds.
type Layer[T tensor.Float] interface {
	Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T]
	NamedParams(prefix string) []Param[T]
}

// Trainable is implemented by layers whose forward pass differs between
// training and evaluation (BatchNorm2d, Dropout) and by containers, which
// pass the switch on to their children. SetTraining(true) is training
// mode, as PyTorch's module.train(); SetTraining(false) is module.eval().
type Trainable interface {
	SetTraining(on bool)
}

// Buffered is implemented by layers holding state that is not trained but
// belongs in a checkpoint (BatchNorm2d's running mean and variance), named
// as NamedParams names parameters.
type Buffered[T tensor.Float] interface {
	NamedBuffers(prefix string) []Buffer[T]
}

// Buffer is a named non-trainable tensor saved with a model's checkpoint.
type Buffer[T tensor.Float] struct {
	Name  string
	Value *tensor.Dense[T]
}

// SetTraining switches l and everything inside it to training (on) or
// evaluation mode; layers without such a mode ignore it.
func SetTraining[T tensor.Float](l Layer[T], on bool) {
	if t, ok := l.(Trainable); ok {
		t.SetTraining(on)
	}
}

// NamedBuffers returns l's buffers (nil for a layer without any).
func NamedBuffers[T tensor.Float](l Layer[T], prefix string) []Buffer[T] {
	if b, ok := l.(Buffered[T]); ok {
		return b.NamedBuffers(prefix)
	}
	return nil
}

// Params returns the parameters of l in the order of NamedParams, for an
// optimiser.
func Params[T tensor.Float](l Layer[T]) []*autograd.Var[T] {
	var ps []*autograd.Var[T]
	for _, p := range l.NamedParams("") {
		ps = append(ps, p.Var)
	}
	return ps
}

// Sequential applies its layers in order. Parameters are named by position,
// as PyTorch's nn.Sequential names them: "0.weight", "0.bias", "2.weight"...
// (a layer without parameters still takes its index).
type Sequential[T tensor.Float] struct {
	Layers []Layer[T]
}

// NewSequential returns the layers composed in order.
func NewSequential[T tensor.Float](layers ...Layer[T]) *Sequential[T] {
	return &Sequential[T]{Layers: layers}
}

// Forward records every layer applied in turn.
func (s *Sequential[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	for _, l := range s.Layers {
		x = l.Forward(tp, x)
	}
	return x
}

// NamedParams returns every layer's parameters, prefixed by prefix and the
// layer's index.
func (s *Sequential[T]) NamedParams(prefix string) []Param[T] {
	var ps []Param[T]
	for i, l := range s.Layers {
		ps = append(ps, l.NamedParams(prefix+strconv.Itoa(i)+".")...)
	}
	return ps
}

// NamedBuffers returns every layer's buffers, named as NamedParams.
func (s *Sequential[T]) NamedBuffers(prefix string) []Buffer[T] {
	var bs []Buffer[T]
	for i, l := range s.Layers {
		bs = append(bs, NamedBuffers(l, prefix+strconv.Itoa(i)+".")...)
	}
	return bs
}

// SetTraining passes the mode to every layer.
func (s *Sequential[T]) SetTraining(on bool) {
	for _, l := range s.Layers {
		SetTraining(l, on)
	}
}

// Act is an activation as a Layer, for use in a Sequential.
type Act[T tensor.Float] struct{ Fn Activation }

// Forward records the activation applied to x.
func (a Act[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return Activate(tp, a.Fn, x)
}

// NamedParams returns nil: an activation has no parameters.
func (Act[T]) NamedParams(string) []Param[T] { return nil }

var (
	_ Layer[float32] = (*Linear[float32])(nil)
	_ Layer[float32] = (*Sequential[float32])(nil)
	_ Layer[float32] = Act[float32]{}
)
