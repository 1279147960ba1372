package nn

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Module is a node of a model tree, as PyTorch's nn.Module. A module names
// its direct members once, in Members: child modules, parameters and
// buffers, each under the name PyTorch's state_dict uses for it. Everything
// else (NamedParameters, NamedBuffers, Train, StateDict, LoadStateDict,
// Save, Load) walks the tree from there, so a user's own module needs no
// other bookkeeping:
//
//	type Block struct {
//		FC   *nn.Linear[float32]
//		Norm *nn.BatchNorm2d[float32]
//	}
//
//	func (b *Block) Members(m *nn.Members[float32]) {
//		m.Module("fc", b.FC)
//		m.Module("norm", b.Norm)
//	}
//
// Members must name the same members, in the same order, every time it is
// called; nil members are skipped (a Linear without bias lists no "bias").
type Module[T tensor.Float] interface {
	Members(m *Members[T])
}

// Layer is a module with one input and one output, the kind Sequential
// composes: Linear, Conv2d, the activations (Act), Sequential itself. A
// module with several inputs simply has its own methods instead of Forward.
type Layer[T tensor.Float] interface {
	Module[T]
	Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T]
}

// Trainable is implemented by modules whose forward pass differs between
// training and evaluation (BatchNorm2d, Dropout). Train calls SetTraining
// on every such module of a tree. Embed Mode to get it.
type Trainable interface {
	SetTraining(on bool)
}

// Mode is an embeddable training/evaluation switch implementing Trainable.
// Its zero value is training mode, as a new PyTorch module is.
type Mode struct{ eval bool }

// SetTraining switches to training (on) or evaluation mode.
func (m *Mode) SetTraining(on bool) { m.eval = !on }

// Training reports whether the module is in training mode.
func (m *Mode) Training() bool { return !m.eval }

// NoMembers is an embeddable empty Members, for modules without
// parameters, buffers or children (activations, pooling, Flatten).
type NoMembers[T tensor.Float] struct{}

// Members names nothing.
func (NoMembers[T]) Members(*Members[T]) {}

// Members receives one module's direct members from its Members method.
// Its methods are called by the module; the walks of this package read
// them.
type Members[T tensor.Float] struct {
	visit func(name string, kind memberKind, mod Module[T], p *autograd.Var[T], b *tensor.Dense[T])
}

type memberKind uint8

const (
	kindModule memberKind = iota
	kindParam
	kindBuffer
	kindIntBuffer // a buffer of whole numbers, saved as int64
)

// Module names a child module (skipped if nil).
func (m *Members[T]) Module(name string, child Module[T]) {
	if isNil(child) {
		return
	}
	m.visit(name, kindModule, child, nil, nil)
}

// Param names a trainable parameter (skipped if nil).
func (m *Members[T]) Param(name string, p *autograd.Var[T]) {
	if p != nil {
		m.visit(name, kindParam, nil, p, nil)
	}
}

// Buffer names a non-trainable tensor that belongs in the state dict
// (BatchNorm2d's running_mean and running_var); skipped if nil.
func (m *Members[T]) Buffer(name string, b *tensor.Dense[T]) {
	if b != nil {
		m.visit(name, kindBuffer, nil, nil, b)
	}
}

// IntBuffer names a buffer that holds whole numbers (BatchNorm2d's
// num_batches_tracked): a buffer in every respect, which Save stores as
// int64, as PyTorch stores its integer buffers; skipped if nil.
func (m *Members[T]) IntBuffer(name string, b *tensor.Dense[T]) {
	if b != nil {
		m.visit(name, kindIntBuffer, nil, nil, b)
	}
}

// List names each element of children by its index ("0", "1", …) below
// name, as PyTorch's nn.ModuleList; nil elements keep their index.
func List[T tensor.Float, M Module[T]](m *Members[T], name string, children []M) {
	sub := &Members[T]{visit: func(n string, k memberKind, mod Module[T], p *autograd.Var[T], b *tensor.Dense[T]) {
		m.visit(name+"."+n, k, mod, p, b)
	}}
	for i, c := range children {
		sub.Module(strconv.Itoa(i), c)
	}
}

// isNil reports whether a module is nil or a typed nil pointer.
func isNil(m any) bool {
	if m == nil {
		return true
	}
	v := reflect.ValueOf(m)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func:
		return v.IsNil()
	}
	return false
}

// Param is a parameter with its state_dict name.
type Param[T tensor.Float] struct {
	Name string
	Var  *autograd.Var[T]
}

// Buffer is a named buffer.
type Buffer[T tensor.Float] struct {
	Name  string
	Value *tensor.Dense[T]
}

// NamedModule is a module of a tree with its dotted name ("" for the root).
type NamedModule[T tensor.Float] struct {
	Name   string
	Module Module[T]
}

