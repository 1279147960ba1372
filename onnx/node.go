package onnx

import (
	"errors"
	"fmt"
)

// AttrType is an attribute's type, numbered as ONNX's AttributeProto.AttributeType.
type AttrType int32

// Attribute types.
const (
	AttrUndefined  AttrType = 0
	AttrFloat      AttrType = 1
	AttrInt        AttrType = 2
	AttrString     AttrType = 3
	AttrTensor     AttrType = 4
	AttrGraph      AttrType = 5
	AttrFloats     AttrType = 6
	AttrInts       AttrType = 7
	AttrStrings    AttrType = 8
	AttrTensors    AttrType = 9
	AttrGraphs     AttrType = 10
	AttrSparse     AttrType = 11
	AttrSparses    AttrType = 12
	AttrTypeProto  AttrType = 13
	AttrTypeProtos AttrType = 14
)

var attrTypeNames = [...]string{"undefined", "float", "int", "string", "tensor", "graph",
	"floats", "ints", "strings", "tensors", "graphs", "sparse_tensor", "sparse_tensors",
	"type_proto", "type_protos"}

func (a AttrType) String() string {
	if a >= 0 && int(a) < len(attrTypeNames) {
		return attrTypeNames[a]
	}
	return fmt.Sprintf("attr(%d)", int32(a))
}

// Attribute is one decoded AttributeProto.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings []string
	Tensors []*Tensor
	Graphs  []*Graph
}

// Node is one NodeProto of a graph, as a kernel constructor sees it.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string // "" for an absent optional input
	Outputs []string // "" for an absent optional output
	Attrs   []*Attribute
	// Opset is the version of Domain that the model imports: the version of
	// the op's definition to implement.
	Opset int

	// Implicit lists the outer-scope values that the node's subgraphs read;
	// the session passes them after the explicit inputs.
	Implicit []string

	graph  *Graph // owning graph, for ConstInput
	err    error  // first attribute error, reported by the loader
	kernel Kernel
}

// Attr returns the attribute called name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Has reports whether the node carries the attribute.
func (n *Node) Has(name string) bool { return n.Attr(name) != nil }

func (n *Node) get(name string, want AttrType) *Attribute {
	a := n.Attr(name)
	if a == nil {
		return nil
	}
	if a.Type != want {
		n.fail(fmt.Errorf("attribute %q is %v, want %v", name, a.Type, want))
		return nil
	}
	return a
}

func (n *Node) fail(err error) {
	if n.err == nil {
		n.err = err
	}
}

// Err returns the first attribute error recorded by the accessors.
func (n *Node) Err() error { return n.err }

// Int returns the int attribute name, or def when absent. A wrong type is
// recorded as the node's error (see Err) and def returned.
func (n *Node) Int(name string, def int64) int64 {
	if a := n.get(name, AttrInt); a != nil {
		return a.I
	}
	return def
}

// Float returns the float attribute name, or def when absent.
func (n *Node) Float(name string, def float32) float32 {
	if a := n.get(name, AttrFloat); a != nil {
		return a.F
	}
	return def
}

// String returns the string attribute name, or def when absent.
func (n *Node) String(name string, def string) string {
	if a := n.get(name, AttrString); a != nil {
		return a.S
	}
	return def
}

// Ints returns the ints attribute name, or def when absent.
func (n *Node) Ints(name string, def []int64) []int64 {
	if a := n.get(name, AttrInts); a != nil {
		return a.Ints
	}
	return def
}

// Floats returns the floats attribute name, or def when absent.
func (n *Node) Floats(name string, def []float32) []float32 {
	if a := n.get(name, AttrFloats); a != nil {
		return a.Floats
	}
	return def
}

// Strings returns the strings attribute name, or def when absent.
func (n *Node) Strings(name string, def []string) []string {
	if a := n.get(name, AttrStrings); a != nil {
		return a.Strings
	}
	return def
}

// TensorAttr returns the tensor attribute name, or nil when absent.
func (n *Node) TensorAttr(name string) *Tensor {
	if a := n.get(name, AttrTensor); a != nil {
		return a.T
	}
	return nil
}

// GraphAttr returns the graph attribute name, or nil when absent.
func (n *Node) GraphAttr(name string) *Graph {
	if a := n.get(name, AttrGraph); a != nil {
		return a.G
	}
	return nil
}

// IntsAsInt converts an ints attribute to []int (nil when absent).
func (n *Node) IntsAsInt(name string) []int {
	v := n.Ints(name, nil)
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// ConstInput returns input i's value when it is known at load time (an
// initializer that is not also a graph input, or a Constant node's output),
// or nil. Kernels may use it to pre-pack weights; they must still read the
// value they are given in Run.
func (n *Node) ConstInput(i int) *Tensor {
	if i >= len(n.Inputs) || n.Inputs[i] == "" || n.graph == nil {
		return nil
	}
	return n.graph.constValue(n.Inputs[i])
}

// Errorf returns an error that names the node; for constructors and kernels.
func (n *Node) Errorf(format string, args ...any) error {
	return fmt.Errorf("onnx: node %q (%s): "+format, append([]any{n.Name, n.OpType}, args...)...)
}

// ErrUnsupported is wrapped by every load error for an op, attribute value or
// type that this package does not implement.
var ErrUnsupported = errors.New("unsupported")
