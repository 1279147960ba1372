package onnx

// The LayerNorm pattern: exporters below opset 17 (PyTorch's
// torch.nn.LayerNorm at opset 14, BERT's own LayerNorm) write layer
// normalisation over the last axis as
//
//	m = ReduceMean(x, axes=[-1]);  d = Sub(x, m);  v = ReduceMean(Pow(d, 2), axes=[-1])
//	y = Add(Mul(Div(d, Sqrt(Add(v, ε))), γ), β)
//
// nine nodes, five full passes over the activations. fuseLayerNorm
// replaces each such chain whose intermediate values are read only inside
// it by one LayerNormalization kernel (nn_norm.go) reading x, γ and β.
// γ and β must be constant vectors of the last axis's length (through
// Identity nodes, as PyTorch exports shared weights).

// graphIndex gives each value's producing node.
func producers(order []*Node) map[string]*Node {
	p := map[string]*Node{}
	for _, n := range order {
		for _, o := range n.Outputs {
			if o != "" {
				p[o] = n
			}
		}
	}
	return p
}

// constThrough returns the constant value of name, following Identity
// nodes; nil when it is not constant.
func constThrough(g *Graph, prod map[string]*Node, name string) *Tensor {
	for range 8 {
		if t := g.constValue(name); t != nil {
			return t
		}
		n := prod[name]
		if n == nil || n.OpType != "Identity" || n.Domain != "" || len(n.Inputs) != 1 {
			return nil
		}
		name = n.Inputs[0]
	}
	return nil
}

// scalarF32 returns the value of a float32 constant of one element.
func scalarF32(t *Tensor) (float32, bool) {
	if t == nil || t.DType != Float || t.Size() != 1 {
		return 0, false
	}
	return t.F32[0], true
}

// lastAxisMean reports whether n is ReduceMean over the last axis only,
// keeping it (axes=[-1] as an attribute before opset 18, an input from 18).
func lastAxisMean(g *Graph, prod map[string]*Node, n *Node) bool {
	if n == nil || n.OpType != "ReduceMean" || n.Domain != "" || len(n.Outputs) != 1 {
		return false
	}
	if n.Int("keepdims", 1) != 1 {
		return false
	}
	axes := n.IntsAsInt("axes")
	if n.Opset >= 18 {
		if len(n.Inputs) < 2 {
			return false
		}
		t := constThrough(g, prod, n.Inputs[1])
		if t == nil || t.DType != Int64 || t.Size() != 1 {
			return false
		}
		axes = []int{int(t.I64[0])}
	}
	return len(axes) == 1 && axes[0] == -1
}

// other returns the input of a two-input node that is not name, or "".
func other(n *Node, name string) string {
	if len(n.Inputs) != 2 {
		return ""
	}
	switch name {
	case n.Inputs[0]:
		if n.Inputs[1] != name {
			return n.Inputs[1]
		}
	case n.Inputs[1]:
		return n.Inputs[0]
	}
	return ""
}

func fuseLayerNorm(g *Graph, order []*Node, st *fuseStats) []*Node {
	cnt := readers(g, order)
	prod := producers(order)
	users := map[string][]*Node{}
	for _, n := range order {
		for _, in := range n.Inputs {
			users[in] = append(users[in], n)
		}
	}
	one := func(name, op string) *Node {
		if cnt[name] != 1 || len(users[name]) != 1 {
			return nil
		}
		u := users[name][0]
		if u.OpType != op || u.Domain != "" || len(u.Outputs) != 1 {
			return nil
		}
		return u
	}
	drop := map[*Node]bool{}
	replace := map[*Node]*Node{}
	for _, mean := range order {
		if drop[mean] || !lastAxisMean(g, prod, mean) {
			continue
		}
		x := mean.Inputs[0]
		sub := one(mean.Outputs[0], "Sub")
		if sub == nil || len(sub.Inputs) != 2 || sub.Inputs[0] != x || sub.Inputs[1] != mean.Outputs[0] {
			continue
		}
		d := sub.Outputs[0]
		if cnt[d] != 2 || len(users[d]) != 2 {
			continue
		}
		var pow, div *Node
		for _, u := range users[d] {
			switch u.OpType {
			case "Pow":
				pow = u
			case "Div":
				div = u
			}
		}
		if pow == nil || div == nil || pow.Inputs[0] != d || div.Inputs[0] != d || len(pow.Inputs) != 2 || len(div.Inputs) != 2 {
			continue
		}
		if e, ok := scalarF32(constThrough(g, prod, pow.Inputs[1])); !ok || e != 2 {
			continue
		}
		mean2 := one(pow.Outputs[0], "ReduceMean")
		if mean2 == nil || !lastAxisMean(g, prod, mean2) {
			continue
		}
		addEps := one(mean2.Outputs[0], "Add")
		if addEps == nil {
			continue
		}
		eps, ok := scalarF32(constThrough(g, prod, other(addEps, mean2.Outputs[0])))
		if !ok || !(eps >= 0) {
			continue
		}
		sqrt := one(addEps.Outputs[0], "Sqrt")
		if sqrt == nil || one(sqrt.Outputs[0], "Div") != div || div.Inputs[1] != sqrt.Outputs[0] {
			continue
		}
		mul := one(div.Outputs[0], "Mul")
		if mul == nil {
			continue
		}
		gname := other(mul, div.Outputs[0])
		add := one(mul.Outputs[0], "Add")
		if add == nil {
			continue
		}
		bname := other(add, mul.Outputs[0])
		gamma, beta := constThrough(g, prod, gname), constThrough(g, prod, bname)
		if gamma == nil || beta == nil || gamma.DType != Float || beta.DType != Float ||
			gamma.Rank() != 1 || beta.Rank() != 1 || gamma.Size() != beta.Size() {
			continue
		}
		ln := &Node{
			Name: add.Name + "/LayerNormalization", OpType: "LayerNormalization", Opset: 17,
			Inputs: []string{x, gname, bname}, Outputs: []string{add.Outputs[0]},
			graph: g, kernel: &layerNormKernel{axis: -1, eps: eps},
		}
		for _, n := range []*Node{mean, sub, pow, mean2, addEps, sqrt, div, mul} {
			drop[n] = true
		}
		replace[add] = ln
		st.lnFused++
	}
	if len(replace) == 0 {
		return order
	}
	out := order[:0:0]
	for _, n := range order {
		if drop[n] {
			continue
		}
		if r := replace[n]; r != nil {
			n = r
		}
		out = append(out, n)
	}
	return out
}
