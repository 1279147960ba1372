package onnx

import (
	"fmt"
	"slices"
	"sync"
)

// Control flow: If, Loop, Scan. A node's subgraphs read outer-scope values
// through the node's implicit inputs (Node.Implicit, passed after the
// explicit inputs); each subgraph's free names map to positions there.

func init() {
	Register("", "If", 1, Latest, newIf)
	Register("", "Loop", 1, Latest, newLoop)
	Register("", "Scan", 9, Latest, newScan)
}

// subgraph runs a compiled graph as part of a node.
type subgraph struct {
	g     *Graph
	outer []int // index into the node's in slice of each g.free name
	pool  *sync.Pool
}

func newSubgraph(n *Node, g *Graph) *subgraph {
	s := &subgraph{g: g, pool: &sync.Pool{New: func() any { return g.plan.newState() }}}
	for _, f := range g.free {
		for j, name := range n.Implicit {
			if name == f {
				s.outer = append(s.outer, len(n.Inputs)+j)
			}
		}
	}
	return s
}

// run executes the subgraph with inputs bound to its declared inputs and
// copies its outputs into outs.
func (s *subgraph) run(nodeIn []*Tensor, inputs []*Tensor, outs []*Tensor) error {
	p := s.g.plan
	if len(inputs) != len(p.inputs) {
		return fmt.Errorf("subgraph %q takes %d inputs, given %d", s.g.Name, len(p.inputs), len(inputs))
	}
	if len(outs) != len(p.outputs) {
		return fmt.Errorf("subgraph %q has %d outputs, want %d", s.g.Name, len(p.outputs), len(outs))
	}
	rs := s.pool.Get().(*runState)
	defer func() {
		rs.clear()
		s.pool.Put(rs)
	}()
	for i, sl := range p.inputs {
		rs.vals[sl] = inputs[i]
	}
	for i, sl := range p.free {
		rs.vals[sl] = nodeIn[s.outer[i]]
	}
	if err := p.exec(rs); err != nil {
		return err
	}
	for i, sl := range p.outputs {
		v := rs.vals[sl]
		if v == nil {
			return fmt.Errorf("subgraph output %q has no value", s.g.Outputs[i].Name)
		}
		outs[i].CopyFrom(v)
	}
	return nil
}

func newIf(n *Node) (Kernel, error) {
	tg, eg := n.GraphAttr("then_branch"), n.GraphAttr("else_branch")
	if tg == nil || eg == nil {
		return nil, n.Errorf("missing then_branch or else_branch")
	}
	if len(tg.Outputs) != len(n.Outputs) || len(eg.Outputs) != len(n.Outputs) {
		return nil, n.Errorf("branches have %d and %d outputs, node %d", len(tg.Outputs), len(eg.Outputs), len(n.Outputs))
	}
	then, els := newSubgraph(n, tg), newSubgraph(n, eg)
	return KernelFunc(func(in, out []*Tensor) error {
		c := in[0]
		if c.Size() != 1 || c.DType != Bool {
			return fmt.Errorf("condition %v%v is not a bool scalar", c.DType, c.Shape)
		}
		if c.B[0] {
			return then.run(in, nil, out)
		}
		return els.run(in, nil, out)
	}), nil
}

