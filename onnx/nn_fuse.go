package onnx

import (
	"math"
	"os"
)

// Graph rewrites that pay, run by compile once every node has its kernel
// and before values are planned:
//
//   - BatchNormalization after a Conv with constant weights is folded into
//     them: W′ = W·s, B′ = (B − mean)·s + b with s = scale/√(var + ε), per
//     output channel (ONNX Runtime's conv_bn_fusion.cc does the same).
//   - MatMul by a constant followed by Add of a constant row vector
//     becomes one GEMM that starts from the bias with beta = 1.
//   - A residual Add of a Conv's output joins the Conv's epilogue
//     (nn_fuse_convadd.go), and so does x·Clip(x + 3, 0, 6)/6, HardSwish
//     (nn_fuse_hardswish.go); the LayerNorm and erf-GELU patterns become one
//     kernel each (nn_fuse_layernorm.go, nn_fuse_gelu.go).
//   - Relu, or Clip with constant bounds, or the GELU, after a Conv, Gemm
//     or MatMul is applied in that kernel's epilogue, while the output is
//     in cache.
//
// Each fusion needs the intermediate value to have exactly one reader and
// not to be a graph output; the fused node takes over the last node's
// output name, so the graph's names are unchanged. Folded constants get
// new names (never a graph input's). ADJOINT_ONNX_NOFUSE=1 (or
// fuseEnabled = false in tests) turns the rewrites off, so each can be
// checked against the unfused graph.

var fuseEnabled = os.Getenv("ADJOINT_ONNX_NOFUSE") == ""

// fuseStats counts the rewrites of the last compile (for tests and -info).
type fuseStats struct {
	bnFolded, biasFused, actFused, lnFused, geluFused, addFused, scaleFused, hswishFused int
}

// rewrite applies the passes to g's nodes (in run order) and returns the
// new order.
func rewrite(g *Graph, order []*Node) ([]*Node, error) {
	if !fuseEnabled {
		return order, nil
	}
	var st fuseStats
	order = foldBatchNorm(g, order, &st)
	order = fuseConvAdd(g, order, &st)
	order = fuseHardSwish(g, order, &st)
	order = fuseMatMulScale(g, order, &st)
	order = fuseMatMulAdd(g, order, &st)
	order = fuseLayerNorm(g, order, &st)
	order = fuseGelu(g, order, &st)
	order = fuseActivation(g, order, &st)
	order = fuseHeadViews(g, order) // attention heads read in place (nn_fuse_heads.go)
	order = markConstB(g, order)    // constant weights packed once (nn_gemm.go)
	order = markConstW(g, order)    // and Conv's (nn_fuse_convpack.go)
	return order, nil
}

// readers counts, for each value name, the nodes that read it (explicit
// and implicit inputs) plus one per graph output that names it.
func readers(g *Graph, order []*Node) map[string]int {
	r := map[string]int{}
	for _, n := range order {
		for _, in := range n.Inputs {
			if in != "" {
				r[in]++
			}
		}
		for _, in := range n.Implicit {
			r[in]++
		}
	}
	for _, o := range g.Outputs {
		r[o.Name]++
	}
	return r
}

// soleReader returns, for every value with exactly one reading node (and
// not a graph output), that node.
func soleReaders(g *Graph, order []*Node) map[string]*Node {
	cnt := readers(g, order)
	out := map[string]*Node{}
	for _, n := range order {
		for _, in := range n.Inputs {
			if in != "" && cnt[in] == 1 {
				out[in] = n
			}
		}
	}
	return out
}

// constF32 returns input i of n when it is a float32 constant.
func constF32(n *Node, i int) *Tensor {
	t := n.ConstInput(i)
	if t == nil || t.DType != Float {
		return nil
	}
	return t
}

// without returns order less the nodes in drop.
func without(order []*Node, drop map[*Node]bool) []*Node {
	if len(drop) == 0 {
		return order
	}
	out := order[:0:0]
	for _, n := range order {
		if !drop[n] {
			out = append(out, n)
		}
	}
	return out
}

// addConst defines a new constant value in g under a name derived from
// base that nothing else uses.
func addConst(g *Graph, base string, t *Tensor) string {
	name := base
	for i := 0; g.defined[name] || g.consts[name] != nil; i++ {
		name = base + "#" + string(rune('a'+i%26))
		if i >= 26 {
			name += string(rune('0' + i/26%10))
		}
	}
	g.consts[name] = t
	g.defined[name] = true
	return name
}