// walk visits m and every module below it, depth first, members in
// Members order. Names are dotted paths from m.
func walk[T tensor.Float](prefix string, m Module[T], fn func(name string, kind memberKind, mod Module[T], p *autograd.Var[T], b *tensor.Dense[T])) {
	ms := &Members[T]{}
	ms.visit = func(name string, kind memberKind, mod Module[T], p *autograd.Var[T], b *tensor.Dense[T]) {
		full := prefix + name
		fn(full, kind, mod, p, b)
		if kind == kindModule {
			walk(full+".", mod, fn)
		}
	}
	m.Members(ms)
}

// NamedModules returns m (named "") and every module below it, depth first.
func NamedModules[T tensor.Float](m Module[T]) []NamedModule[T] {
	out := []NamedModule[T]{{"", m}}
	walk("", m, func(name string, kind memberKind, mod Module[T], _ *autograd.Var[T], _ *tensor.Dense[T]) {
		if kind == kindModule {
			out = append(out, NamedModule[T]{name, mod})
		}
	})
	return out
}

// NamedParameters returns every parameter of the tree under its
// state_dict name, in a fixed order (PyTorch's named_parameters). A
// parameter reached twice (shared between modules) is listed once, under
// its first name, as PyTorch does.
func NamedParameters[T tensor.Float](m Module[T]) []Param[T] {
	var out []Param[T]
	seen := map[*autograd.Var[T]]bool{}
	walk("", m, func(name string, kind memberKind, _ Module[T], p *autograd.Var[T], _ *tensor.Dense[T]) {
		if kind == kindParam && !seen[p] {
			seen[p] = true
			out = append(out, Param[T]{name, p})
		}
	})
	return out
}

// Parameters returns the parameters of NamedParameters, for an optimiser.
func Parameters[T tensor.Float](m Module[T]) []*autograd.Var[T] {
	var out []*autograd.Var[T]
	for _, p := range NamedParameters(m) {
		out = append(out, p.Var)
	}
	return out
}

// NumParameters returns the number of scalar parameters of m.
func NumParameters[T tensor.Float](m Module[T]) int {
	n := 0
	for _, p := range NamedParameters(m) {
		n += p.Var.Value().Size()
	}
	return n
}

// NamedBuffers returns every buffer of the tree under its state_dict name.
func NamedBuffers[T tensor.Float](m Module[T]) []Buffer[T] {
	var out []Buffer[T]
	walk("", m, func(name string, kind memberKind, _ Module[T], _ *autograd.Var[T], b *tensor.Dense[T]) {
		if kind == kindBuffer || kind == kindIntBuffer {
			out = append(out, Buffer[T]{name, b})
		}
	})
	return out
}

// intBuffers returns the state_dict names of m's IntBuffers.
func intBuffers[T tensor.Float](m Module[T]) map[string]bool {
	out := map[string]bool{}
	walk("", m, func(name string, kind memberKind, _ Module[T], _ *autograd.Var[T], _ *tensor.Dense[T]) {
		if kind == kindIntBuffer {
			out[name] = true
		}
	})
	return out
}

// Train switches m and every module below it to training (on) or
// evaluation mode, as PyTorch's module.train(on); modules that are not
// Trainable are unaffected.
func Train[T tensor.Float](m Module[T], on bool) {
	if t, ok := m.(Trainable); ok {
		t.SetTraining(on)
	}
	walk("", m, func(_ string, kind memberKind, mod Module[T], _ *autograd.Var[T], _ *tensor.Dense[T]) {
		if kind == kindModule {
			if t, ok := mod.(Trainable); ok {
				t.SetTraining(on)
			}
		}
	})
}

// State is a state dict: tensors by state_dict name. The tensors of
// StateDict share storage with the model.
type State[T tensor.Float] map[string]*tensor.Dense[T]

// StateDict returns m's parameters' values and buffers under their names,
// sharing storage (PyTorch's state_dict with keep_vars=False). A parameter
// named twice (a tied weight) appears under both names, as in PyTorch. It
// panics
// (wrapping ErrArg) if two members share a name.
func StateDict[T tensor.Float](m Module[T]) State[T] {
	sd := State[T]{}
	add := func(name string, v *tensor.Dense[T]) {
		if _, dup := sd[name]; dup {
			panic(fmt.Errorf("%w: StateDict: name %q used twice", ErrArg, name))
		}
		sd[name] = v
	}
	walk("", m, func(name string, kind memberKind, _ Module[T], p *autograd.Var[T], _ *tensor.Dense[T]) {
		if kind == kindParam {
			add(name, p.Value())
		}
	})
	for _, b := range NamedBuffers(m) {
		add(b.Name, b.Value)
	}
	return sd
}
