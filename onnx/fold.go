package onnx

import "os"

// Constant folding, run by compile after every node has its kernel and
// before the fusion passes: a node whose inputs are all known at load time
// (initializers that are not graph inputs, Constant outputs, earlier folded
// values) runs once at load and its outputs become constants. Shape and
// Size of a top-level graph input whose declared shape is fully fixed are
// known too (Run rejects any other shape), which folds the Shape → Gather →
// Unsqueeze → Concat → Reshape chains that exporters emit for static
// shapes. Nodes with subgraphs and nondeterministic ops are never folded;
// a fold that fails, or would make a constant of more than foldMaxElems
// elements, leaves the node to run as usual. ADJOINT_ONNX_NOFOLD=1 (or
// foldEnabled = false in tests) turns folding off.

var foldEnabled = os.Getenv("ADJOINT_ONNX_NOFOLD") == ""

const foldMaxElems = 1 << 24

// noFold: nondeterministic ops, and ops whose output size comes from
// input values (a tiny file could ask for gigabytes at load time).
var noFold = map[string]bool{
	"RandomNormal": true, "RandomNormalLike": true, "RandomUniform": true,
	"RandomUniformLike": true, "Bernoulli": true, "Multinomial": true, "Dropout": true,
	"ConstantOfShape": true, "Expand": true, "Tile": true, "Range": true, "OneHot": true,
	"Pad": true, "Resize": true, "Upsample": true, "EyeLike": true,
}

func foldConstants(g *Graph, order []*Node) []*Node {
	if !foldEnabled {
		return order
	}
	// Declared fixed shapes of top-level inputs.
	static := map[string]*Tensor{}
	if g.parent == nil {
		for _, in := range g.Inputs {
			if _, init := g.consts[in.Name]; init || !in.HasShape || in.Kind != KindTensor || in.DType.Storage() == StoreNone {
				continue
			}
			shape := make([]int, len(in.Shape))
			ok := true
			for i, d := range in.Shape {
				if d.Value < 0 || d.Value > 1<<30 {
					ok = false
					break
				}
				shape[i] = int(d.Value)
			}
			if ok {
				static[in.Name] = &Tensor{DType: in.DType, Shape: shape} // shape only, no data
			}
		}
	}
	kept := order[:0:0]
	for _, n := range order {
		if !foldable(n) {
			kept = append(kept, n)
			continue
		}
		in := make([]*Tensor, len(n.Inputs))
		all := true
		for i, name := range n.Inputs {
			if name == "" {
				continue
			}
			if t := g.constValue(name); t != nil {
				in[i] = t
				continue
			}
			if t, ok := static[name]; ok && (n.OpType == "Shape" || n.OpType == "Size") && i == 0 && n.Domain == "" {
				in[i] = t
				continue
			}
			all = false
			break
		}
		if !all || len(n.Inputs) == 0 {
			kept = append(kept, n)
			continue
		}
		out := make([]*Tensor, len(n.Outputs))
		for i := range out {
			out[i] = &Tensor{}
		}
		if err := runKernel(n.kernel, in, out); err != nil || !smallEnough(out) {
			kept = append(kept, n)
			continue
		}
		for i, o := range out {
			o.normalize()
			if n.Outputs[i] != "" {
				g.consts[n.Outputs[i]] = o
			}
		}
	}
	return kept
}

func foldable(n *Node) bool {
	if n.Domain != "" || noFold[n.OpType] || len(n.Implicit) > 0 {
		return false
	}
	for _, a := range n.Attrs {
		if a.G != nil || len(a.Graphs) > 0 {
			return false
		}
	}
	return true
}

func smallEnough(out []*Tensor) bool {
	n := 0
	for _, o := range out {
		if o.DType.Storage() == StoreSeq {
			return false
		}
		n += o.Size()
	}
	return n <= foldMaxElems
}