func foldBatchNorm(g *Graph, order []*Node, st *fuseStats) []*Node {
	sole := soleReaders(g, order)
	drop := map[*Node]bool{}
	for _, conv := range order {
		if conv.OpType != "Conv" || conv.Domain != "" || len(conv.Outputs) != 1 {
			continue
		}
		bn := sole[conv.Outputs[0]]
		if bn == nil || bn.OpType != "BatchNormalization" || bn.Domain != "" || drop[bn] ||
			len(bn.Inputs) != 5 || bn.Inputs[0] != conv.Outputs[0] {
			continue
		}
		if len(bn.Outputs) > 1 {
			continue // training outputs
		}
		if k, ok := bn.kernel.(*batchNormKernel); !ok || k.training {
			continue
		}
		ck, ok := conv.kernel.(*convKernel)
		if !ok || ck.act.kind != actNone {
			continue
		}
		w := constF32(conv, 1)
		var b *Tensor
		if len(conv.Inputs) > 2 && conv.Inputs[2] != "" {
			if b = constF32(conv, 2); b == nil {
				continue
			}
		}
		scale, bias, mean, vr := constF32(bn, 1), constF32(bn, 2), constF32(bn, 3), constF32(bn, 4)
		if w == nil || scale == nil || bias == nil || mean == nil || vr == nil || w.Rank() < 3 {
			continue
		}
		m := w.Shape[0]
		if scale.Size() != m || bias.Size() != m || mean.Size() != m || vr.Size() != m || b != nil && b.Size() != m {
			continue
		}
		eps := float64(bn.kernel.(*batchNormKernel).eps)
		per := w.Size() / m
		nw := NewTensor(Float, w.Shape...)
		nb := NewTensor(Float, m)
		for o := range m {
			s := float64(scale.F32[o]) / math.Sqrt(float64(vr.F32[o])+eps)
			for i, v := range w.F32[o*per : (o+1)*per] {
				nw.F32[o*per+i] = float32(float64(v) * s)
			}
			b0 := 0.0
			if b != nil {
				b0 = float64(b.F32[o])
			}
			nb.F32[o] = float32((b0-float64(mean.F32[o]))*s + float64(bias.F32[o]))
		}
		inputs := []string{conv.Inputs[0], addConst(g, bn.Outputs[0]+"/folded_W", nw), addConst(g, bn.Outputs[0]+"/folded_B", nb)}
		conv.Inputs = inputs
		conv.Outputs = []string{bn.Outputs[0]}
		drop[bn] = true
		st.bnFolded++
	}
	return without(order, drop)
}

func fuseMatMulAdd(g *Graph, order []*Node, st *fuseStats) []*Node {
	sole := soleReaders(g, order)
	drop := map[*Node]bool{}
	for _, mm := range order {
		if mm.OpType != "MatMul" || mm.Domain != "" || len(mm.Outputs) != 1 {
			continue
		}
		k, ok := mm.kernel.(*matMulKernel)
		if !ok || k.bias != nil || k.act.kind != actNone {
			continue
		}
		w := constF32(mm, 1)
		if w == nil || w.Rank() != 2 {
			continue
		}
		add := sole[mm.Outputs[0]]
		if add == nil || add.OpType != "Add" || add.Domain != "" || drop[add] || len(add.Inputs) != 2 || len(add.Outputs) != 1 {
			continue
		}
		bi := 1
		if add.Inputs[1] == mm.Outputs[0] {
			bi = 0
		}
		if add.Inputs[1-bi] != mm.Outputs[0] || add.Inputs[bi] == mm.Outputs[0] {
			continue
		}
		bias := constF32(add, bi)
		n := w.Shape[1]
		if bias == nil || bias.Size() != n || bias.Rank() < 1 || bias.Shape[bias.Rank()-1] != n {
			continue
		}
		// A 1-D bias never changes the output's shape (a [1, N] one would
		// for a 1-D A).
		if bias.Rank() != 1 {
			continue
		}
		mm.kernel = &matMulKernel{bias: bias}
		mm.Outputs = []string{add.Outputs[0]}
		drop[add] = true
		st.biasFused++
	}
	return without(order, drop)
}

func fuseActivation(g *Graph, order []*Node, st *fuseStats) []*Node {
	sole := soleReaders(g, order)
	drop := map[*Node]bool{}
	for _, p := range order {
		if p.Domain != "" || len(p.Outputs) != 1 {
			continue
		}
		var cur *act
		switch k := p.kernel.(type) {
		case *convKernel:
			cur = &k.act
		case *gemmKernel:
			cur = &k.act
		case *matMulKernel:
			cur = &k.act
		default:
			continue
		}
		// Follow the chain: torch exports ReLU6 as Relu then Clip.
		for {
			a := sole[p.Outputs[0]]
			if a == nil || a.Domain != "" || drop[a] || len(a.Outputs) != 1 || len(a.Inputs) == 0 {
				break
			}
			next, ok := activationOf(a, p.Outputs[0])
			if !ok {
				break
			}
			c, ok := compose(*cur, next)
			if !ok {
				break
			}
			*cur = c
			p.Outputs = []string{a.Outputs[0]}
			drop[a] = true
			st.actFused++
		}
	}
	return without(order, drop)
}