func newLoop(n *Node) (Kernel, error) {
	body := n.GraphAttr("body")
	if body == nil {
		return nil, n.Errorf("missing body")
	}
	nCarried := len(n.Inputs) - 2
	if nCarried < 0 || len(body.Inputs) != nCarried+2 || len(body.Outputs) < nCarried+1 {
		return nil, n.Errorf("body has %d inputs, %d outputs for %d inputs", len(body.Inputs), len(body.Outputs), len(n.Inputs))
	}
	nScan := len(body.Outputs) - 1 - nCarried
	if len(n.Outputs) != nCarried+nScan {
		return nil, n.Errorf("%d outputs, body gives %d carried + %d scan", len(n.Outputs), nCarried, nScan)
	}
	sg := newSubgraph(n, body)
	return KernelFunc(func(in, out []*Tensor) error {
		maxTrip := int64(-1)
		if m := in[0]; m != nil {
			if m.Size() != 1 || m.DType.Storage() != StoreI64 {
				return fmt.Errorf("M is %v%v, want an int64 scalar", m.DType, m.Shape)
			}
			maxTrip = m.I64[0]
		}
		cond := true
		if c := in[1]; c != nil {
			if c.Size() != 1 || c.DType != Bool {
				return fmt.Errorf("cond is %v%v, want a bool scalar", c.DType, c.Shape)
			}
			cond = c.B[0]
		}
		if maxTrip < 0 && in[1] == nil {
			return fmt.Errorf("loop without a trip count or condition")
		}
		carried := make([]*Tensor, nCarried)
		for i := range carried {
			if in[2+i] == nil {
				return fmt.Errorf("loop-carried input %d missing", i)
			}
			carried[i] = in[2+i].Clone()
		}
		bodyOut := make([]*Tensor, len(body.Outputs))
		for i := range bodyOut {
			bodyOut[i] = &Tensor{}
		}
		scans := make([][]*Tensor, nScan)
		iter := &Tensor{DType: Int64, Shape: []int{}, I64: []int64{0}}
		condT := &Tensor{DType: Bool, Shape: []int{}, B: []bool{cond}}
		args := make([]*Tensor, 0, 2+nCarried)
		for it := int64(0); (maxTrip < 0 || it < maxTrip) && cond; it++ {
			iter.I64[0] = it
			condT.B[0] = cond
			args = append(append(args[:0], iter, condT), carried...)
			if err := sg.run(in, args, bodyOut); err != nil {
				return err
			}
			co := bodyOut[0]
			if co.Size() != 1 || co.DType != Bool {
				return fmt.Errorf("body condition is %v%v", co.DType, co.Shape)
			}
			cond = co.B[0]
			carryOver(bodyOut[1:], carried, scans)
		}
		for i := range carried {
			out[i].CopyFrom(carried[i])
		}
		for i, s := range scans {
			if err := stack(out[nCarried+i], s, body.Outputs[1+nCarried+i].DType); err != nil {
				return err
			}
		}
		return nil
	}), nil
}

// stack concatenates equally shaped tensors along a new axis 0.
func stack(o *Tensor, ts []*Tensor, dt DataType) error {
	if len(ts) == 0 {
		if dt == Undefined {
			dt = Float
		}
		o.Reset(dt, []int{0})
		return nil
	}
	x := ts[0]
	shape := append([]int{len(ts)}, x.Shape...)
	o.Reset(x.DType, shape)
	n := x.Size()
	for i, t := range ts {
		if t.DType != x.DType || !sameShape(t.Shape, x.Shape) {
			return fmt.Errorf("scan output %d is %v%v, earlier %v%v", i, t.DType, t.Shape, x.DType, x.Shape)
		}
		copyRange(o, i*n, t, 0, n)
	}
	return nil
}

// carryOver ends one iteration of a Loop or Scan body whose outputs
// (after Loop's condition) are outs: the first len(state) become the new
// state, and clones of the next len(scans) are appended to scans.
func carryOver(outs, state []*Tensor, scans [][]*Tensor) {
	for i := range state {
		state[i].CopyFrom(outs[i])
	}
	for i := range scans {
		scans[i] = append(scans[i], outs[len(state)+i].Clone())
	}
}

func sameShape(a, b []int) bool { return slices.Equal(a, b) }

