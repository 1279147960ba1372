package onnx

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// plan maps every value of a graph to a slot, and every node to a step that
// reads and writes slots.
type plan struct {
	nslots  int
	nbufs   int   // distinct output buffers after lifetime planning
	bufOf   []int // buffer of each slot a node writes; -1 for others
	slotOf  map[string]int
	consts  []constSlot
	inputs  []int // slot of each graph input, in declaration order
	outputs []int // slot of each graph output
	free    []int // slot of each outer-scope name in Graph.free order
	steps   []step
}

type constSlot struct {
	slot int
	t    *Tensor
}

type step struct {
	node *Node
	in   []int // -1 for an absent optional input
	out  []int // every output gets a slot, unnamed ones a private one
}

func newPlan(g *Graph) *plan {
	p := &plan{slotOf: make(map[string]int, len(g.Inputs)+len(g.consts)+len(g.Nodes))}
	slot := func(name string) int {
		if s, ok := p.slotOf[name]; ok {
			return s
		}
		s := p.nslots
		p.nslots++
		if name != "" {
			p.slotOf[name] = s
		}
		return s
	}
	for _, in := range g.Inputs {
		p.inputs = append(p.inputs, slot(in.Name))
	}
	names := make([]string, 0, len(g.consts))
	for name := range g.consts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p.consts = append(p.consts, constSlot{slot(name), g.consts[name]})
	}
	for _, f := range g.free {
		p.free = append(p.free, slot(f))
	}
	for _, n := range g.Nodes {
		st := step{node: n}
		for _, in := range n.Inputs {
			if in == "" {
				st.in = append(st.in, -1)
			} else {
				st.in = append(st.in, slot(in))
			}
		}
		for _, in := range n.Implicit {
			st.in = append(st.in, slot(in))
		}
		for _, o := range n.Outputs {
			st.out = append(st.out, slot(o))
		}
		p.steps = append(p.steps, st)
	}
	for _, o := range g.Outputs {
		p.outputs = append(p.outputs, slot(o.Name))
	}
	p.planBuffers()
	return p
}

// planBuffers gives node outputs buffers by lifetime: a value's buffer
// returns to a free list after the last step that reads it, and a later
// step's output takes it over, so memory follows the live values rather
// than all of them. A step's outputs never share a buffer with its inputs
// (buffers are freed only after the step's outputs are placed). Graph
// outputs keep theirs to the end.
func (p *plan) planBuffers() {
	const never = -1
	last := make([]int, p.nslots)
	for i := range last {
		last[i] = never
	}
	for i, st := range p.steps {
		for _, s := range st.in {
			if s >= 0 {
				last[s] = i
			}
		}
		for _, s := range st.out {
			if last[s] < i {
				last[s] = i // written but never read: free right after
			}
		}
	}
	for _, s := range p.outputs {
		last[s] = len(p.steps) // live to the end
	}
	p.bufOf = make([]int, p.nslots)
	for i := range p.bufOf {
		p.bufOf[i] = -1
	}
	var free []int
	for i, st := range p.steps {
		for _, s := range st.out {
			if p.bufOf[s] >= 0 {
				continue
			}
			if n := len(free); n > 0 {
				p.bufOf[s] = free[n-1]
				free = free[:n-1]
			} else {
				p.bufOf[s] = p.nbufs
				p.nbufs++
			}
		}
		release := func(s int) {
			if s >= 0 && last[s] == i && p.bufOf[s] >= 0 {
				free = append(free, p.bufOf[s])
				last[s] = never // release once
			}
		}
		for _, s := range st.in {
			release(s)
		}
		for _, s := range st.out {
			release(s)
		}
	}
}

// runState is one Run's working memory: the value of every slot, the tensors
// that node outputs are written into (kept between runs so their storage is
// reused), and the per-step argument slices.
type runState struct {
	vals  []*Tensor
	owned []*Tensor
	ins   [][]*Tensor
	outs  [][]*Tensor
}

func (p *plan) newState() *runState {
	rs := &runState{vals: make([]*Tensor, p.nslots), owned: make([]*Tensor, p.nbufs)}
	for i := range rs.owned {
		rs.owned[i] = &Tensor{}
	}
	for _, st := range p.steps {
		rs.ins = append(rs.ins, make([]*Tensor, len(st.in)))
		o := make([]*Tensor, len(st.out))
		for i, s := range st.out {
			o[i] = rs.owned[p.bufOf[s]]
		}
		rs.outs = append(rs.outs, o)
	}
	return rs
}

// exec runs the plan on rs. The caller has put graph inputs and outer-scope
// values in rs.vals.
func (p *plan) exec(rs *runState) error {
	for _, c := range p.consts {
		if rs.vals[c.slot] == nil {
			rs.vals[c.slot] = c.t
		}
	}
	for i := range p.steps {
		st := &p.steps[i]
		in := rs.ins[i]
		for j, s := range st.in {
			if s < 0 {
				in[j] = nil
			} else {
				in[j] = rs.vals[s]
				if in[j] == nil && j < len(st.node.Inputs) {
					return fmt.Errorf("onnx: node %q (%s): input %q has no value", st.node.Name, st.node.OpType, st.node.Inputs[j])
				}
			}
		}
		out := rs.outs[i]
		if err := runKernel(st.node.kernel, in, out); err != nil {
			return fmt.Errorf("onnx: node %q (%s): %w", st.node.Name, st.node.OpType, err)
		}
		for j, o := range out {
			o.normalize()
			rs.vals[st.out[j]] = o
		}
	}
	return nil
}

func (rs *runState) clear() {
	clear(rs.vals)
	for _, in := range rs.ins {
		clear(in)
	}
}

