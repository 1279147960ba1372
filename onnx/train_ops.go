package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/tensor"
)

// The ops a GraphModule records on a tape: for each ONNX op (default
// domain) the inputs that have a gradient and a constructor that reads the
// node's attributes once, at NewGraphModule, and returns the function that
// records the op on every forward pass. Each is built from autograd's ops,
// so every formula has one home; Erf, which autograd lacks, is an
// autograd.Function here.

// tapeFunc records one node on c.tp; in has one entry per node input (a
// zero tval for an absent optional one), the result one per output.
type tapeFunc[T tensor.Float] func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error)

type tapeEntry[T tensor.Float] struct {
	diff  uint32 // bit i: input i can take a gradient
	outs  uint32 // bit i: output i carries a gradient (0 means output 0 only)
	build func(n *Node) (tapeFunc[T], error)
}

var (
	tapeOps32 = tapeOpTable[float32]()
	tapeOps64 = tapeOpTable[float64]()
)

func tapeOps[T tensor.Float]() map[string]tapeEntry[T] {
	switch any(T(0)).(type) {
	case float32:
		return any(tapeOps32).(map[string]tapeEntry[T])
	default:
		return any(tapeOps64).(map[string]tapeEntry[T])
	}
}

// noGradOps have outputs that are constant almost everywhere in their
// inputs (shapes, comparisons, indices, rounding): they run on their
// inference kernels even when an input carries a gradient.
var noGradOps = map[string]bool{
	"Shape": true, "Size": true, "Equal": true, "Greater": true, "GreaterOrEqual": true,
	"Less": true, "LessOrEqual": true, "ArgMax": true, "ArgMin": true, "IsNaN": true,
	"IsInf": true, "NonZero": true, "Sign": true, "Floor": true, "Ceil": true, "Round": true,
	"EyeLike": true, "ConstantOfShape": true, "Not": true, "And": true, "Or": true, "Xor": true,
}

func noGradOp(n *Node) bool {
	if canonDomain(n.Domain) != "" {
		return false
	}
	if n.OpType == "Cast" {
		return !DataType(n.Int("to", int64(Float))).IsFloat()
	}
	return noGradOps[n.OpType]
}

func one[T tensor.Float](v *autograd.Var[T]) []tval[T] { return []tval[T]{{v: v}} }

// simple is an op with no attributes.
func simple[T tensor.Float](f func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error)) func(*Node) (tapeFunc[T], error) {
	return func(*Node) (tapeFunc[T], error) { return f, nil }
}

func unaryOp[T tensor.Float](f func(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T]) tapeEntry[T] {
	return tapeEntry[T]{diff: 1, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		return one(f(c.tp, c.v(in[0]))), nil
	})}
}

func binaryOp[T tensor.Float](f func(tp *autograd.Tape[T], a, b *autograd.Var[T]) *autograd.Var[T]) tapeEntry[T] {
	return tapeEntry[T]{diff: 3, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		return one(f(c.tp, c.v(in[0]), c.v(in[1]))), nil
	})}
}

