package onnx

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Model is a loaded ModelProto whose graph has been checked and compiled:
// every node has its kernel, in an order where each node runs after the
// nodes it reads from.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	// Opsets maps each imported domain ("" for the default ONNX domain) to
	// its version.
	Opsets   map[string]int
	Metadata map[string]string
	Graph    *Graph

	hasFunctions bool
}

// Kind is the kind of value a ValueInfo describes.
type Kind uint8

// Value kinds; only tensors are supported at a graph's boundary.
const (
	KindUnknown Kind = iota
	KindTensor
	KindSequence
	KindMap
	KindOptional
	KindSparse
)

// Dim is one dimension of a declared shape: Value >= 0 when fixed, else -1
// with Param naming the symbolic dimension ("" when unnamed).
type Dim struct {
	Value int64
	Param string
}

func (k Kind) String() string {
	switch k {
	case KindTensor:
		return "tensor"
	case KindSequence:
		return "sequence"
	case KindMap:
		return "map"
	case KindOptional:
		return "optional"
	case KindSparse:
		return "sparse tensor"
	}
	return "value"
}

func (d Dim) String() string {
	if d.Value >= 0 {
		return fmt.Sprint(d.Value)
	}
	if d.Param != "" {
		return d.Param
	}
	return "?"
}

// ValueInfo is a declared graph input, output or intermediate value.
type ValueInfo struct {
	Name     string
	Kind     Kind
	DType    DataType
	Shape    []Dim // valid when HasShape
	HasShape bool
}