// Session runs a model. It is safe for concurrent use: each Run takes its
// own working memory from a free list (so concurrent runs allocate one set
// each) while all runs share the model's weights, which nothing modifies.
type Session struct {
	m    *Model
	g    *Graph
	mu   sync.Mutex
	free []*runState
}

// NewSession returns a session for m.
func NewSession(m *Model) *Session {
	return &Session{m: m, g: m.Graph}
}

// Model returns the session's model.
func (s *Session) Model() *Model { return s.m }

func (s *Session) get() *runState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.free); n > 0 {
		rs := s.free[n-1]
		s.free = s.free[:n-1]
		return rs
	}
	return s.g.plan.newState()
}

func (s *Session) put(rs *runState) {
	rs.clear()
	s.mu.Lock()
	s.free = append(s.free, rs)
	s.mu.Unlock()
}

// Run runs the model on the named inputs and returns every graph output by
// name, as new tensors the caller owns. Inputs are not modified. Every graph
// input that has no initializer must be given, with the declared type, rank
// and fixed dimensions; unknown names are an error.
func (s *Session) Run(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	out := make(map[string]*Tensor, len(s.g.Outputs))
	for _, o := range s.g.Outputs {
		out[o.Name] = &Tensor{}
	}
	if err := s.RunInto(inputs, out); err != nil {
		return nil, err
	}
	return out, nil
}

// RunInto is Run writing each output into the caller's tensor outputs[name]
// (reusing its storage, so repeated runs with fixed shapes allocate nothing).
// Outputs not in the map are not copied out.
func (s *Session) RunInto(inputs map[string]*Tensor, outputs map[string]*Tensor) error {
	g, p := s.g, s.g.plan
	if p == nil {
		return errors.New("onnx: the model was read with Inspect and cannot run")
	}
	if err := g.checkInputs(inputs); err != nil {
		return err
	}
	rs := s.get()
	defer s.put(rs)
	for i, in := range g.Inputs {
		if t, ok := inputs[in.Name]; ok {
			rs.vals[p.inputs[i]] = t
		}
	}
	if err := p.exec(rs); err != nil {
		return err
	}
	for i, o := range g.Outputs {
		if dst, ok := outputs[o.Name]; ok {
			v := rs.vals[p.outputs[i]]
			if v == nil {
				return fmt.Errorf("onnx: output %q has no value", o.Name)
			}
			dst.CopyFrom(v)
		}
	}
	return nil
}

func (g *Graph) checkInputs(inputs map[string]*Tensor) error {
	for name, t := range inputs {
		if !g.isInput(name) {
			return fmt.Errorf("onnx: %q is not an input of the model", name)
		}
		if t == nil {
			return fmt.Errorf("onnx: input %q is nil", name)
		}
	}
	for _, in := range g.Inputs {
		t, ok := inputs[in.Name]
		if !ok {
			if _, init := g.consts[in.Name]; init {
				continue
			}
			return fmt.Errorf("onnx: missing input %q", in.Name)
		}
		if err := checkTensor(t); err != nil {
			return fmt.Errorf("onnx: input %q: %w", in.Name, err)
		}
		switch {
		case in.Kind == KindSequence && t.DType != Sequence,
			in.Kind == KindOptional && t.DType != Optional,
			(in.Kind == KindTensor || in.Kind == KindUnknown) && t.DType.Storage() == StoreSeq:
			return fmt.Errorf("onnx: input %q is a %v, model wants a %v", in.Name, t.DType, in.Kind)
		case in.Kind == KindMap || in.Kind == KindSparse:
			return fmt.Errorf("onnx: input %q is a %v: %w", in.Name, in.Kind, ErrUnsupported)
		}
		if in.Kind != KindTensor {
			continue
		}
		if in.DType != Undefined && t.DType != in.DType {
			return fmt.Errorf("onnx: input %q is %v, model wants %v", in.Name, t.DType, in.DType)
		}
		if in.HasShape {
			if len(t.Shape) != len(in.Shape) {
				return fmt.Errorf("onnx: input %q has shape %v, model wants %s", in.Name, t.Shape, in.ShapeString())
			}
			for i, d := range in.Shape {
				if d.Value >= 0 && int64(t.Shape[i]) != d.Value {
					return fmt.Errorf("onnx: input %q has shape %v, model wants %s", in.Name, t.Shape, in.ShapeString())
				}
			}
		}
	}
	return nil
}

// checkTensor checks that a caller's tensor is consistent: its data slice
// holds exactly the shape's element count.
func checkTensor(t *Tensor) error {
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", t.Shape)
		}
		n *= d
	}
	var have int
	switch t.DType.Storage() {
	case StoreF32:
		have = len(t.F32)
	case StoreF64:
		have = len(t.F64)
	case StoreI64:
		have = len(t.I64)
	case StoreBool:
		have = len(t.B)
	case StoreStr:
		have = len(t.S)
	case StoreSeq:
		if t.DType == Optional && len(t.Seq) > 1 {
			return fmt.Errorf("optional with %d values", len(t.Seq))
		}
		for _, e := range t.Seq {
			if e == nil {
				return fmt.Errorf("nil sequence element")
			}
			if err := checkTensor(e); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("element type %v: %w", t.DType, ErrUnsupported)
	}
	if have != n {
		return fmt.Errorf("shape %v needs %d elements, data has %d", t.Shape, n, have)
	}
	return nil
}

// runKernel runs k, turning a panic (a kernel bug, or data a kernel failed
// to check) into an error so a bad model never crashes the caller.
func runKernel(k Kernel, in, out []*Tensor) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kernel panic: %v", r)
		}
	}()
	return k.Run(in, out)
}
