package onnx

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/tensor"
)

// ErrNoBackward is wrapped by the error for a node whose op has no
// backward here: from NewGraphModule when a parameter's gradient must pass
// through it, from Forward when an input that requires a gradient reaches
// it.
var ErrNoBackward = errors.New("no backward")

// GraphModule is a loaded model's graph recorded on an autograd.Tape, so
// that an imported model can be fine-tuned (or differentiated) in Go: an
// nn module whose parameters are the graph's float initializers, under
// their ONNX initializer names (PyTorch's state_dict names for a model
// that torch.onnx.export wrote with do_constant_folding=False).
//
// The graph runs as written in the file: the load-time rewrites a Session
// uses (constant folding, BatchNormalization folded into Conv, fused
// epilogues) are not applied, so every initializer stays what it is.
// Nodes that read a parameter or a float input, directly or through other
// such nodes, are recorded with autograd's ops (Conv through Conv2d's
// GEMMs, MatMul and Gemm through MatMulT and Linear with GEMM's transpose
// flags, broadcasting arithmetic, pools, norms, softmaxes); the rest (the
// Shape → Gather → Concat arithmetic exporters emit, integer inputs) run
// on the inference kernels as constants, never taped.
//
// Shapes are not fixed by the graph's declared input shapes: any batch
// size the ops accept runs. Export turns the fine-tuned module back into a
// Model for a Session.
//
// Like a PyTorch module it is in training mode until nn.Train(g, false):
// BatchNormalization then normalises with the batch's statistics and
// updates its running statistics (buffers named by their initializers),
// and Dropout drops (from the generator set by SetRNG). In evaluation mode
// BatchNormalization uses the running statistics and Dropout passes its
// input through, whatever the node's training_mode says.
//
// A GraphModule is used by one goroutine at a time, as a Tape is.
type GraphModule[T tensor.Float] struct {
	nn.Mode
	model *Model
	graph *Graph

	// The parameters (leaf Vars that are the weights: optimisers update
	// them in place, Export reads them) and the buffers, in the file's
	// order; fixed and bufs point at the same Vars and tensors.
	params  []nn.Param[T]
	buffers []nn.Buffer[T]

	// The plan, made once by NewGraphModule: every value of the graph has
	// a slot, and a forward pass reads and writes vals by slot.
	slotOf   map[string]int
	fixed    []tval[T]          // per slot: a parameter or a constant, else zero
	bufs     []*tensor.Dense[T] // per slot: a BatchNormalization statistic, else nil
	inputs   []ValueInfo        // graph inputs that are not initializers
	inSlots  []int              // their slots
	outSlots []int              // the graph outputs' slots
	steps    []trainStep[T]
	vals     []tval[T] // the slots during a pass, reused by every Forward
	args     []tval[T] // one step's inputs, reused
	ctx      tapeCtx[T]
	rng      *rand.Rand
}

// trainSource is a graph's node list as the file gives it (Constant nodes
// taken out), kept by compile before folding and fusion rewrite the nodes
// a Session runs.
type trainSource struct {
	nodes  []*Node
	consts map[string]*Tensor // initializers and Constant outputs
}

// newTrainSource snapshots order: the node structs are copied (fusion
// edits a node's inputs, outputs and kernel in place), attributes shared.
func newTrainSource(g *Graph, order []*Node) *trainSource {
	s := &trainSource{nodes: make([]*Node, len(order)), consts: maps.Clone(g.consts)}
	for i, n := range order {
		c := *n
		c.Inputs = append([]string(nil), n.Inputs...)
		c.Outputs = append([]string(nil), n.Outputs...)
		c.kernel = nil
		s.nodes[i] = &c
	}
	return s
}

// trainStep is one node: recorded on the tape by run, or evaluated as a
// constant by kernel.
type trainStep[T tensor.Float] struct {
	node   *Node
	in     []int // slot of each input (-1 for an absent optional one), then of each implicit one
	out    []int // slot of each output; -1 for an unnamed one
	run    tapeFunc[T]
	kernel Kernel
	// noBack: the node has no backward. NewGraphModule fails if a
	// parameter's gradient must pass through it; Forward fails if an
	// input that requires a gradient reaches it.
	noBack error
}