// ShapeString formats the declared shape, e.g. "[batch 3 224 224]".
func (v ValueInfo) ShapeString() string {
	if !v.HasShape {
		return "[?]"
	}
	s := make([]string, len(v.Shape))
	for i, d := range v.Shape {
		s[i] = d.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

// NamedTensor is an initializer.
type NamedTensor struct {
	Name string
	T    *Tensor
}

// Graph is a GraphProto: nodes, initializers and declared values.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []NamedTensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo

	consts  map[string]*Tensor // initializers and Constant outputs
	parent  *Graph
	plan    *plan
	free    []string // outer-scope names this graph (or a nested one) reads
	defined map[string]bool
	source  *trainSource // the nodes before folding and fusion, for GraphModule
}

func (g *Graph) constValue(name string) *Tensor {
	for s := g; s != nil; s = s.parent {
		if t, ok := s.consts[name]; ok {
			// An initializer that is also a graph input can be overridden.
			if s.isInput(name) {
				return nil
			}
			return t
		}
		if s.defined[name] {
			return nil
		}
	}
	return nil
}

func (g *Graph) isInput(name string) bool {
	for _, in := range g.Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

// Load reads and compiles the model in path. External data files are
// resolved inside path's folder.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, filepath.Dir(path))
}

// Read reads and compiles a model from r. dir is the folder that external
// data locations are relative to; "" forbids external data.
func Read(r io.Reader, dir string) (*Model, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Parse(b, dir)
}

// Parse decodes and compiles a serialized ModelProto.
func Parse(b []byte, dir string) (*Model, error) {
	d := &decoder{dir: dir}
	m, err := d.model(b)
	if err != nil {
		return nil, err
	}
	if len(m.Opsets) == 0 && m.IRVersion < 3 {
		m.Opsets[""] = 1 // before opset imports existed
	}
	if err := m.compile(m.Graph, nil, 0); err != nil {
		return nil, err
	}
	return m, nil
}

// Inspect reads the model in path without compiling it: nothing is checked
// beyond the protobuf encoding and no kernels are built, so a model with
// unsupported ops can still be described (as onnxrun -info does). The
// result cannot be run: a Session on it returns an error.
func Inspect(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d := &decoder{dir: filepath.Dir(path)}
	return d.model(b)
}

// compile checks g, folds Constant nodes, orders the nodes topologically,
// builds their kernels (and those of nested graphs) and plans value slots.
func (m *Model) compile(g *Graph, parent *Graph, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("onnx: subgraphs nested deeper than %d", maxDepth)
	}
	g.parent = parent
	g.consts = make(map[string]*Tensor, len(g.Initializers))
	g.defined = make(map[string]bool, len(g.Inputs)+len(g.Initializers)+len(g.Nodes))
	for _, in := range g.Inputs {
		if in.Name == "" {
			return errors.New("onnx: graph input without a name")
		}
		if g.defined[in.Name] {
			return fmt.Errorf("onnx: graph input %q declared twice", in.Name)
		}
		g.defined[in.Name] = true
	}
	for _, it := range g.Initializers {
		if it.Name == "" {
			return errors.New("onnx: initializer without a name")
		}
		g.consts[it.Name] = it.T
		g.defined[it.Name] = true
	}
	// Constant nodes become constants; other nodes are ordered.
	nodes := make([]*Node, 0, len(g.Nodes))
	producer := make(map[string]int, len(g.Nodes))
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if g.defined[o] {
				return fmt.Errorf("onnx: value %q is defined twice (node %q %s)", o, n.Name, n.OpType)
			}
			g.defined[o] = true
		}
		if n.OpType == "Constant" && n.Domain == "" {
			n.graph = g
			t, err := constantValue(n)
			if err != nil {
				return err
			}
			if len(n.Outputs) != 1 {
				return n.Errorf("want 1 output, have %d", len(n.Outputs))
			}
			g.consts[n.Outputs[0]] = t
			continue
		}
		for _, o := range n.Outputs {
			if o != "" {
				producer[o] = len(nodes)
			}
		}
		nodes = append(nodes, n)
	}
	// Subgraphs first: their free names become the node's implicit inputs.
	implicit := make([][]string, len(nodes))
	for i, n := range nodes {
		n.graph = g
		opset, ok := m.Opsets[n.Domain]
		if !ok {
			return fmt.Errorf("onnx: node %q: op %s of domain %q, which the model does not import: %w", n.Name, n.OpType, n.Domain, ErrUnsupported)
		}
		n.Opset = opset
		seen := map[string]bool{}
		for _, a := range n.Attrs {
			gs := a.Graphs
			if a.G != nil {
				gs = append([]*Graph{a.G}, gs...)
			}
			for _, sg := range gs {
				if err := m.compile(sg, g, depth+1); err != nil {
					return fmt.Errorf("onnx: node %q (%s) attribute %q: %w", n.Name, n.OpType, a.Name, err)
				}
				for _, f := range sg.free {
					if !seen[f] {
						seen[f] = true
						implicit[i] = append(implicit[i], f)
					}
				}
			}
		}
		n.Implicit = implicit[i]
	}
	// Kahn's algorithm, stable: ready nodes run in file order.
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	free := map[string]bool{}
	for i, n := range nodes {
		for _, in := range append(n.Inputs[:len(n.Inputs):len(n.Inputs)], implicit[i]...) {
			if in == "" {
				continue
			}
			if p, ok := producer[in]; ok {
				indeg[i]++
				users[p] = append(users[p], i)
				continue
			}
			if g.defined[in] {
				continue
			}
			if parent != nil && parent.visible(in) {
				free[in] = true
				continue
			}
			return fmt.Errorf("onnx: node %q (%s) reads %q, which no input, initializer or node defines", n.Name, n.OpType, in)
		}
	}
	order := make([]*Node, 0, len(nodes))
	// Exporters write nodes in a valid order: keep it when every node's
	// producers come before it (no heap needed).
	sorted := true
	for i := range nodes {
		for _, u := range users[i] {
			if u <= i {
				sorted = false
			}
		}
	}
	if sorted {
		indeg = indeg[:0]
		order = append(order, nodes...)
	}
	// Otherwise take the lowest index ready: keeps file order where valid.
	queue := &intHeap{}
	for i := range indeg {
		if indeg[i] == 0 {
			heap.Push(queue, i)
		}
	}
	for queue.Len() > 0 {
		i := heap.Pop(queue).(int)
		order = append(order, nodes[i])
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				heap.Push(queue, u)
			}
		}
	}
	if len(order) != len(nodes) {
		for i, d := range indeg {
			if d > 0 {
				return fmt.Errorf("onnx: graph has a cycle through node %q (%s)", nodes[i].Name, nodes[i].OpType)
			}
		}
	}
	for _, o := range g.Outputs {
		if !g.defined[o.Name] {
			if parent != nil && parent.visible(o.Name) {
				free[o.Name] = true
				continue
			}
			return fmt.Errorf("onnx: graph output %q is never defined", o.Name)
		}
	}
	for f := range free {
		g.free = append(g.free, f)
	}
	sort.Strings(g.free)
	// Kernels.
	for _, n := range order {
		k, err := newKernel(n)
		if err != nil {
			return err
		}
		n.kernel = k
	}
	g.source = newTrainSource(g, order)
	order = foldConstants(g, order)
	order, err := rewrite(g, order)
	if err != nil {
		return err
	}
	g.Nodes = append(g.Nodes[:0:0], order...)
	g.plan = newPlan(g)
	return nil
}