func tapeOpTable[T tensor.Float]() map[string]tapeEntry[T] {
	type tp = autograd.Tape[T]
	identity := tapeEntry[T]{diff: 1, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		return in[:1], nil
	})}
	return map[string]tapeEntry[T]{
		"Identity": identity,
		"Add":      binaryOp((*tp).Add),
		"Sub":      binaryOp((*tp).Sub),
		"Mul":      binaryOp((*tp).Mul),
		"Div":      binaryOp((*tp).Div),
		"Relu":     unaryOp((*tp).Relu),
		"Sigmoid":  unaryOp((*tp).Sigmoid),
		"Tanh":     unaryOp((*tp).Tanh),
		"Exp":      unaryOp((*tp).Exp),
		"Log":      unaryOp((*tp).Log),
		"Sqrt":     unaryOp((*tp).Sqrt),
		"Neg":      unaryOp((*tp).Neg),
		"Abs":      unaryOp((*tp).Abs),
		"Sin":      unaryOp((*tp).Sin),
		"Cos":      unaryOp((*tp).Cos),
		"Reciprocal": unaryOp(func(t *tp, x *autograd.Var[T]) *autograd.Var[T] {
			return t.Pow(x, -1)
		}),
		"Erf":       erfOp[T](),
		"HardSwish": elemOp(hardSwish[T]()),
		"HardSigmoid": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			e := hardSigmoid[T](float64(n.Float("alpha", 0.2)), float64(n.Float("beta", 0.5)))
			return elemOp(e).build(n)
		}},
		"Clip":  {diff: 1, build: buildClip[T]},
		"Where": {diff: 6, build: simple(whereOp[T])},
		"Expand": {diff: 1, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
			req, err := c.ints(in[1], "shape")
			if err != nil {
				return nil, err
			}
			shape, err := broadcastTo2(nil, in[0].shape(), req)
			if err != nil {
				return nil, err
			}
			return one(expand(c, c.v(in[0]), shape)), nil
		})},
		"Sum": {diff: 0xffffffff, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
			y := c.v(in[0])
			for _, x := range in[1:] {
				y = c.tp.Add(y, c.v(x))
			}
			return one(y), nil
		})},
		"LeakyRelu": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			alpha := T(n.Float("alpha", 0.01))
			return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
				return one(c.tp.LeakyRelu(c.v(in[0]), alpha)), nil
			}, nil
		}},
		"Gelu": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			tanh := false
			switch a := n.String("approximate", "none"); a {
			case "none":
			case "tanh":
				tanh = true
			default:
				return nil, fmt.Errorf("approximate %q: %w", a, ErrUnsupported)
			}
			return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
				if tanh {
					return one(c.tp.Gelu(c.v(in[0]))), nil
				}
				return one(c.tp.GeluErf(c.v(in[0]))), nil
			}, nil
		}},
		"Pow": {diff: 1, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
			e := in[1].t
			if e == nil || e.Size() != 1 || !e.DType.IsFloat() && !e.DType.IsInt() {
				return nil, fmt.Errorf("exponent must be a constant scalar: %w", ErrUnsupported)
			}
			return one(c.tp.Pow(c.v(in[0]), T(e.Float64At(0)))), nil
		})},
		"Cast": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			return identity.build(n) // to a float type: the value is kept in T
		}},
		"Dropout": {diff: 1, build: buildDropout[T]},
		"MatMul":  {diff: 3, build: simple(matMul[T])},
		"Gemm":    {diff: 7, build: buildGemm[T]},
		"Conv":    {diff: 7, build: buildConv[T]},
		"MaxPool": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			return buildPool[T](n, true)
		}},
		"AveragePool": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			return buildPool[T](n, false)
		}},
		"GlobalAveragePool": {diff: 1, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
			if len(in[0].shape()) != 4 {
				return nil, fmt.Errorf("input shape %v is not N×C×H×W: %w", in[0].shape(), ErrUnsupported)
			}
			return one(c.tp.GlobalAvgPool2d(c.v(in[0]))), nil
		})},
		"BatchNormalization": {diff: 7, build: buildBatchNorm[T]},
		"LayerNormalization": {diff: 7, build: buildLayerNorm[T]},
		"Softmax":            {diff: 1, build: func(n *Node) (tapeFunc[T], error) { return buildSoftmax[T](n, false) }},
		"LogSoftmax":         {diff: 1, build: func(n *Node) (tapeFunc[T], error) { return buildSoftmax[T](n, true) }},
		"Flatten": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			axis := int(n.Int("axis", 1))
			return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
				s := in[0].shape()
				a, err := normAxis(axis, len(s)+1)
				if err != nil {
					return nil, err
				}
				return one(c.tp.Reshape(c.v(in[0]), numel(s[:a]), numel(s[a:]))), nil
			}, nil
		}},
		"Reshape": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			allowZero := n.Int("allowzero", 0) != 0
			attr := n.IntsAsInt("shape")
			return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
				want := attr
				if n.Opset >= 5 {
					var err error
					if want, err = c.ints(in[1], "shape"); err != nil {
						return nil, err
					}
				}
				s, err := reshapeShape(nil, in[0].shape(), want, allowZero)
				if err != nil {
					return nil, err
				}
				return one(c.tp.Reshape(c.v(in[0]), s...)), nil
			}, nil
		}},
		"Squeeze":   {diff: 1, build: func(n *Node) (tapeFunc[T], error) { return buildSqueeze[T](n, false) }},
		"Unsqueeze": {diff: 1, build: func(n *Node) (tapeFunc[T], error) { return buildSqueeze[T](n, true) }},
		"Transpose": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			perm := n.IntsAsInt("perm")
			return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
				r := len(in[0].shape())
				p := perm
				if p == nil {
					for i := range r {
						p = append(p, r-1-i)
					}
				}
				if len(p) != r {
					return nil, fmt.Errorf("perm %v for rank %d", p, r)
				}
				if r == 2 && p[0] == 1 && p[1] == 0 && in[0].vt == nil {
					// Left for a product to read through GEMM's flag.
					return []tval[T]{{vt: c.v(in[0])}}, nil
				}
				return one(c.tp.Permute(c.v(in[0]), p...)), nil
			}, nil
		}},
		"Concat": {diff: 0xffffffff, build: func(n *Node) (tapeFunc[T], error) {
			axis := int(n.Int("axis", 0))
			return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
				vs := make([]*autograd.Var[T], 0, len(in))
				for _, x := range in {
					if x.ok() {
						vs = append(vs, c.v(x))
					}
				}
				return one(c.tp.Concat(axis, vs...)), nil
			}, nil
		}},
		"Slice": {diff: 1, build: buildSlice[T]},
		"Split": {diff: 1, outs: 0xffffffff, build: buildSplit[T]},
		"Gather": {diff: 1, build: func(n *Node) (tapeFunc[T], error) {
			axis := int(n.Int("axis", 0))
			return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
				return gather(c, in[0], in[1], axis)
			}, nil
		}},
		"ReduceMean":      {diff: 1, build: func(n *Node) (tapeFunc[T], error) { return buildReduce[T](n, reduceMean) }},
		"ReduceSum":       {diff: 1, build: func(n *Node) (tapeFunc[T], error) { return buildReduce[T](n, reduceSum) }},
		"ReduceSumSquare": {diff: 1, build: func(n *Node) (tapeFunc[T], error) { return buildReduce[T](n, reduceSumSquare) }},
		"ReduceL2":        {diff: 1, build: func(n *Node) (tapeFunc[T], error) { return buildReduce[T](n, reduceL2) }},
		"Max":             {diff: 0xffffffff, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) { return extremum(c, in, true) })},
		"Min":             {diff: 0xffffffff, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) { return extremum(c, in, false) })},
		"Pad":             {diff: 1, build: buildPad[T]},
	}
}