// tval is a value during a forward pass: a Var on the tape, or a constant.
type tval[T tensor.Float] struct {
	v *autograd.Var[T]
	t *Tensor
	// vt, when set, is a matrix whose transpose this value is (a 2-D
	// Transpose not yet materialised: MatMul and Gemm read it through
	// GEMM's transpose flag).
	vt *autograd.Var[T]
}

func (x tval[T]) ok() bool { return x.v != nil || x.t != nil || x.vt != nil }

func (x tval[T]) shape() []int {
	switch {
	case x.v != nil:
		return x.v.Shape()
	case x.vt != nil:
		s := x.vt.Shape()
		return []int{s[1], s[0]}
	case x.t != nil:
		return x.t.Shape
	}
	return nil
}

// NewGraphModule prepares m's graph to run on a Tape[T]. Every float
// initializer that a differentiable input of a node reads, and from which
// a gradient path reaches a graph output, becomes a parameter (a leaf Var
// that requires a gradient, holding a copy of the initializer converted
// to T); BatchNormalization's mean and variance initializers become
// buffers; other initializers (a causal mask read through Equal, a Clip
// bound) stay constants. It returns an error wrapping ErrNoBackward
// naming the node, op, domain and opset of the first node that a
// parameter's gradient must pass and whose op has no backward here, or
// wrapping ErrUnsupported for an attribute value the taped op does not
// support. Such a node on a float input's path only is allowed: Forward
// returns the error if the input given there requires a gradient. m
// itself is not changed and can still be run by a Session.
func NewGraphModule[T tensor.Float](m *Model) (*GraphModule[T], error) {
	return NewGraphModuleWith[T](m, GraphModuleOptions{})
}

// GraphModuleOptions configures NewGraphModuleWith; the zero value is
// NewGraphModule's behaviour.
type GraphModuleOptions struct {
	// Constants makes the float outputs of Constant nodes with more than
	// one element candidates for parameters too, named by their output
	// names, after the initializers: some converters (paddle2onnx) store
	// a model's weights so. One-element constants stay constants.
	Constants bool
}

