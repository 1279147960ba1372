package onnx

import "fmt"

// Sequence and Optional ops. A sequence is a Tensor of DType Sequence whose
// elements are in Seq; an optional is DType Optional with zero or one value.

func init() {
	Register("", "SequenceEmpty", 11, Latest, func(n *Node) (Kernel, error) {
		dt := DataType(n.Int("dtype", int64(Float)))
		return KernelFunc(func(in, out []*Tensor) error {
			out[0].Reset(Sequence, nil)
			out[0].Elem = dt
			return nil
		}), nil
	})
	Register("", "SequenceConstruct", 11, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error {
			o := out[0]
			o.Reset(Sequence, nil)
			for i, t := range in {
				if t == nil || t.DType.Storage() == StoreSeq || t.DType != in[0].DType {
					return fmt.Errorf("input %d is not a tensor of the first input's type", i)
				}
				o.Append(t)
			}
			o.Elem = in[0].DType
			return nil
		}), nil
	})
	Register("", "SequenceInsert", 11, Latest, func(n *Node) (Kernel, error) { return KernelFunc(runSequenceInsert), nil })
	Register("", "SequenceAt", 11, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error {
			s, err := seqOf(in[0])
			if err != nil {
				return err
			}
			p, err := seqPosition(in[1], len(s.Seq), false)
			if err != nil {
				return err
			}
			out[0].CopyFrom(s.Seq[p])
			return nil
		}), nil
	})
	Register("", "SequenceErase", 11, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error {
			s, err := seqOf(in[0])
			if err != nil {
				return err
			}
			p := len(s.Seq) - 1
			if t := Input(in, 1); t != nil {
				if p, err = seqPosition(t, len(s.Seq), false); err != nil {
					return err
				}
			}
			if p < 0 {
				return fmt.Errorf("erase from an empty sequence")
			}
			o := out[0]
			o.Reset(Sequence, nil)
			o.Elem = s.Elem
			for i, e := range s.Seq {
				if i != p {
					o.Append(e)
				}
			}
			return nil
		}), nil
	})
	Register("", "SequenceLength", 11, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error {
			s, err := seqOf(in[0])
			if err != nil {
				return err
			}
			out[0].Reset(Int64, nil)
			out[0].I64[0] = int64(len(s.Seq))
			return nil
		}), nil
	})
	Register("", "ConcatFromSequence", 11, Latest, newConcatFromSequence)
	Register("", "SplitToSequence", 11, Latest, newSplitToSequence)
	Register("", "SequenceMap", 17, Latest, newSequenceMap)
	Register("", "Optional", 15, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error {
			o := out[0]
			o.Reset(Optional, nil)
			if x := Input(in, 0); x != nil {
				o.Append(x)
				o.Elem = x.DType
			}
			return nil
		}), nil
	})
	Register("", "OptionalHasElement", 15, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error {
			x := Input(in, 0)
			has := x != nil && (x.DType != Optional || len(x.Seq) == 1)
			out[0].Reset(Bool, nil)
			out[0].B[0] = has
			return nil
		}), nil
	})
	Register("", "OptionalGetElement", 15, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error {
			x := in[0]
			if x.DType != Optional {
				out[0].CopyFrom(x) // opset 18: a plain value is its own element
				return nil
			}
			if len(x.Seq) == 0 {
				return fmt.Errorf("optional has no value")
			}
			out[0].CopyFrom(x.Seq[0])
			return nil
		}), nil
	})
}

func seqOf(t *Tensor) (*Tensor, error) {
	if t == nil || t.DType != Sequence {
		return nil, fmt.Errorf("input is not a sequence")
	}
	return t, nil
}

// seqPosition reads a position in [-n, n-1] (or [-n, n] when inserting).
func seqPosition(t *Tensor, n int, insert bool) (int, error) {
	if t.Size() != 1 || t.DType.Storage() != StoreI64 {
		return 0, fmt.Errorf("position is %v%v, want an integer scalar", t.DType, t.Shape)
	}
	p := t.I64[0]
	hi := int64(n - 1)
	if insert {
		hi = int64(n)
	}
	if p < -int64(n) || p > hi {
		return 0, fmt.Errorf("position %d out of range for a sequence of %d", p, n)
	}
	if p < 0 {
		p += int64(n)
	}
	return int(p), nil
}