func newScan(n *Node) (Kernel, error) {
	body := n.GraphAttr("body")
	if body == nil {
		return nil, n.Errorf("missing body")
	}
	m := int(n.Int("num_scan_inputs", 0))
	nState := len(n.Inputs) - m
	if m < 1 || nState < 0 || len(body.Inputs) != len(n.Inputs) || len(body.Outputs) != len(n.Outputs) || len(n.Outputs) < nState {
		return nil, n.Errorf("num_scan_inputs %d with %d inputs, %d outputs; body %d/%d", m, len(n.Inputs), len(n.Outputs), len(body.Inputs), len(body.Outputs))
	}
	nScanOut := len(n.Outputs) - nState
	inDirs := n.IntsAsInt("scan_input_directions")
	outDirs := n.IntsAsInt("scan_output_directions")
	inAxes := n.IntsAsInt("scan_input_axes")
	outAxes := n.IntsAsInt("scan_output_axes")
	if (inDirs != nil && len(inDirs) != m) || (inAxes != nil && len(inAxes) != m) ||
		(outDirs != nil && len(outDirs) != nScanOut) || (outAxes != nil && len(outAxes) != nScanOut) {
		return nil, n.Errorf("scan direction/axis attributes do not match the inputs and outputs")
	}
	get := func(v []int, i int) int {
		if v == nil {
			return 0
		}
		return v[i]
	}
	sg := newSubgraph(n, body)
	return KernelFunc(func(in, out []*Tensor) error {
		state := make([]*Tensor, nState)
		for i := range state {
			state[i] = in[i].Clone()
		}
		// Move each scan input's axis to the front.
		scanIn := make([]*Tensor, m)
		T := -1
		for i := range m {
			x := in[nState+i]
			a, err := normAxis(get(inAxes, i), len(x.Shape))
			if err != nil {
				return err
			}
			scanIn[i] = moveAxisFront(x, a)
			if T >= 0 && scanIn[i].Shape[0] != T {
				return fmt.Errorf("scan inputs have lengths %d and %d", T, scanIn[i].Shape[0])
			}
			T = scanIn[i].Shape[0]
		}
		bodyOut := make([]*Tensor, len(body.Outputs))
		for i := range bodyOut {
			bodyOut[i] = &Tensor{}
		}
		slices := make([]*Tensor, m)
		for i := range slices {
			slices[i] = &Tensor{}
		}
		scans := make([][]*Tensor, nScanOut)
		for t := range T {
			for i, x := range scanIn {
				tt := t
				if get(inDirs, i) == 1 {
					tt = T - 1 - t
				}
				inner := numel(x.Shape[1:])
				slices[i].Reset(x.DType, x.Shape[1:])
				copyRange(slices[i], 0, x, tt*inner, inner)
			}
			args := append(append([]*Tensor{}, state...), slices...)
			if err := sg.run(in, args, bodyOut); err != nil {
				return err
			}
			carryOver(bodyOut, state, scans)
		}
		for i := range state {
			out[i].CopyFrom(state[i])
		}
		for i, s := range scans {
			if get(outDirs, i) == 1 {
				for a, b := 0, len(s)-1; a < b; a, b = a+1, b-1 {
					s[a], s[b] = s[b], s[a]
				}
			}
			st := &Tensor{}
			if err := stack(st, s, body.Outputs[nState+i].DType); err != nil {
				return err
			}
			a, err := normAxis(get(outAxes, i), len(st.Shape))
			if err != nil {
				return err
			}
			out[nState+i].CopyFrom(moveAxisFrom0(st, a))
		}
		return nil
	}), nil
}

// moveAxisFront returns x with axis a moved to position 0.
func moveAxisFront(x *Tensor, a int) *Tensor {
	if a == 0 {
		return x
	}
	r := len(x.Shape)
	perm := []int{a}
	for i := range r {
		if i != a {
			perm = append(perm, i)
		}
	}
	o := &Tensor{}
	_ = transposeKernel{perm: perm}.Run([]*Tensor{x}, []*Tensor{o})
	return o
}

// moveAxisFrom0 returns x with axis 0 moved to position a.
func moveAxisFrom0(x *Tensor, a int) *Tensor {
	if a == 0 {
		return x
	}
	r := len(x.Shape)
	perm := make([]int, 0, r)
	for i := 1; i <= a; i++ {
		perm = append(perm, i)
	}
	perm = append(perm, 0)
	for i := a + 1; i < r; i++ {
		perm = append(perm, i)
	}
	o := &Tensor{}
	_ = transposeKernel{perm: perm}.Run([]*Tensor{x}, []*Tensor{o})
	return o
}

func init() {
	Register("", "Scan", 8, 8, newScan8)
}