// unusedOutputs returns an error naming what if the node uses any output
// from index from on: the optional outputs (Dropout's mask, MaxPool's
// indices, the norms' saved statistics) that the taped ops do not make.
func unusedOutputs(n *Node, from int, what string) error {
	for _, o := range n.Outputs[min(from, len(n.Outputs)):] {
		if o != "" {
			return fmt.Errorf("%s: %w", what, ErrUnsupported)
		}
	}
	return nil
}

func buildDropout[T tensor.Float](n *Node) (tapeFunc[T], error) {
	if err := unusedOutputs(n, 1, "the mask output"); err != nil {
		return nil, err
	}
	ratio := float64(n.Float("ratio", 0.5))
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		x := c.v(in[0])
		if !c.gm.Training() {
			return one(x), nil
		}
		p := ratio
		if n.Opset >= 12 {
			p = 0.5
			if len(in) > 1 && in[1].t != nil {
				p = in[1].t.Float64At(0)
			}
		}
		if p == 0 {
			return one(x), nil
		}
		return one(c.tp.Dropout(x, p, c.gm.rng)), nil
	}, nil
}

// mat returns a 2-D operand and whether it is to be read transposed.
func (c *tapeCtx[T]) mat(x tval[T]) (*autograd.Var[T], gemm.Transpose) {
	if x.vt != nil {
		return x.vt, gemm.Trans
	}
	return c.v(x), gemm.NoTrans
}

func flip(t gemm.Transpose) gemm.Transpose {
	if t == gemm.Trans {
		return gemm.NoTrans
	}
	return gemm.Trans
}

// matMul is numpy's matmul: a 2-D right operand is one GEMM over all the
// left operand's rows (a transposed one through GEMM's flag), otherwise
// the batch dimensions broadcast (BroadcastMatMul); 1-D operands gain and
// lose a unit dimension.
func matMul[T tensor.Float](c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
	a, b := in[0], in[1]
	sa, sb := a.shape(), b.shape()
	if len(sa) == 0 || len(sb) == 0 {
		return nil, fmt.Errorf("MatMul of a scalar: shapes %v, %v", sa, sb)
	}
	av, bv := c.v(a), tval[T]{}
	if len(sa) == 1 {
		av = c.tp.Reshape(av, 1, sa[0])
	}
	bv = b
	if len(sb) == 1 {
		bv = tval[T]{v: c.tp.Reshape(c.v(b), sb[0], 1)}
	}
	var y *autograd.Var[T]
	if len(bv.shape()) == 2 {
		w, tb := c.mat(bv)
		s := av.Shape()
		k := s[len(s)-1]
		x := av
		if len(s) > 2 {
			x = c.tp.Reshape(av, -1, k)
		}
		y = c.tp.MatMulT(x, w, gemm.NoTrans, tb)
		if len(s) > 2 {
			out := append(slices.Clone(s[:len(s)-1]), y.Shape()[1])
			y = c.tp.Reshape(y, out...)
		}
	} else {
		if len(av.Shape()) == 2 && len(bv.shape()) > 2 {
			av = c.tp.Reshape(av, append([]int{1}, av.Shape()...)...)
		}
		y = c.tp.BroadcastMatMul(av, c.v(bv), gemm.NoTrans, gemm.NoTrans)
	}
	s := y.Shape()
	switch {
	case len(sa) == 1 && len(sb) == 1:
		y = c.tp.Reshape(y)
	case len(sa) == 1:
		y = c.tp.Reshape(y, append(slices.Clone(s[:len(s)-2]), s[len(s)-1])...)
	case len(sb) == 1:
		y = c.tp.Reshape(y, s[:len(s)-1]...)
	}
	if len(sa) == 2 && len(sb) > 2 && len(y.Shape()) != len(sb) {
		y = c.tp.Reshape(y, y.Shape()[1:]...)
	}
	return one(y), nil
}

// buildGemm: Y = alpha·op(A)·op(B) + beta·C, one GEMM with transpose
// flags; PyTorch's Linear (transB, alpha = beta = 1, C a vector) is
// autograd's Linear, the bias written before the product.
func buildGemm[T tensor.Float](n *Node) (tapeFunc[T], error) {
	alpha, beta := T(n.Float("alpha", 1)), T(n.Float("beta", 1))
	tA, tB := gemm.NoTrans, gemm.NoTrans
	if n.Int("transA", 0) != 0 {
		tA = gemm.Trans
	}
	if n.Int("transB", 0) != 0 {
		tB = gemm.Trans
	}
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		if len(in[0].shape()) != 2 || len(in[1].shape()) != 2 {
			return nil, fmt.Errorf("Gemm operands %v, %v are not matrices", in[0].shape(), in[1].shape())
		}
		a, fa := c.mat(in[0])
		b, fb := c.mat(in[1])
		if tA == gemm.Trans {
			fa = flip(fa)
		}
		if tB == gemm.Trans {
			fb = flip(fb)
		}
		hasC := len(in) > 2 && in[2].ok()
		if fa == gemm.NoTrans && fb == gemm.Trans && alpha == 1 && beta == 1 &&
			(!hasC || len(in[2].shape()) == 1 && in[2].shape()[0] == b.Shape()[0]) {
			var bias *autograd.Var[T]
			if hasC {
				bias = c.v(in[2])
			}
			return one(c.tp.Linear(a, b, bias)), nil
		}
		y := c.tp.MatMulT(a, b, fa, fb)
		if alpha != 1 {
			y = c.tp.Scale(y, alpha)
		}
		if hasC && beta != 0 {
			cv := c.v(in[2])
			if beta != 1 {
				cv = c.tp.Scale(cv, beta)
			}
			y = c.tp.Add(y, cv)
		}
		return one(y), nil
	}, nil
}