// NewGraphModuleWith is NewGraphModule with options.
func NewGraphModuleWith[T tensor.Float](m *Model, opts GraphModuleOptions) (*GraphModule[T], error) {
	if m == nil || m.Graph == nil || m.Graph.source == nil {
		return nil, errors.New("onnx: NewGraphModule: model was not compiled (use Load, Read or Parse)")
	}
	g := m.Graph
	src := g.source
	ops := tapeOps[T]()
	gm := &GraphModule[T]{model: m, graph: g, rng: rand.New(rand.NewPCG(1, 2))}
	inits := map[string]*Tensor{}
	for _, it := range g.Initializers {
		inits[it.Name] = it.T
	}
	// Candidates for parameters, in order: initializers, then (with
	// opts.Constants) Constant outputs in the order nodes read them.
	cands := slices.Clone(g.Initializers)
	if opts.Constants {
		for _, n := range src.nodes {
			for _, name := range n.Inputs {
				t := src.consts[name]
				if _, init := inits[name]; !init && t != nil && t.DType.IsFloat() && t.Size() > 1 {
					inits[name] = t
					cands = append(cands, NamedTensor{name, t})
				}
			}
		}
	}
	for _, in := range g.Inputs {
		if _, ok := inits[in.Name]; !ok {
			gm.inputs = append(gm.inputs, in)
		}
	}
	// Which float initializers are parameters, which are buffers.
	isParam, isBuf := map[string]bool{}, map[string]bool{}
	for _, n := range src.nodes {
		e, ok := tapeEntryOf(ops, n)
		if !ok || noGradOp(n) {
			continue
		}
		for i, name := range n.Inputs {
			t := inits[name]
			if t == nil || !t.DType.IsFloat() {
				continue
			}
			switch {
			case n.OpType == "BatchNormalization" && (i == 3 || i == 4):
				isBuf[name] = true
			case e.diff&(1<<i) != 0:
				isParam[name] = true
			}
		}
	}
	for name := range isBuf {
		if isParam[name] {
			return nil, fmt.Errorf("onnx: NewGraphModule: initializer %q is both a BatchNormalization statistic and a parameter: %w", name, ErrUnsupported)
		}
	}
	// Classify the nodes; a parameter from which no gradient path reaches
	// an output (a mask buffer read only through a comparison) is a
	// constant after all, and the nodes are classified again without it.
	var steps []trainStep[T]
	var reachedNoBack error // the first node on a gradient path without a backward
	for {
		var isVar map[string]bool
		var err error
		steps, isVar, err = gm.classify(src, ops, isParam)
		if err != nil {
			return nil, err
		}
		// Values computed from a parameter through recorded nodes.
		fromParam := maps.Clone(isParam)
		for _, st := range steps {
			if st.run == nil && st.noBack == nil {
				continue
			}
			for _, in := range st.node.Inputs {
				if fromParam[in] {
					for _, o := range st.node.Outputs {
						fromParam[o] = true
					}
					break
				}
			}
		}
		live := map[string]bool{}
		for _, o := range g.Outputs {
			live[o.Name] = isVar[o.Name]
		}
		reachedNoBack = nil
		for i := len(steps) - 1; i >= 0; i-- {
			st := steps[i]
			if st.run == nil && st.noBack == nil {
				continue
			}
			reached := false
			for _, o := range st.node.Outputs {
				reached = reached || live[o]
			}
			if !reached {
				continue
			}
			if st.noBack != nil && slices.ContainsFunc(st.node.Inputs, func(in string) bool { return fromParam[in] }) {
				reachedNoBack = st.noBack
			}
			for _, in := range st.node.Inputs {
				if isVar[in] {
					live[in] = true
				}
			}
		}
		dead := false
		for name := range isParam {
			if !live[name] {
				delete(isParam, name)
				dead = true
			}
		}
		if !dead {
			break
		}
	}
	if reachedNoBack != nil {
		return nil, reachedNoBack
	}
	gm.steps = steps
	gm.plan(src)
	for _, it := range cands {
		id := gm.slotOf[it.Name]
		switch {
		case isParam[it.Name]:
			v := autograd.NewVar(denseOf[T](it.T), true)
			gm.params = append(gm.params, nn.Param[T]{Name: it.Name, Var: v})
			gm.fixed[id] = tval[T]{v: v}
		case isBuf[it.Name]:
			d := denseOf[T](it.T)
			gm.buffers = append(gm.buffers, nn.Buffer[T]{Name: it.Name, Value: d})
			gm.bufs[id] = d
		}
	}
	for name, t := range src.consts {
		if !isParam[name] && !isBuf[name] {
			gm.fixed[gm.slotOf[name]] = tval[T]{t: t}
		}
	}
	return gm, nil
}

