package onnx

// Conv + Add: a residual connection (ResNet's x + F(x), MobileNetV2's
// inverted residual) adds a value to a convolution's output and usually
// applies Relu after. fuseConvAdd makes the Add part of the convolution's
// epilogue: the other operand becomes the Conv's input 3 and the
// convolution writes conv + bias + residual in the pass that adds its
// bias, so fuseActivation can then take the Relu too. One full pass over
// the activations (read two, write one) and one node less per block.
//
// The residual must be computed before the Conv runs: of two convolutions
// feeding one Add, the later one takes the Add.

func fuseConvAdd(g *Graph, order []*Node, st *fuseStats) []*Node {
	sole := soleReaders(g, order)
	pos := map[string]int{} // position in order of each value's producer
	for i, n := range order {
		for _, o := range n.Outputs {
			pos[o] = i
		}
	}
	drop := map[*Node]bool{}
	for i, conv := range order {
		if conv.OpType != "Conv" || conv.Domain != "" || len(conv.Outputs) != 1 || len(conv.Inputs) < 2 || len(conv.Inputs) > 3 {
			continue
		}
		k, ok := conv.kernel.(*convKernel)
		if !ok || k.sum || k.act.kind != actNone {
			continue
		}
		add := sole[conv.Outputs[0]]
		if add == nil || add.OpType != "Add" || add.Domain != "" || drop[add] || len(add.Outputs) != 1 {
			continue
		}
		r := other(add, conv.Outputs[0])
		if r == "" {
			continue
		}
		// r must exist when the Conv runs: a constant, a graph input or
		// outer value, or produced earlier in the order.
		if p, ok := pos[r]; ok && p >= i {
			continue
		}
		in := append([]string(nil), conv.Inputs...)
		for len(in) < 3 {
			in = append(in, "")
		}
		conv.Inputs = append(in, r)
		conv.Outputs = []string{add.Outputs[0]}
		k.sum = true
		drop[add] = true
		st.addFused++
	}
	return without(order, drop)
}