// window2d reads a Conv's or pool's window with the inference kernels'
// reader (readWindow) and checks that every attribute it gives has two
// spatial dimensions: autograd's convolution and pools are 2-D.
func window2d(n *Node) (window, error) {
	w, err := readWindow(n)
	if err != nil {
		return w, err
	}
	for _, a := range []struct {
		name string
		v    []int
		len  int
	}{{"kernel_shape", w.kernel, 2}, {"strides", w.strides, 2}, {"dilations", w.dilations, 2}, {"pads", w.pads, 4}} {
		if a.v != nil && len(a.v) != a.len {
			return w, fmt.Errorf("%s %v (2-D ops only): %w", a.name, a.v, ErrUnsupported)
		}
	}
	return w, nil
}

// window2 is a 2-D window with the geometry of the last input it was
// resolved against: a GraphModule runs one pass at a time, and a pass
// after the first at the same size allocates nothing here.
type window2 struct {
	w     window
	in, k [2]int
	g     geom
	ok    bool
}

// resolve is window.resolve over the spatial sizes in (and kernel k from
// the weights, or nil); the result is shared with later calls, not to be
// changed.
func (c *window2) resolve(in, k []int) (geom, error) {
	var kk [2]int
	if k != nil {
		kk = [2]int{k[0], k[1]}
	}
	if c.ok && c.in == [2]int{in[0], in[1]} && c.k == kk {
		return c.g, nil
	}
	g, err := c.w.resolve(in, k)
	if err != nil {
		return g, err
	}
	c.in, c.k, c.g, c.ok = [2]int{in[0], in[1]}, kk, g, true
	return g, nil
}

func buildConv[T tensor.Float](n *Node) (tapeFunc[T], error) {
	w, err := window2d(n)
	if err != nil {
		return nil, err
	}
	groups := int(n.Int("group", 1))
	win := &window2{w: w}
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		x, wt := c.v(in[0]), c.v(in[1])
		sx, sw := x.Shape(), wt.Shape()
		if len(sx) != 4 || len(sw) != 4 {
			return nil, fmt.Errorf("input %v, weight %v: only 2-D convolution (N×C×H×W): %w", sx, sw, ErrUnsupported)
		}
		g, err := win.resolve(sx[2:], sw[2:])
		if err != nil {
			return nil, err
		}
		pad := [2]int{g.pb[0], g.pb[1]}
		if !g.symmetric() {
			// autograd pads both ends alike: the extra rows and columns
			// are zeros concatenated first.
			x = padConst(c, x, []int{0, 0, g.pb[0], g.pb[1], 0, 0, g.pe[0], g.pe[1]})
			pad = [2]int{}
		}
		var b *autograd.Var[T]
		if len(in) > 2 && in[2].ok() {
			b = c.v(in[2])
		}
		return one(c.tp.Conv2d(x, wt, b, autograd.Conv2dOptions{Stride: [2]int{g.s[0], g.s[1]},
			Padding: pad, Dilation: [2]int{g.d[0], g.d[1]}, Groups: groups})), nil
	}, nil
}

func buildPool[T tensor.Float](n *Node, isMax bool) (tapeFunc[T], error) {
	if err := unusedOutputs(n, 1, "the Indices output"); err != nil {
		return nil, err
	}
	if n.Int("storage_order", 0) != 0 {
		return nil, fmt.Errorf("storage_order 1: %w", ErrUnsupported)
	}
	w, err := window2d(n)
	if err != nil {
		return nil, err
	}
	switch {
	case w.kernel == nil:
		return nil, fmt.Errorf("kernel_shape is required")
	case w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER":
		return nil, fmt.Errorf("auto_pad SAME in pooling: %w", ErrUnsupported)
	case w.autoPad != "VALID" && w.pads != nil && (w.pads[0] != w.pads[2] || w.pads[1] != w.pads[3]):
		return nil, fmt.Errorf("asymmetric pads %v in pooling: %w", w.pads, ErrUnsupported)
	case !isMax && w.dilations != nil && (w.dilations[0] != 1 || w.dilations[1] != 1):
		return nil, fmt.Errorf("AveragePool dilations %v: %w", w.dilations, ErrUnsupported)
	}
	excludePad := n.Int("count_include_pad", 0) == 0
	win := &window2{w: w}
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		s := in[0].shape()
		if len(s) != 4 {
			return nil, fmt.Errorf("input shape %v is not N×C×H×W: %w", s, ErrUnsupported)
		}
		g, err := win.resolve(s[2:], nil)
		if err != nil {
			return nil, err
		}
		o := autograd.Pool2dOptions{Kernel: [2]int{g.k[0], g.k[1]}, Stride: [2]int{g.s[0], g.s[1]},
			Padding: [2]int{g.pb[0], g.pb[1]}, Dilation: [2]int{g.d[0], g.d[1]}, CeilMode: w.ceil, ExcludePad: excludePad}
		if isMax {
			return one(c.tp.MaxPool2d(c.v(in[0]), o)), nil
		}
		return one(c.tp.AvgPool2d(c.v(in[0]), o)), nil
	}, nil
}