// plan gives every value a slot (the graph's inputs, the initializers and
// Constant outputs, each node's inputs and outputs) and the steps their
// slots, so that Forward reads and writes a slice rather than a map.
func (gm *GraphModule[T]) plan(src *trainSource) {
	gm.slotOf = map[string]int{}
	slot := func(name string) int {
		if name == "" {
			return -1
		}
		s, ok := gm.slotOf[name]
		if !ok {
			s = len(gm.slotOf)
			gm.slotOf[name] = s
		}
		return s
	}
	for _, in := range gm.inputs {
		gm.inSlots = append(gm.inSlots, slot(in.Name))
	}
	for _, it := range gm.graph.Initializers {
		slot(it.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(src.consts)) {
		slot(name)
	}
	nargs := 0
	for i := range gm.steps {
		st := &gm.steps[i]
		st.in = make([]int, 0, len(st.node.Inputs)+len(st.node.Implicit))
		for _, name := range st.node.Inputs {
			st.in = append(st.in, slot(name))
		}
		if st.run == nil {
			// A kernel with subgraphs (If, Loop, Scan) reads the outer
			// values they use after its inputs, as in a Session.
			for _, name := range st.node.Implicit {
				st.in = append(st.in, slot(name))
			}
		}
		st.out = make([]int, len(st.node.Outputs))
		for j, name := range st.node.Outputs {
			st.out[j] = slot(name)
		}
		nargs = max(nargs, len(st.in))
	}
	for _, o := range gm.graph.Outputs {
		gm.outSlots = append(gm.outSlots, slot(o.Name))
	}
	n := len(gm.slotOf)
	gm.fixed = make([]tval[T], n)
	gm.bufs = make([]*tensor.Dense[T], n)
	gm.vals = make([]tval[T], n)
	gm.args = make([]tval[T], nargs)
}

// classify decides, node by node, which are recorded on the tape (those
// reading a value that carries a gradient) and which run on their
// inference kernels, and returns the steps and the values that carry a
// gradient.
func (gm *GraphModule[T]) classify(src *trainSource, ops map[string]tapeEntry[T], isParam map[string]bool) ([]trainStep[T], map[string]bool, error) {
	var steps []trainStep[T]
	isVar := map[string]bool{}
	for _, in := range gm.inputs {
		if in.DType.IsFloat() {
			isVar[in.Name] = true
		}
	}
	for name := range isParam {
		isVar[name] = true
	}
	for _, n := range src.nodes {
		var varIn []int
		for i, name := range n.Inputs {
			if name != "" && isVar[name] {
				varIn = append(varIn, i)
			}
		}
		for _, name := range n.Implicit {
			if isVar[name] {
				return nil, nil, noBackward(n, "a subgraph reads a value that needs a gradient")
			}
		}
		e, ok := tapeEntryOf(ops, n)
		if len(varIn) == 0 || noGradOp(n) {
			k, err := newKernel(n)
			if err != nil {
				return nil, nil, err
			}
			steps = append(steps, trainStep[T]{node: n, kernel: k})
			continue
		}
		var noBack error
		if !ok {
			noBack = noBackward(n, "")
		}
		for _, i := range varIn {
			if ok && e.diff&(1<<i) == 0 {
				noBack = noBackward(n, fmt.Sprintf("input %d (%q) needs a gradient that is not implemented", i, n.Inputs[i]))
			}
		}
		if noBack != nil {
			// An error only if a gradient must pass (see NewGraphModule);
			// otherwise the node runs on its kernel.
			k, err := newKernel(n)
			if err != nil {
				return nil, nil, err
			}
			for _, o := range n.Outputs {
				if o != "" {
					isVar[o] = true
				}
			}
			steps = append(steps, trainStep[T]{node: n, kernel: k, noBack: noBack})
			continue
		}
		run, err := e.build(n)
		if err == nil {
			err = n.err
		}
		if err != nil {
			return nil, nil, fmt.Errorf("onnx: node %q (%s, opset %d) on a tape: %w", n.Name, n.OpType, n.Opset, err)
		}
		outs := e.outs
		if outs == 0 {
			outs = 1
		}
		for i, o := range n.Outputs {
			if o != "" && outs&(1<<i) != 0 {
				isVar[o] = true
			}
		}
		steps = append(steps, trainStep[T]{node: n, run: run})
	}
	return steps, isVar, nil
}

// tapeEntryOf returns the taped op for n (default domain only).
func tapeEntryOf[T tensor.Float](ops map[string]tapeEntry[T], n *Node) (tapeEntry[T], bool) {
	if canonDomain(n.Domain) != "" {
		return tapeEntry[T]{}, false
	}
	e, ok := ops[n.OpType]
	return e, ok
}

func noBackward(n *Node, why string) error {
	dom := n.Domain
	if dom == "" {
		dom = "ai.onnx"
	}
	if why != "" {
		why = " (" + why + ")"
	}
	return fmt.Errorf("onnx: node %q: op %s (domain %s, opset %d) has no backward%s: %w", n.Name, n.OpType, dom, n.Opset, why, ErrNoBackward)
}

// Members names the parameters and buffers under their initializer names,
// in the file's initializer order (nn.NamedParameters, nn.StateDict,
// nn.Save and optimisers read them from here).
func (gm *GraphModule[T]) Members(m *nn.Members[T]) {
	for _, p := range gm.params {
		m.Param(p.Name, p.Var)
	}
	for _, b := range gm.buffers {
		m.Buffer(b.Name, b.Value)
	}
}

// Model returns the model the module was made from.
func (gm *GraphModule[T]) Model() *Model { return gm.model }

// Param returns the parameter made from the initializer called name, or nil.
func (gm *GraphModule[T]) Param(name string) *autograd.Var[T] {
	if s, ok := gm.slotOf[name]; ok {
		return gm.fixed[s].v
	}
	return nil
}

// weight returns the parameter's or buffer's value made from the
// initializer (or Constant output) called name, or nil.
func (gm *GraphModule[T]) weight(name string) *tensor.Dense[T] {
	s, ok := gm.slotOf[name]
	switch {
	case !ok:
		return nil
	case gm.fixed[s].v != nil:
		return gm.fixed[s].v.Value()
	}
	return gm.bufs[s]
}

// SetRNG sets the generator Dropout draws its masks from in training mode
// (by default a fixed seed).
func (gm *GraphModule[T]) SetRNG(r *rand.Rand) {
	if r == nil {
		panic("onnx: GraphModule.SetRNG: nil generator")
	}
	gm.rng = r
}

// Forward records the graph on tp for the float inputs given as Vars
// (usually tp.Const(x), or a Var that requires a gradient) and returns the
// graph's floating-point outputs by name. It is ForwardWith with no other
// inputs.
func (gm *GraphModule[T]) Forward(tp *autograd.Tape[T], inputs map[string]*autograd.Var[T]) (map[string]*autograd.Var[T], error) {
	return gm.ForwardWith(tp, inputs, nil)
}

// ForwardWith is Forward for graphs that also take inputs that are not
// differentiable (token ids, masks): those are given as Tensors in data.
// A float input may be given either way. Every graph input must be given
// once; a shape problem or bad value is an error naming the node. The
// pass reads and writes the values in slots planned by NewGraphModule,
// reused by every call: only the result map and the taped ops allocate.
func (gm *GraphModule[T]) ForwardWith(tp *autograd.Tape[T], inputs map[string]*autograd.Var[T], data map[string]*Tensor) (map[string]*autograd.Var[T], error) {
	if tp == nil {
		panic("onnx: GraphModule.Forward: nil tape")
	}
	vals := gm.vals
	copy(vals, gm.fixed)
	defer clear(vals) // hold no Var of tp after the pass
	given := 0
	for i, in := range gm.inputs {
		v, okv := inputs[in.Name]
		t, okt := data[in.Name]
		id := gm.inSlots[i]
		switch {
		case okv && okt:
			return nil, fmt.Errorf("onnx: Forward: input %q given twice", in.Name)
		case okv && v != nil:
			if !in.DType.IsFloat() {
				return nil, fmt.Errorf("onnx: Forward: input %q is %v; give it in data as a Tensor", in.Name, in.DType)
			}
			vals[id] = tval[T]{v: v}
		case okt && t != nil:
			if err := checkTensor(t); err != nil {
				return nil, fmt.Errorf("onnx: Forward: input %q: %w", in.Name, err)
			}
			if in.DType.IsFloat() && t.DType.IsFloat() {
				vals[id] = tval[T]{v: tp.Const(denseOf[T](t))}
			} else {
				vals[id] = tval[T]{t: t}
			}
		default:
			return nil, fmt.Errorf("onnx: Forward: missing input %q", in.Name)
		}
		given++
	}
	if given != len(inputs)+len(data) {
		for _, m := range []iter.Seq[string]{maps.Keys(inputs), maps.Keys(data)} {
			for name := range m {
				if !slices.ContainsFunc(gm.inputs, func(in ValueInfo) bool { return in.Name == name }) {
					return nil, fmt.Errorf("onnx: Forward: unknown input %q", name)
				}
			}
		}
	}
	c := &gm.ctx
	*c = tapeCtx[T]{tp: tp, gm: gm}
	defer func() { *c = tapeCtx[T]{} }()
	for _, st := range gm.steps {
		n := st.node
		in := gm.args[:len(st.in)]
		for i, id := range st.in {
			in[i] = tval[T]{}
			if id >= 0 {
				in[i] = vals[id]
			}
		}
		var out []tval[T]
		var err error
		if st.run != nil {
			c.node, c.in = n, st.in
			out, err = c.call(st.run, in)
		} else {
			if st.noBack != nil {
				for _, x := range in {
					if x.v != nil && x.v.RequiresGrad() || x.vt != nil && x.vt.RequiresGrad() {
						return nil, st.noBack // an input's gradient would pass through it
					}
				}
			}
			out, err = c.kernel(st.kernel, n, in)
		}
		if err != nil {
			return nil, fmt.Errorf("onnx: node %q (%s): %w", n.Name, n.OpType, err)
		}
		for i, id := range st.out {
			if id >= 0 && i < len(out) {
				vals[id] = out[i]
			}
		}
	}
	res := make(map[string]*autograd.Var[T], len(gm.graph.Outputs))
	for i, o := range gm.graph.Outputs {
		x := vals[gm.outSlots[i]]
		if x.t != nil && !x.t.DType.IsFloat() {
			continue
		}
		if !x.ok() {
			return nil, fmt.Errorf("onnx: Forward: output %q has no value", o.Name)
		}
		res[o.Name] = c.v(x)
	}
	return res, nil
}

// tapeCtx is what a taped op sees while it runs.
type tapeCtx[T tensor.Float] struct {
	tp   *autograd.Tape[T]
	gm   *GraphModule[T]
	node *Node
	in   []int // the node's input slots
}

// buf returns the buffer that node input i reads (a BatchNormalization
// statistic), or nil.
func (c *tapeCtx[T]) buf(i int) *tensor.Dense[T] {
	if i < len(c.in) && c.in[i] >= 0 {
		return c.gm.bufs[c.in[i]]
	}
	return nil
}

// call runs a taped op, turning an autograd panic over the data (shapes
// that do not fit, an index out of range) into an error; misuse panics.
func (c *tapeCtx[T]) call(f tapeFunc[T], in []tval[T]) (out []tval[T], err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if ok && errors.Is(e, autograd.ErrMisuse) {
				panic(r) // a programmer error (a Var from another tape), not data
			}
			if !ok {
				e = fmt.Errorf("%v", r)
			}
			err = e
		}
	}()
	return f(c, in)
}