// activationOf returns the epilogue form of a node applied to the value
// x: Relu, LeakyRelu, the GELU, Clip with constant float32 bounds, or Max
// or Min of x and a constant float32 scalar (a one-sided clamp).
func activationOf(a *Node, x string) (act, bool) {
	inf := float32(math.Inf(1))
	if a.OpType != "Max" && a.OpType != "Min" && a.Inputs[0] != x {
		return act{}, false
	}
	switch a.OpType {
	case "Relu":
		return act{kind: actRelu}, true
	case "LeakyRelu":
		if k, ok := a.kernel.(*actKernel); ok && k.kind == aLeaky {
			return act{kind: actLeaky, alpha: k.a, lo: -inf, hi: inf}, true
		}
	case "Gelu":
		if _, ok := a.kernel.(geluKernel); ok {
			return act{kind: actGelu}, true
		}
	case "Max", "Min":
		if len(a.Inputs) != 2 {
			return act{}, false
		}
		c := other(a, x)
		i := 1
		if a.Inputs[0] == c {
			i = 0
		}
		if c == "" {
			return act{}, false
		}
		t := a.ConstInput(i)
		v, ok := scalarF32(t)
		if !ok || v != v {
			return act{}, false
		}
		if a.OpType == "Max" {
			return act{kind: actClip, lo: v, hi: inf}, true
		}
		return act{kind: actClip, lo: -inf, hi: v}, true
	case "Clip":
		ck, ok := a.kernel.(*clipKernel)
		if !ok {
			return act{}, false
		}
		lo, hi := -inf, inf
		if ck.attrs {
			lo, hi = ck.lo, ck.hi
		}
		for i, dst := range []*float32{&lo, &hi} {
			if len(a.Inputs) > i+1 && a.Inputs[i+1] != "" {
				t := a.ConstInput(i + 1)
				if t == nil || t.Size() != 1 || t.DType != Float {
					return act{}, false
				}
				*dst = t.F32[0]
			}
		}
		if !(lo <= hi) {
			return act{}, false
		}
		return act{kind: actClip, lo: lo, hi: hi}, true
	}
	return act{}, false
}

// compose returns the activation "first, then next", or false where the
// two have no single epilogue form (anything after a GELU or a leaky
// slope after a clamp).
func compose(first, next act) (act, bool) {
	if first.kind == actNone {
		return next, true
	}
	if next.kind == actNone {
		return first, true
	}
	if first.kind == actGelu || next.kind == actGelu || next.kind == actLeaky ||
		first.kind == actHardSwish || next.kind == actHardSwish {
		return act{}, false
	}
	// Both are clamps, or a leaky slope then a clamp: compose the clamps.
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if first.kind == actLeaky {
		lo, hi = first.lo, first.hi
	}
	for _, a := range []act{first, next} {
		switch a.kind {
		case actRelu:
			lo, hi = max(lo, 0), max(hi, 0)
		case actClip:
			lo, hi = min(max(lo, a.lo), a.hi), min(max(hi, a.lo), a.hi)
		}
	}
	if first.kind == actLeaky {
		return act{kind: actLeaky, alpha: first.alpha, lo: lo, hi: hi}, true
	}
	if lo == 0 && math.IsInf(float64(hi), 1) {
		return act{kind: actRelu}, true
	}
	return act{kind: actClip, lo: lo, hi: hi}, true
}

// fuseMatMulScale makes a MatMul followed by a division by (or product
// with) a constant float32 scalar one GEMM with alpha = 1/c (or c):
// attention's scores Q·Kᵀ/√d in one pass instead of two.
func fuseMatMulScale(g *Graph, order []*Node, st *fuseStats) []*Node {
	sole := soleReaders(g, order)
	drop := map[*Node]bool{}
	for _, mm := range order {
		if mm.OpType != "MatMul" || mm.Domain != "" || len(mm.Outputs) != 1 {
			continue
		}
		k, ok := mm.kernel.(*matMulKernel)
		if !ok || k.bias != nil || k.act.kind != actNone || k.scale != 0 {
			continue
		}
		op := sole[mm.Outputs[0]]
		if op == nil || op.Domain != "" || drop[op] || len(op.Inputs) != 2 || len(op.Outputs) != 1 {
			continue
		}
		var c float32
		switch {
		case op.OpType == "Div" && op.Inputs[0] == mm.Outputs[0] && op.Inputs[1] != mm.Outputs[0]:
			v, ok := scalarF32(op.ConstInput(1))
			if !ok || v == 0 || v != v {
				continue
			}
			c = 1 / v
		case op.OpType == "Mul":
			i := 1
			if op.Inputs[1] == mm.Outputs[0] {
				i = 0
			}
			if op.Inputs[1-i] != mm.Outputs[0] || op.Inputs[i] == mm.Outputs[0] {
				continue
			}
			v, ok := scalarF32(op.ConstInput(i))
			if !ok || v != v {
				continue
			}
			c = v
		default:
			continue
		}
		// A scalar of rank > 0 would broadcast the output to more
		// dimensions; only rank 0 and 1-element vectors of rank 1 pass.
		t := op.ConstInput(1)
		if op.OpType == "Mul" && op.Inputs[0] != mm.Outputs[0] {
			t = op.ConstInput(0)
		}
		if t.Rank() > 1 {
			continue
		}
		k.scale = c
		mm.Outputs = []string{op.Outputs[0]}
		drop[op] = true
		st.scaleFused++
	}
	return without(order, drop)
}
