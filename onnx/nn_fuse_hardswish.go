package onnx

// HardSwish as exporters spell it: x·Clip(x + 3, 0, 6)/6 (Paddle's
// hardswish, through paddle2onnx: Add, Clip, Mul, Div). When x is a
// convolution's output read by nothing else, fuseHardSwish makes the four
// nodes the convolution's epilogue activation: one pass over the feature
// map instead of four, and no intermediate values.

func fuseHardSwish(g *Graph, order []*Node, st *fuseStats) []*Node {
	cnt := readers(g, order)
	sole := soleReaders(g, order)
	prod := map[string]*Node{}
	for _, n := range order {
		for _, o := range n.Outputs {
			prod[o] = n
		}
	}
	drop := map[*Node]bool{}
	for _, add := range order {
		if add.OpType != "Add" || add.Domain != "" || drop[add] || len(add.Inputs) != 2 || len(add.Outputs) != 1 {
			continue
		}
		x, ci := add.Inputs[0], 1
		if v, ok := scalarF32(add.ConstInput(0)); ok && v == 3 {
			x, ci = add.Inputs[1], 0
		}
		if v, ok := scalarF32(add.ConstInput(ci)); !ok || v != 3 || cnt[x] != 2 {
			continue
		}
		conv := prod[x]
		if conv == nil || conv.OpType != "Conv" || conv.Domain != "" || len(conv.Outputs) != 1 {
			continue
		}
		ck, ok := conv.kernel.(*convKernel)
		if !ok || ck.act.kind != actNone {
			continue
		}
		clip := sole[add.Outputs[0]]
		if clip == nil || clip.OpType != "Clip" || clip.Domain != "" || drop[clip] || len(clip.Outputs) != 1 {
			continue
		}
		if a, ok := activationOf(clip, add.Outputs[0]); !ok || a.kind != actClip || a.lo != 0 || a.hi != 6 {
			continue
		}
		mul := sole[clip.Outputs[0]]
		if mul == nil || mul.OpType != "Mul" || mul.Domain != "" || drop[mul] || len(mul.Outputs) != 1 ||
			other(mul, clip.Outputs[0]) != x {
			continue
		}
		div := sole[mul.Outputs[0]]
		if div == nil || div.OpType != "Div" || div.Domain != "" || drop[div] || len(div.Inputs) != 2 ||
			len(div.Outputs) != 1 || div.Inputs[0] != mul.Outputs[0] {
			continue
		}
		if v, ok := scalarF32(div.ConstInput(1)); !ok || v != 6 || div.ConstInput(1).Rank() > 1 {
			continue
		}
		if t := add.ConstInput(ci); t.Rank() > 1 {
			continue // a rank-2 scalar would broadcast the output to more dimensions
		}
		ck.act = act{kind: actHardSwish}
		conv.Outputs = []string{div.Outputs[0]}
		drop[add], drop[clip], drop[mul], drop[div] = true, true, true, true
		st.hswishFused++
	}
	return without(order, drop)
}