// kernel evaluates a node that needs no gradient with its inference
// kernel; Var inputs are read as float32 tensors.
func (c *tapeCtx[T]) kernel(k Kernel, n *Node, in []tval[T]) ([]tval[T], error) {
	tin := make([]*Tensor, len(in))
	for i, x := range in {
		switch {
		case x.t != nil:
			tin[i] = x.t
		case x.v != nil || x.vt != nil:
			tin[i] = tensorOf(c.v(x).Value())
		}
	}
	tout := make([]*Tensor, len(n.Outputs))
	for i := range tout {
		tout[i] = &Tensor{}
	}
	if err := runKernel(k, tin, tout); err != nil {
		return nil, err
	}
	out := make([]tval[T], len(tout))
	for i, t := range tout {
		out[i] = tval[T]{t: t}
	}
	return out, nil
}

// v returns x as a Var: a constant becomes a Const node, a pending
// transpose is materialised.
func (c *tapeCtx[T]) v(x tval[T]) *autograd.Var[T] {
	switch {
	case x.v != nil:
		return x.v
	case x.vt != nil:
		return c.tp.Transpose(x.vt)
	case x.t != nil:
		return c.tp.Const(denseOf[T](x.t))
	}
	panic(fmt.Sprintf("onnx: node %q (%s): missing input", c.node.Name, c.node.OpType))
}

