package onnx

import (
	"fmt"
	"math"
)

// Integer and quantised linear algebra: MatMulInteger, ConvInteger,
// QLinearMatMul and QLinearConv. Operands less their zero points are
// small integers, exact in float64, so these run the float64 MatMul and
// Conv kernels (sums of 8-bit products stay far below 2⁵³, so the integer
// results are exact) and then requantise: round half to even, saturate.

func init() {
	Register("", "MatMulInteger", 10, Latest, func(n *Node) (Kernel, error) { return &qKernel{op: "MatMulInteger"}, n.Err() })
	Register("", "QLinearMatMul", 10, Latest, func(n *Node) (Kernel, error) { return &qKernel{op: "QLinearMatMul"}, n.Err() })
	Register("", "ConvInteger", 10, Latest, func(n *Node) (Kernel, error) { return newQConv(n, "ConvInteger") })
	Register("", "QLinearConv", 10, Latest, func(n *Node) (Kernel, error) { return newQConv(n, "QLinearConv") })
}

type qKernel struct {
	op   string
	conv Kernel // for the convolutions: a float64 Conv with the node's attributes
}

func newQConv(n *Node, op string) (Kernel, error) {
	c, err := newConv(n)
	if err != nil {
		return nil, err
	}
	return &qKernel{op: op, conv: c}, nil
}

// dequant returns t − zp (zp scalar or, along axis of t, one per index)
// times scale (nil: 1; scalar or per index along axis), as a Double tensor.
func dequant(t, zp, scale *Tensor, axis int) (*Tensor, error) {
	if t.DType.Storage() != StoreI64 {
		return nil, fmt.Errorf("operand type %v: %w", t.DType, ErrUnsupported)
	}
	o := NewTensor(Double, t.Shape...)
	inner := 1
	if axis >= 0 && axis < t.Rank() {
		inner = numel(t.Shape[axis+1:])
	}
	at := func(p *Tensor, i int, def float64) float64 {
		if p == nil || p.Size() == 0 {
			return def
		}
		if p.Size() == 1 {
			return p.Float64At(0)
		}
		return p.Float64At(i / inner % p.Size())
	}
	for _, p := range []*Tensor{zp, scale} {
		if p != nil && p.Size() > 1 && (axis < 0 || axis >= t.Rank() || p.Size() != t.Shape[axis]) {
			return nil, fmt.Errorf("zero point or scale shape %v does not fit operand shape %v", p.Shape, t.Shape)
		}
	}
	for i, v := range t.I64 {
		o.F64[i] = (float64(v) - at(zp, i, 0)) * at(scale, i, 1)
	}
	return o, nil
}

func (k *qKernel) Run(in, out []*Tensor) error {
	var a, b *Tensor
	var err error
	var yScale, yZP, bias *Tensor
	switch k.op {
	case "MatMulInteger":
		// a_zero_point per row of A (axis −2), b_zero_point per column of B.
		if a, err = dequant(in[0], Input(in, 2), nil, in[0].Rank()-2); err == nil {
			b, err = dequant(in[1], Input(in, 3), nil, in[1].Rank()-1)
		}
	case "QLinearMatMul":
		if a, err = dequant(in[0], in[2], in[1], in[0].Rank()-2); err == nil {
			b, err = dequant(in[3], in[5], in[4], in[3].Rank()-1)
		}
		yScale, yZP = in[6], Input(in, 7)
	case "ConvInteger":
		if a, err = dequant(in[0], Input(in, 2), nil, -1); err == nil {
			b, err = dequant(in[1], Input(in, 3), nil, 0)
		}
	case "QLinearConv":
		if a, err = dequant(in[0], in[2], in[1], -1); err == nil {
			b, err = dequant(in[3], in[5], in[4], 0)
		}
		yScale, yZP, bias = in[6], Input(in, 7), Input(in, 8)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", k.op, err)
	}
	y := &Tensor{}
	switch k.op {
	case "MatMulInteger", "QLinearMatMul":
		err = (&matMulKernel{}).Run([]*Tensor{a, b}, []*Tensor{y})
	default:
		ins := []*Tensor{a, b}
		if bias != nil {
			// int32 bias in the product's scale x_scale·w_scale.
			bb := NewTensor(Double, bias.Shape...)
			for i := range bb.F64 {
				s := in[1].Float64At(0) * in[4].Float64At(min(i, in[4].Size()-1))
				bb.F64[i] = float64(bias.I64[i]) * s
			}
			ins = append(ins, bb)
		}
		err = k.conv.Run(ins, []*Tensor{y})
	}
	if err != nil {
		return fmt.Errorf("%s: %v", k.op, err)
	}
	if yScale == nil {
		out[0].Reset(Int32, y.Shape)
		for i, v := range y.F64 {
			out[0].I64[i] = int64(math.Round(v))
		}
		return nil
	}
	dt := Uint8
	if yZP != nil {
		dt = yZP.DType
	}
	lo, hi, ok := intRange(dt)
	if !ok {
		return fmt.Errorf("%s: output type %v: %w", k.op, dt, ErrUnsupported)
	}
	out[0].Reset(dt, y.Shape)
	inner, per := 1, yScale.Size() > 1
	if per && y.Rank() >= 2 {
		inner = numel(y.Shape[2:]) // per output channel (conv)
	}
	for i, v := range y.F64 {
		j := 0
		if per {
			j = i / inner % yScale.Size()
		}
		z := 0.0
		if yZP != nil && yZP.Size() > 0 {
			z = yZP.Float64At(min(j, yZP.Size()-1))
		}
		q := math.RoundToEven(v/yScale.Float64At(j)) + z
		out[0].I64[i] = int64(min(max(q, lo), hi))
	}
	return nil
}