// buildBatchNorm: the module's mode decides (as PyTorch's): batch
// statistics and a running update in training, the running statistics in
// evaluation. ONNX's momentum weights the old running value, PyTorch's
// (and autograd's) the batch's.
func buildBatchNorm[T tensor.Float](n *Node) (tapeFunc[T], error) {
	eps := float64(n.Float("epsilon", 1e-5))
	momentum := 1 - float64(n.Float("momentum", 0.9))
	if err := unusedOutputs(n, 3, "saved mean and variance outputs"); err != nil {
		return nil, err
	}
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		x := c.v(in[0])
		s := x.Shape()
		var x4 *autograd.Var[T]
		switch len(s) {
		case 2:
			x4 = c.tp.Reshape(x, s[0], s[1], 1, 1)
		case 3:
			x4 = c.tp.Reshape(x, s[0], s[1], s[2], 1)
		case 4:
			x4 = x
		default:
			return nil, fmt.Errorf("input shape %v: %w", s, ErrUnsupported)
		}
		stat := func(i int) (*tensor.Dense[T], bool) {
			if d := c.buf(i); d != nil {
				return d, true
			}
			return denseOf[T](in[i].t), false
		}
		mean, okm := stat(3)
		vr, okv := stat(4)
		o := autograd.BatchNormOptions{Training: c.gm.Training(), Momentum: momentum, Eps: eps}
		if o.Training && (momentum <= 0 || !okm || !okv) {
			// Nothing to update: batch statistics alone.
			mean, vr = nil, nil
		}
		y := c.tp.BatchNorm2d(x4, c.v(in[1]), c.v(in[2]), mean, vr, o)
		if len(s) != 4 {
			y = c.tp.Reshape(y, s...)
		}
		out := []tval[T]{{v: y}}
		if len(n.Outputs) > 1 {
			m, v := c.buf(3), c.buf(4)
			out = append(out, tval[T]{t: tensorOrNil(m, in[3])}, tval[T]{t: tensorOrNil(v, in[4])})
		}
		return out, nil
	}, nil
}

func tensorOrNil[T tensor.Float](d *tensor.Dense[T], x tval[T]) *Tensor {
	if d != nil {
		return tensorOf(d)
	}
	return x.t
}

func buildLayerNorm[T tensor.Float](n *Node) (tapeFunc[T], error) {
	axis := int(n.Int("axis", -1))
	eps := float64(n.Float("epsilon", 1e-5))
	if n.Int("stash_type", 1) != 1 {
		return nil, fmt.Errorf("stash_type %d: %w", n.Int("stash_type", 1), ErrUnsupported)
	}
	if err := unusedOutputs(n, 1, "Mean and InvStdDev outputs"); err != nil {
		return nil, err
	}
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		x := c.v(in[0])
		s := x.Shape()
		a, err := normAxis(axis, len(s))
		if err != nil {
			return nil, err
		}
		var w, b *autograd.Var[T]
		if in[1].ok() {
			w = c.v(in[1])
		}
		if len(in) > 2 && in[2].ok() {
			b = c.v(in[2])
		}
		return one(c.tp.LayerNormShape(x, s[a:], w, b, eps)), nil
	}, nil
}

// buildSoftmax: one axis from opset 13; before it, the input is read as a
// matrix of the dimensions before and from axis.
func buildSoftmax[T tensor.Float](n *Node, log bool) (tapeFunc[T], error) {
	def := int64(1)
	if n.Opset >= 13 {
		def = -1
	}
	axis := int(n.Int("axis", def))
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		x := c.v(in[0])
		s := x.Shape()
		a, err := normAxis(axis, len(s))
		if err != nil {
			return nil, err
		}
		f := c.tp.Softmax
		if log {
			f = c.tp.LogSoftmax
		}
		if n.Opset >= 13 || a == len(s)-1 {
			return one(f(x, a)), nil
		}
		y := f(c.tp.Reshape(x, numel(s[:a]), numel(s[a:])), 1)
		return one(c.tp.Reshape(y, s...)), nil
	}, nil
}

func buildSqueeze[T tensor.Float](n *Node, unsqueeze bool) (tapeFunc[T], error) {
	attr := n.IntsAsInt("axes")
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		axes := attr
		if n.Opset >= 13 && len(in) > 1 && in[1].ok() {
			var err error
			if axes, err = c.ints(in[1], "axes"); err != nil {
				return nil, err
			}
		}
		shape := squeezeShape
		if unsqueeze {
			shape = unsqueezeShape
		}
		out, err := shape(nil, in[0].shape(), axes)
		if err != nil {
			return nil, err
		}
		return one(c.tp.Reshape(c.v(in[0]), out...)), nil
	}, nil
}