// ints reads a constant integer input (shapes, axes, pads).
func (c *tapeCtx[T]) ints(x tval[T], what string) ([]int, error) {
	if x.t == nil {
		return nil, fmt.Errorf("%s must be a constant", what)
	}
	return intsTo(nil, x.t, what)
}

// denseOf converts a float (or integer) tensor to a new Dense[T].
func denseOf[T tensor.Float](t *Tensor) *tensor.Dense[T] {
	n := t.Size()
	d := tensor.New[T](t.Shape...)
	out := d.Data()
	switch t.DType.Storage() {
	case StoreF32:
		for i, v := range t.F32[:n] {
			out[i] = T(v)
		}
	case StoreF64:
		for i, v := range t.F64[:n] {
			out[i] = T(v)
		}
	case StoreI64:
		for i, v := range t.I64[:n] {
			out[i] = T(v)
		}
	case StoreBool:
		for i, v := range t.B[:n] {
			if v {
				out[i] = 1
			}
		}
	default:
		panic(fmt.Sprintf("onnx: %v tensor is not numeric", t.DType))
	}
	return d
}

// tensorOf copies d into a new float32 Tensor.
func tensorOf[T tensor.Float](d *tensor.Dense[T]) *Tensor {
	d = d.Contiguous()
	t := NewTensor(Float, d.Shape()...)
	for i, v := range d.Data() {
		t.F32[i] = float32(v)
	}
	return t
}