func runSequenceInsert(in, out []*Tensor) error {
	s, err := seqOf(in[0])
	if err != nil {
		return err
	}
	x := in[1]
	if len(s.Seq) > 0 && x.DType != s.Seq[0].DType {
		return fmt.Errorf("inserting %v into a sequence of %v", x.DType, s.Seq[0].DType)
	}
	p := len(s.Seq)
	if t := Input(in, 2); t != nil {
		if p, err = seqPosition(t, len(s.Seq), true); err != nil {
			return err
		}
	}
	o := out[0]
	o.Reset(Sequence, nil)
	o.Elem = x.DType
	for i := 0; i <= len(s.Seq); i++ {
		if i == p {
			o.Append(x)
		}
		if i < len(s.Seq) {
			o.Append(s.Seq[i])
		}
	}
	return nil
}

func newConcatFromSequence(n *Node) (Kernel, error) {
	axis := int(n.Int("axis", 0))
	newAxis := n.Int("new_axis", 0) != 0
	return KernelFunc(func(in, out []*Tensor) error {
		s, err := seqOf(in[0])
		if err != nil {
			return err
		}
		if len(s.Seq) == 0 {
			return fmt.Errorf("empty sequence")
		}
		parts := s.Seq
		if newAxis {
			r := len(parts[0].Shape) + 1
			a, err := normAxis(axis, r)
			if err != nil {
				return err
			}
			parts = make([]*Tensor, len(s.Seq))
			for i, e := range s.Seq {
				shape := append(append(append([]int{}, e.Shape[:a]...), 1), e.Shape[a:]...)
				parts[i] = &Tensor{DType: e.DType, Shape: shape, F32: e.F32, F64: e.F64, I64: e.I64, B: e.B, S: e.S}
			}
			return concatKernel{axis: a}.Run(parts, out)
		}
		return concatKernel{axis: axis}.Run(parts, out)
	}), nil
}

func newSplitToSequence(n *Node) (Kernel, error) {
	axis := int(n.Int("axis", 0))
	keep := n.Int("keepdims", 1) != 0
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		a, err := normAxis(axis, len(x.Shape))
		if err != nil {
			return err
		}
		d := x.Shape[a]
		var split []int
		squeeze := false
		if t := Input(in, 1); t != nil {
			v, err := t.Ints()
			if err != nil {
				return err
			}
			if len(t.Shape) == 0 {
				if v[0] <= 0 {
					return fmt.Errorf("split %d", v[0])
				}
				for r := d; r > 0; r -= v[0] {
					split = append(split, min(v[0], r))
				}
			} else {
				split = v
			}
		} else {
			split = make([]int, d)
			for i := range split {
				split[i] = 1
			}
			squeeze = !keep
		}
		parts := make([]*Tensor, len(split))
		for i := range parts {
			parts[i] = &Tensor{}
		}
		if err := (splitKernel{axis: a, split: split, attr: true}).Run([]*Tensor{x}, parts); err != nil {
			return err
		}
		o := out[0]
		o.Reset(Sequence, nil)
		o.Elem = x.DType
		for _, p := range parts {
			if squeeze {
				p.Shape = append(p.Shape[:a:a], p.Shape[a+1:]...)
			}
			o.Append(p)
		}
		return nil
	}), nil
}

func newSequenceMap(n *Node) (Kernel, error) {
	body := n.GraphAttr("body")
	if body == nil {
		return nil, n.Errorf("missing body")
	}
	if len(body.Inputs) != len(n.Inputs) || len(body.Outputs) != len(n.Outputs) {
		return nil, n.Errorf("body has %d inputs / %d outputs, node %d / %d", len(body.Inputs), len(body.Outputs), len(n.Inputs), len(n.Outputs))
	}
	sg := newSubgraph(n, body)
	return KernelFunc(func(in, out []*Tensor) error {
		s, err := seqOf(in[0])
		if err != nil {
			return err
		}
		nIn := len(n.Inputs)
		for _, o := range out {
			o.Reset(Sequence, nil)
		}
		res := make([]*Tensor, len(out))
		for i := range res {
			res[i] = &Tensor{}
		}
		args := make([]*Tensor, nIn)
		for i := range s.Seq {
			args[0] = s.Seq[i]
			for j := 1; j < nIn; j++ {
				a := in[j]
				if a != nil && a.DType == Sequence {
					if len(a.Seq) != len(s.Seq) {
						return fmt.Errorf("sequence inputs have lengths %d and %d", len(s.Seq), len(a.Seq))
					}
					a = a.Seq[i]
				}
				args[j] = a
			}
			if err := sg.run(in, args, res); err != nil {
				return err
			}
			for k, o := range out {
				o.Append(res[k])
				o.Elem = res[k].DType
			}
		}
		return nil
	}), nil
}