// visible reports whether name is defined in g or an enclosing graph.
func (g *Graph) visible(name string) bool {
	for s := g; s != nil; s = s.parent {
		if s.defined[name] {
			return true
		}
	}
	return false
}

// constantValue evaluates a Constant node's attribute.
func constantValue(n *Node) (*Tensor, error) {
	if len(n.Attrs) != 1 {
		return nil, n.Errorf("want exactly one value attribute, have %d", len(n.Attrs))
	}
	a := n.Attrs[0]
	var t *Tensor
	switch a.Name {
	case "value":
		t = n.TensorAttr("value")
	case "value_float":
		t = &Tensor{DType: Float, Shape: []int{}, F32: []float32{n.Float("value_float", 0)}}
	case "value_floats":
		v := n.Floats("value_floats", nil)
		t = &Tensor{DType: Float, Shape: []int{len(v)}, F32: append([]float32{}, v...)}
	case "value_int":
		t = &Tensor{DType: Int64, Shape: []int{}, I64: []int64{n.Int("value_int", 0)}}
	case "value_ints":
		v := n.Ints("value_ints", nil)
		t = &Tensor{DType: Int64, Shape: []int{len(v)}, I64: append([]int64{}, v...)}
	case "value_string":
		t = &Tensor{DType: String, Shape: []int{}, S: []string{n.String("value_string", "")}}
	case "value_strings":
		v := n.Strings("value_strings", nil)
		t = &Tensor{DType: String, Shape: []int{len(v)}, S: append([]string{}, v...)}
	default:
		return nil, n.Errorf("attribute %q: %w", a.Name, ErrUnsupported)
	}
	if n.err != nil {
		return nil, n.Errorf("%v", n.err)
	}
	if t == nil {
		return nil, n.Errorf("no value")
	}
	return t, nil
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// newKernel makes n's kernel from the registry: an error wrapping
// ErrUnsupported names the node, op, domain and opset where none is
// registered; a constructor's error (or an attribute of the wrong type
// recorded on n) names the node.
func newKernel(n *Node) (Kernel, error) {
	ctor := lookup(n.Domain, n.OpType, n.Opset)
	if ctor == nil {
		dom := n.Domain
		if dom == "" {
			dom = "ai.onnx"
		}
		return nil, fmt.Errorf("onnx: node %q: op %s (domain %s, opset %d): %w", n.Name, n.OpType, dom, n.Opset, ErrUnsupported)
	}
	k, err := ctor(n)
	if err == nil {
		err = n.err
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: node %q (%s, opset %d): %w", n.Name, n.OpType, n.Opset, err)
	}
	return k, nil
}