func buildSlice[T tensor.Float](n *Node) (tapeFunc[T], error) {
	aStarts, aEnds, aAxes := n.IntsAsInt("starts"), n.IntsAsInt("ends"), n.IntsAsInt("axes")
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		starts, ends, axes := aStarts, aEnds, aAxes
		var steps []int
		if n.Opset >= 10 {
			var err error
			if starts, err = c.ints(in[1], "starts"); err != nil {
				return nil, err
			}
			if ends, err = c.ints(in[2], "ends"); err != nil {
				return nil, err
			}
			if len(in) > 3 && in[3].ok() {
				if axes, err = c.ints(in[3], "axes"); err != nil {
					return nil, err
				}
			}
			if len(in) > 4 && in[4].ok() {
				if steps, err = c.ints(in[4], "steps"); err != nil {
					return nil, err
				}
			}
		}
		s := in[0].shape()
		if axes == nil {
			for i := range starts {
				axes = append(axes, i)
			}
		}
		if len(starts) != len(ends) || len(axes) != len(starts) {
			return nil, fmt.Errorf("starts %v, ends %v, axes %v differ in length", starts, ends, axes)
		}
		x := c.v(in[0])
		for i, a := range axes {
			if steps != nil && steps[i] != 1 {
				return nil, fmt.Errorf("step %d: %w", steps[i], ErrUnsupported)
			}
			a, err := normAxis(a, len(s))
			if err != nil {
				return nil, err
			}
			lo, k := sliceAxis(starts[i], ends[i], 1, s[a])
			if lo != 0 || k != s[a] {
				x = c.tp.Slice(x, a, lo, lo+k)
			}
		}
		return one(x), nil
	}, nil
}

func buildSplit[T tensor.Float](n *Node) (tapeFunc[T], error) {
	axis := int(n.Int("axis", 0))
	attr := n.IntsAsInt("split")
	numOutputs := 0
	if n.Opset >= 18 {
		numOutputs = int(n.Int("num_outputs", 0))
	}
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		s := in[0].shape()
		a, err := normAxis(axis, len(s))
		if err != nil {
			return nil, err
		}
		parts := attr
		if n.Opset >= 13 && len(in) > 1 && in[1].ok() {
			if parts, err = c.ints(in[1], "split"); err != nil {
				return nil, err
			}
		}
		if parts, err = splitSizes(nil, parts, s[a], len(n.Outputs), numOutputs); err != nil {
			return nil, err
		}
		x := c.v(in[0])
		out := make([]tval[T], len(parts))
		lo := 0
		for i, p := range parts {
			out[i] = tval[T]{v: c.tp.Slice(x, a, lo, lo+p)}
			lo += p
		}
		return out, nil
	}, nil
}

// gather: rows of a table (axis 0) through Embedding, whose backward
// scatter-adds; other axes as slices joined by Concat.
func gather[T tensor.Float](c *tapeCtx[T], data, idx tval[T], axis int) ([]tval[T], error) {
	if idx.t == nil {
		return nil, fmt.Errorf("indices must not need a gradient")
	}
	ind, err := intsTo(nil, idx.t, "indices")
	if err != nil {
		return nil, err
	}
	s := data.shape()
	a, err := normAxis(axis, len(s))
	if err != nil {
		return nil, err
	}
	for i, v := range ind {
		if v < -s[a] || v >= s[a] {
			return nil, fmt.Errorf("index %d out of range for axis %d of shape %v", v, a, s)
		}
		if v < 0 {
			ind[i] += s[a]
		}
	}
	out := append(append(slices.Clone(s[:a]), idx.t.Shape...), s[a+1:]...)
	x := c.v(data)
	if a == 0 && len(ind) > 0 {
		y := c.tp.Embedding(c.tp.Reshape(x, s[0], -1), ind)
		return one(c.tp.Reshape(y, out...)), nil
	}
	if len(ind) == 0 {
		return nil, fmt.Errorf("empty indices: %w", ErrUnsupported)
	}
	parts := make([]*autograd.Var[T], len(ind))
	for i, v := range ind {
		parts[i] = c.tp.Slice(x, a, v, v+1)
	}
	y := parts[0]
	if len(parts) > 1 {
		y = c.tp.Concat(a, parts...)
	}
	return one(c.tp.Reshape(y, out...)), nil
}

type reduceKind uint8

const (
	reduceSum reduceKind = iota
	reduceMean
	reduceSumSquare // Σx², as Square then Sum
	reduceL2        // √Σx²
)

func buildReduce[T tensor.Float](n *Node, kind reduceKind) (tapeFunc[T], error) {
	keep := n.Int("keepdims", 1) != 0
	attr := n.IntsAsInt("axes")
	noop := n.Int("noop_with_empty_axes", 0) != 0
	mean := kind == reduceMean
	// Axes move from an attribute to an input at opset 13 for ReduceSum,
	// 18 for the others.
	fromInput := kind == reduceSum && n.Opset >= 13 || kind != reduceSum && n.Opset >= 18
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		axes := attr
		if fromInput && len(in) > 1 && in[1].ok() {
			var err error
			if axes, err = c.ints(in[1], "axes"); err != nil {
				return nil, err
			}
		}
		x := c.v(in[0])
		s := x.Shape()
		if len(axes) == 0 && noop {
			return one(x), nil
		}
		if kind == reduceSumSquare || kind == reduceL2 {
			x = c.tp.Square(x)
		}
		if len(axes) == 0 {
			for i := range s {
				axes = append(axes, i)
			}
		}
		red := make([]bool, len(s))
		for _, a := range axes {
			a, err := normAxis(a, len(s))
			if err != nil {
				return nil, err
			}
			red[a] = true
		}
		var out []int
		for i := len(s) - 1; i >= 0; i-- {
			if red[i] {
				if mean {
					x = c.tp.MeanAxis(x, i)
				} else {
					x = c.tp.SumAxis(x, i)
				}
			}
		}
		for i, d := range s {
			if !red[i] {
				out = append(out, d)
			} else if keep {
				out = append(out, 1)
			}
		}
		x = c.tp.Reshape(x, out...)
		if kind == reduceL2 {
			x = c.tp.Sqrt(x)
		}
		return one(x), nil
	}, nil
}