// newScan8 is opset 8's Scan: every state and scan input has a leading
// batch axis, scan inputs scan their axis 1, and sequence_lens (input 0,
// optional) may stop a batch entry early (its scan outputs are then
// zero-padded).
func newScan8(n *Node) (Kernel, error) {
	body := n.GraphAttr("body")
	if body == nil {
		return nil, n.Errorf("missing body")
	}
	m := int(n.Int("num_scan_inputs", 0))
	nState := len(n.Inputs) - 1 - m
	if m < 1 || nState < 0 || len(body.Inputs) != nState+m || len(body.Outputs) != len(n.Outputs) || len(n.Outputs) < nState {
		return nil, n.Errorf("num_scan_inputs %d with %d inputs, %d outputs; body %d/%d", m, len(n.Inputs), len(n.Outputs), len(body.Inputs), len(body.Outputs))
	}
	dirs := n.IntsAsInt("directions")
	if dirs != nil && len(dirs) != m {
		return nil, n.Errorf("directions %v for %d scan inputs", dirs, m)
	}
	nScanOut := len(n.Outputs) - nState
	sg := newSubgraph(n, body)
	return KernelFunc(func(in, out []*Tensor) error {
		var batch, T = -1, -1
		for i := 1; i < len(n.Inputs); i++ {
			x := in[i]
			if x == nil || len(x.Shape) < 1 || (i > nState && len(x.Shape) < 2) {
				return fmt.Errorf("input %d missing or of too low rank", i)
			}
			if batch >= 0 && x.Shape[0] != batch {
				return fmt.Errorf("inputs disagree on the batch size")
			}
			batch = x.Shape[0]
			if i > nState {
				if T >= 0 && x.Shape[1] != T {
					return fmt.Errorf("scan inputs have lengths %d and %d", T, x.Shape[1])
				}
				T = x.Shape[1]
			}
		}
		lens := make([]int, batch)
		for b := range lens {
			lens[b] = T
		}
		if sl := in[0]; sl != nil {
			if sl.DType.Storage() != StoreI64 || sl.Size() != batch {
				return fmt.Errorf("sequence_lens %v%v for batch %d", sl.DType, sl.Shape, batch)
			}
			for b, v := range sl.I64 {
				if v < 0 || v > int64(T) {
					return fmt.Errorf("sequence length %d out of range [0, %d]", v, T)
				}
				lens[b] = int(v)
			}
		}
		row := func(x *Tensor, i, per int, shape []int) *Tensor {
			t := &Tensor{}
			t.Reset(x.DType, shape)
			copyRange(t, 0, x, i*per, per)
			return t
		}
		finals := make([][]*Tensor, nState)
		scans := make([][]*Tensor, nScanOut) // per output, per batch: stacked [T, ...]
		bodyOut := make([]*Tensor, len(body.Outputs))
		for i := range bodyOut {
			bodyOut[i] = &Tensor{}
		}
		for b := range batch {
			state := make([]*Tensor, nState)
			for i := range state {
				x := in[1+i]
				state[i] = row(x, b, numel(x.Shape[1:]), x.Shape[1:])
			}
			steps := make([][]*Tensor, nScanOut)
			for t := range lens[b] {
				args := append([]*Tensor{}, state...)
				for j := range m {
					x := in[1+nState+j]
					tt := t
					if dirs != nil && dirs[j] == 1 {
						tt = lens[b] - 1 - t
					}
					per := numel(x.Shape[2:])
					args = append(args, row(x, b*T+tt, per, x.Shape[2:]))
				}
				if err := sg.run(in, args, bodyOut); err != nil {
					return err
				}
				carryOver(bodyOut, state, steps)
			}
			for i := range state {
				finals[i] = append(finals[i], state[i])
			}
			for i, s := range steps {
				st := &Tensor{}
				if err := stack(st, s, body.Outputs[nState+i].DType); err != nil {
					return err
				}
				scans[i] = append(scans[i], st)
			}
		}
		for i, f := range finals {
			if err := stack(out[i], f, body.Outputs[i].DType); err != nil {
				return err
			}
		}
		for i, s := range scans {
			// Pad short sequences to T steps with zeros, then stack batches.
			var elem []int
			for _, st := range s {
				if len(st.Shape) > 0 && st.Shape[0] > 0 {
					elem = st.Shape[1:]
				}
			}
			padded := make([]*Tensor, len(s))
			for b, st := range s {
				p := &Tensor{}
				p.Reset(st.DType, append([]int{T}, elem...))
				p.Zero()
				copyRange(p, 0, st, 0, st.Size())
				padded[b] = p
			}
			if err := stack(out[nState+i], padded, body.Outputs[nState+i].DType); err != nil {
				return err
			}
		}
		return nil
	}), nil
}