// TensorOf copies a Var's value into a new float32 Tensor (to compare
// with a Session's outputs or write with WriteNPY).
func TensorOf[T tensor.Float](v *autograd.Var[T]) *Tensor { return tensorOf(v.Value()) }

// Export returns a new compiled Model: the graph the module was made from,
// its initializers holding the module's current parameters and buffers
// (in the initializers' own element types), so that a fine-tuned model
// runs in a Session with every load-time rewrite (BatchNormalization
// folded into the convolution with the new statistics, fused epilogues).
// The module and its source model are unchanged. A graph with subgraphs
// (If, Loop, Scan) is not supported.
func (gm *GraphModule[T]) Export() (*Model, error) {
	m, g, src := gm.model, gm.graph, gm.graph.source
	ng := &Graph{Name: g.Name, Inputs: g.Inputs, Outputs: g.Outputs, ValueInfo: g.ValueInfo}
	value := func(name string, old *Tensor) *Tensor {
		d := gm.weight(name)
		if d == nil {
			return old
		}
		t := tensorOf(d)
		switch old.DType {
		case Double:
			t = &Tensor{DType: Double, Shape: t.Shape, F64: make([]float64, t.Size())}
			for i, v := range d.Contiguous().Data() {
				t.F64[i] = float64(v)
			}
		case Float16, BFloat16:
			t.DType = old.DType
			t.normalize()
		}
		return t
	}
	seen := map[string]bool{}
	for _, it := range g.Initializers {
		ng.Initializers = append(ng.Initializers, NamedTensor{it.Name, value(it.Name, it.T)})
		seen[it.Name] = true
	}
	// Constant outputs (the Constant nodes are gone from src.nodes) become
	// initializers, in a fixed order.
	names := slices.Sorted(maps.Keys(src.consts))
	for _, name := range names {
		if !seen[name] {
			ng.Initializers = append(ng.Initializers, NamedTensor{name, value(name, src.consts[name])})
		}
	}
	for _, n := range src.nodes {
		for _, a := range n.Attrs {
			if a.G != nil || len(a.Graphs) > 0 {
				return nil, fmt.Errorf("onnx: Export: node %q (%s) has a subgraph: %w", n.Name, n.OpType, ErrUnsupported)
			}
		}
		c := *n
		c.Inputs = slices.Clone(n.Inputs)
		c.Outputs = slices.Clone(n.Outputs)
		c.Implicit, c.graph, c.err, c.kernel = nil, nil, nil, nil
		ng.Nodes = append(ng.Nodes, &c)
	}
	nm := &Model{IRVersion: m.IRVersion, ProducerName: m.ProducerName, ProducerVersion: m.ProducerVersion,
		Domain: m.Domain, ModelVersion: m.ModelVersion, DocString: m.DocString, Opsets: m.Opsets,
		Metadata: m.Metadata, Graph: ng, hasFunctions: m.hasFunctions}
	if err := nm.compile(ng, nil, 0); err != nil {
		return nil, err
	}
	return nm, nil
}