// extremum is the elementwise Max or Min of its inputs, broadcast; the
// adjoint goes to the input that was chosen, split evenly on ties (as
// PyTorch's maximum and minimum).
func extremum[T tensor.Float](c *tapeCtx[T], in []tval[T], isMax bool) ([]tval[T], error) {
	shapes := make([][]int, len(in))
	for i, x := range in {
		shapes[i] = x.shape()
	}
	shape, err := BroadcastShape(shapes...)
	if err != nil {
		return nil, err
	}
	y := expand(c, c.v(in[0]), shape)
	for _, x := range in[1:] {
		y = c.tp.Apply(extremumFunc[T]{isMax}, y, expand(c, c.v(x), shape))
	}
	return one(y), nil
}

type extremumFunc[T tensor.Float] struct{ isMax bool }

func (e extremumFunc[T]) Name() string {
	if e.isMax {
		return "Max"
	}
	return "Min"
}

func (e extremumFunc[T]) Forward(ctx *autograd.Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T] {
	a, b := in[0].Contiguous(), in[1].Contiguous()
	y := ctx.Alloc(a.Shape()...)
	yd, ad, bd := y.Data(), a.Data(), b.Data()
	for i := range yd {
		if e.isMax == (ad[i] >= bd[i]) {
			yd[i] = ad[i]
		} else {
			yd[i] = bd[i]
		}
	}
	ctx.Save(a, b)
	return y
}

func (e extremumFunc[T]) Backward(ctx *autograd.Context[T], gy *tensor.Dense[T], gx ...*tensor.Dense[T]) {
	sv := ctx.Saved()
	a, b, g := sv[0].Data(), sv[1].Data(), gy.Contiguous().Data()
	for i := range g {
		wa := T(0)
		switch {
		case a[i] == b[i]:
			wa = 0.5
		case e.isMax == (a[i] > b[i]):
			wa = 1
		}
		if gx[0] != nil {
			gx[0].Data()[i] += wa * g[i]
		}
		if gx[1] != nil {
			gx[1].Data()[i] += (1 - wa) * g[i]
		}
	}
}

func buildPad[T tensor.Float](n *Node) (tapeFunc[T], error) {
	if m := n.String("mode", "constant"); m != "constant" {
		return nil, fmt.Errorf("mode %q: %w", m, ErrUnsupported)
	}
	attr := n.IntsAsInt("pads")
	value := float64(n.Float("value", 0))
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		pads, v := attr, value
		if n.Opset >= 11 {
			var err error
			if pads, err = c.ints(in[1], "pads"); err != nil {
				return nil, err
			}
			if len(in) > 2 && in[2].t != nil && in[2].t.Size() == 1 {
				v = in[2].t.Float64At(0)
			}
			if len(in) > 3 && in[3].ok() {
				return nil, fmt.Errorf("axes input: %w", ErrUnsupported)
			}
		}
		x := c.v(in[0])
		if len(pads) != 2*len(x.Shape()) {
			return nil, fmt.Errorf("pads %v for rank %d", pads, len(x.Shape()))
		}
		if v != 0 {
			return nil, fmt.Errorf("constant value %v: %w", v, ErrUnsupported)
		}
		for _, p := range pads {
			if p < 0 {
				return nil, fmt.Errorf("negative pads %v: %w", pads, ErrUnsupported)
			}
		}
		return one(padConst(c, x, pads)), nil
	}, nil
}

// padConst pads x with zeros, pads = [begin_0, ..., begin_r-1, end_0, ...]:
// per axis a Concat with zero constants, so backward is Concat's slices.
func padConst[T tensor.Float](c *tapeCtx[T], x *autograd.Var[T], pads []int) *autograd.Var[T] {
	r := len(x.Shape())
	for a := range r {
		lo, hi := pads[a], pads[a+r]
		if lo == 0 && hi == 0 {
			continue
		}
		parts := make([]*autograd.Var[T], 0, 3)
		zeros := func(k int) *autograd.Var[T] {
			s := slices.Clone(x.Shape())
			s[a] = k
			return c.tp.Const(tensor.New[T](s...))
		}
		if lo > 0 {
			parts = append(parts, zeros(lo))
		}
		parts = append(parts, x)
		if hi > 0 {
			parts = append(parts, zeros(hi))
		}
		x = c.tp.Concat(a, parts...)
	}
	return x
}

// elemFunc is an elementwise op that autograd lacks, as an
// autograd.Function: y = f(x), x̄ += ȳ·df(x), both in float64.
type elemFunc[T tensor.Float] struct {
	name string
	f    func(x float64) float64
	df   func(x float64) float64
}

func (e *elemFunc[T]) Name() string { return e.name }

func (e *elemFunc[T]) Forward(ctx *autograd.Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T] {
	x := in[0].Contiguous()
	y := ctx.Alloc(x.Shape()...)
	yd := y.Data()
	for i, v := range x.Data() {
		yd[i] = T(e.f(float64(v)))
	}
	ctx.Save(x)
	return y
}

func (e *elemFunc[T]) Backward(ctx *autograd.Context[T], gy *tensor.Dense[T], gx ...*tensor.Dense[T]) {
	if gx[0] == nil {
		return
	}
	x := ctx.Saved()[0].Data()
	g := gy.Contiguous().Data()
	d := gx[0].Data()
	for i, v := range x {
		d[i] += T(float64(g[i]) * e.df(float64(v)))
	}
}

func elemOp[T tensor.Float](e *elemFunc[T]) tapeEntry[T] {
	return tapeEntry[T]{diff: 1, build: simple(func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		return one(c.tp.Apply(e, c.v(in[0]))), nil
	})}
}

func erfOp[T tensor.Float]() tapeEntry[T] {
	return elemOp(&elemFunc[T]{name: "Erf", f: math.Erf,
		df: func(x float64) float64 { return 2 / math.SqrtPi * math.Exp(-x*x) }})
}

// hardSigmoid is max(0, min(1, αx + β)); its gradient α inside (0, 1).
func hardSigmoid[T tensor.Float](alpha, beta float64) *elemFunc[T] {
	return &elemFunc[T]{name: "HardSigmoid",
		f: func(x float64) float64 { return mathx.HardSigmoid(x, alpha, beta) },
		df: func(x float64) float64 {
			if v := alpha*x + beta; v > 0 && v < 1 {
				return alpha
			}
			return 0
		}}
}

// HardSwish is x·HardSigmoid(x) with α = 1/6, β = 1/2; PyTorch's gradient.
func hardSwish[T tensor.Float]() *elemFunc[T] {
	return &elemFunc[T]{name: "HardSwish",
		f: mathx.HardSwish[float64],
		df: func(x float64) float64 {
			switch {
			case x < -3:
				return 0
			case x <= 3:
				return x/3 + 0.5
			}
			return 1
		}}
}

// clip bounds x to [lo, hi]; the gradient passes where lo ≤ x ≤ hi, as
// torch.clamp's.
func clip[T tensor.Float](lo, hi float64) *elemFunc[T] {
	return &elemFunc[T]{name: "Clip",
		f: func(x float64) float64 { return max(lo, min(hi, x)) },
		df: func(x float64) float64 {
			if x >= lo && x <= hi {
				return 1
			}
			return 0
		}}
}

func buildClip[T tensor.Float](n *Node) (tapeFunc[T], error) {
	lo, hi := float64(n.Float("min", float32(math.Inf(-1)))), float64(n.Float("max", float32(math.Inf(1))))
	return func(c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
		l, h := lo, hi
		if n.Opset >= 11 {
			l, h = math.Inf(-1), math.Inf(1)
			for i, b := range []*float64{&l, &h} {
				if len(in) > i+1 && in[i+1].ok() {
					if in[i+1].t == nil || in[i+1].t.Size() != 1 {
						return nil, fmt.Errorf("bounds must be constant scalars: %w", ErrUnsupported)
					}
					*b = in[i+1].t.Float64At(0)
				}
			}
		}
		return one(c.tp.Apply(clip[T](l, h), c.v(in[0]))), nil
	}, nil
}

// whereFunc selects a where cond holds, else b; a and b already have the
// output's shape, and so has cond.
type whereFunc[T tensor.Float] struct{ cond []bool }

func (whereFunc[T]) Name() string { return "Where" }

func (w *whereFunc[T]) Forward(ctx *autograd.Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T] {
	a, b := in[0].Contiguous().Data(), in[1].Contiguous().Data()
	y := ctx.Alloc(in[0].Shape()...)
	yd := y.Data()
	for i, c := range w.cond {
		if c {
			yd[i] = a[i]
		} else {
			yd[i] = b[i]
		}
	}
	return y
}

func (w *whereFunc[T]) Backward(ctx *autograd.Context[T], gy *tensor.Dense[T], gx ...*tensor.Dense[T]) {
	g := gy.Contiguous().Data()
	for k, want := range []bool{true, false} {
		if gx[k] == nil {
			continue
		}
		d := gx[k].Data()
		for i, c := range w.cond {
			if c == want {
				d[i] += g[i]
			}
		}
	}
}

// expand broadcasts x to shape by adding zeros of that shape, so that
// backward is the broadcast's sum.
func expand[T tensor.Float](c *tapeCtx[T], x *autograd.Var[T], shape []int) *autograd.Var[T] {
	if slices.Equal(x.Shape(), shape) {
		return x
	}
	return c.tp.Add(x, c.tp.Const(tensor.New[T](shape...)))
}

func whereOp[T tensor.Float](c *tapeCtx[T], in []tval[T]) ([]tval[T], error) {
	if in[0].t == nil || in[0].t.DType != Bool {
		return nil, fmt.Errorf("condition must be a constant bool tensor")
	}
	shape, err := BroadcastShape(in[0].t.Shape, in[1].shape(), in[2].shape())
	if err != nil {
		return nil, err
	}
	cond := &Tensor{}
	broadcastTo(cond, in[0].t, shape)
	a, b := expand(c, c.v(in[1]), shape), expand(c, c.v(in[2]), shape)
	return one(c.tp.Apply(&whereFunc[T]{cond: cond.B[:numel(shape)]}, a, b)), nil
}
