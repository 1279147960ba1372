package onnx

import (
	"fmt"
	"math"
)

// Reductions: Reduce{Sum,Mean,Max,Min,Prod,L1,L2,LogSum,LogSumExp,SumSquare}
// and ArgMax/ArgMin.

func init() {
	for _, op := range []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
		"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"} {
		op := op
		inputFrom := 18 // axes moved from attribute to input
		if op == "ReduceSum" {
			inputFrom = 13
		}
		Register("", op, 1, inputFrom-1, func(n *Node) (Kernel, error) { return newReduce(n, op, true) })
		Register("", op, inputFrom, Latest, func(n *Node) (Kernel, error) { return newReduce(n, op, false) })
	}
	Register("", "ArgMax", 1, Latest, func(n *Node) (Kernel, error) { return newArg(n, true) })
	Register("", "ArgMin", 1, Latest, func(n *Node) (Kernel, error) { return newArg(n, false) })
}

type reduceKernel struct {
	op       string
	axes     []int
	attr     bool
	keepdims bool
	noop     bool
	buf      scratch // reduceMiddle's accumulators, one per concurrent Run
}

func newReduce(n *Node, op string, attr bool) (Kernel, error) {
	return &reduceKernel{op: op, axes: n.IntsAsInt("axes"), attr: attr,
		keepdims: n.Int("keepdims", 1) != 0, noop: n.Int("noop_with_empty_axes", 0) != 0}, nil
}

// reduceShape resolves axes against shape: the mask of reduced axes and the
// output shape (with or without kept dims), appended to mask and out (a
// caller's stack buffers, so that a run allocates nothing).
func reduceShape(mask []bool, out, shape, axes []int, keep bool) ([]bool, []int, error) {
	r := len(shape)
	for range r {
		mask = append(mask, false)
	}
	if len(axes) == 0 {
		for i := range mask {
			mask[i] = true
		}
	}
	for _, a := range axes {
		a, err := normAxis(a, r)
		if err != nil {
			return nil, nil, err
		}
		mask[a] = true
	}
	for i, d := range shape {
		switch {
		case !mask[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return mask, out, nil
}

func (k *reduceKernel) Run(in, out []*Tensor) error {
	x := in[0]
	var ab [8]int
	axes, err := intsArg(ab[:0], k.axes, k.attr, in, "axes")
	if err != nil {
		return err
	}
	o := out[0]
	if len(axes) == 0 && k.noop {
		o.CopyFrom(x)
		return nil
	}
	var mb [8]bool
	var sb [8]int
	mask, shape, err := reduceShape(mb[:0], sb[:0], x.Shape, axes, k.keepdims)
	if err != nil {
		return err
	}
	if k.reduceTrailing(x, o, mask, shape) || k.reduceMiddle(x, o, mask, shape) {
		return nil
	}
	// Output strides over the input's axes: 0 on reduced axes.
	r := len(x.Shape)
	ost := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		if !mask[i] {
			ost[i] = s
			s *= x.Shape[i]
		}
	}
	ist := strides(x.Shape)
	no := s
	cnt := 1
	for i, d := range x.Shape {
		if mask[i] {
			cnt *= d
		}
	}
	switch x.DType.Storage() {
	case StoreI64:
		acc := make([]int64, no)
		var init int64
		switch k.op {
		case "ReduceProd":
			init = 1
		case "ReduceMax":
			init = math.MinInt64
		case "ReduceMin":
			init = math.MaxInt64
		}
		for i := range acc {
			acc[i] = init
		}
		ForBroadcast(x.Shape, [][]int{ist, ost}, func(_ int, idx []int) {
			v, a := x.I64[idx[0]], &acc[idx[1]]
			switch k.op {
			case "ReduceSum", "ReduceMean":
				*a += v
			case "ReduceProd":
				*a *= v
			case "ReduceMax":
				*a = max(*a, v)
			case "ReduceMin":
				*a = min(*a, v)
			case "ReduceL1":
				if v < 0 {
					v = -v
				}
				*a += v
			case "ReduceSumSquare", "ReduceL2":
				*a += v * v
			default:
				*a += v
			}
		})
		o.Reset(x.DType, shape)
		for i, v := range acc {
			switch k.op {
			case "ReduceMean":
				if cnt > 0 {
					v /= int64(cnt)
				}
			case "ReduceL2":
				v = int64(math.Sqrt(float64(v)))
			case "ReduceLogSum", "ReduceLogSumExp":
				return fmt.Errorf("%s on integers: %w", k.op, ErrUnsupported)
			}
			o.I64[i] = v
		}
		return nil
	case StoreF32, StoreF64:
	default:
		return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
	}
	acc := make([]float64, no)
	init := floatReduceInit(k.op)
	var mx []float64
	if k.op == "ReduceLogSumExp" {
		// Subtract each output's max for stability.
		mx = make([]float64, no)
		for i := range mx {
			mx[i] = math.Inf(-1)
		}
		ForBroadcast(x.Shape, [][]int{ist, ost}, func(_ int, idx []int) {
			mx[idx[1]] = max(mx[idx[1]], x.Float64At(idx[0]))
		})
		for i, m := range mx {
			if math.IsInf(m, 0) {
				mx[i] = 0
			}
		}
	}
	for i := range acc {
		acc[i] = init
	}
	f32 := x.DType.Storage() == StoreF32
	ForBroadcast(x.Shape, [][]int{ist, ost}, func(_ int, idx []int) {
		var v float64
		if f32 {
			v = float64(x.F32[idx[0]])
		} else {
			v = x.F64[idx[0]]
		}
		a := &acc[idx[1]]
		if k.op == "ReduceLogSumExp" {
			*a += math.Exp(v - mx[idx[1]])
		} else {
			*a = floatReduceStep(k.op, *a, v)
		}
	})
	o.Reset(x.DType, shape)
	for i, v := range acc {
		v = floatReduceFinish(k.op, v, cnt)
		if k.op == "ReduceLogSumExp" {
			v += mx[i]
		}
		setFloat(o, i, v)
	}
	return nil
}

// floatReduceInit is a float reduction's starting value.
func floatReduceInit(op string) float64 {
	switch op {
	case "ReduceProd":
		return 1
	case "ReduceMax":
		return math.Inf(-1)
	case "ReduceMin":
		return math.Inf(1)
	}
	return 0
}

// floatReduceStep folds v into acc (not for ReduceLogSumExp, which its
// caller sums as exp(v - max)). Max and Min propagate NaN.
func floatReduceStep(op string, acc, v float64) float64 {
	switch op {
	case "ReduceSum", "ReduceMean", "ReduceLogSum":
		return acc + v
	case "ReduceProd":
		return acc * v
	case "ReduceMax":
		if v > acc || v != v {
			return v
		}
		return acc
	case "ReduceMin":
		if v < acc || v != v {
			return v
		}
		return acc
	case "ReduceL1":
		return acc + math.Abs(v)
	case "ReduceL2", "ReduceSumSquare":
		return acc + v*v
	}
	return acc
}

// floatReduceFinish turns the folded acc of cnt elements into the result
// (ReduceLogSumExp still without the max its caller subtracted).
func floatReduceFinish(op string, acc float64, cnt int) float64 {
	switch op {
	case "ReduceMean":
		return acc / float64(cnt)
	case "ReduceL2":
		return math.Sqrt(acc)
	case "ReduceLogSum", "ReduceLogSumExp":
		return math.Log(acc)
	}
	return acc
}

func newArg(n *Node, isMax bool) (Kernel, error) {
	axis := int(n.Int("axis", 0))
	keep := n.Int("keepdims", 1) != 0
	last := n.Int("select_last_index", 0) != 0
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		a, err := normAxis(axis, len(x.Shape))
		if err != nil {
			return err
		}
		_, shape, _ := reduceShape(nil, nil, x.Shape, []int{a}, keep)
		outer, d, inner := numel(x.Shape[:a]), x.Shape[a], numel(x.Shape[a+1:])
		if d == 0 {
			return fmt.Errorf("arg reduction over an empty axis")
		}
		o := out[0]
		o.Reset(Int64, shape)
		switch x.DType.Storage() {
		case StoreF32, StoreF64, StoreI64:
		default:
			return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
		}
		for i := range outer {
			for j := range inner {
				base := i*d*inner + j
				best, bi := x.Float64At(base), 0
				for t := 1; t < d; t++ {
					v := x.Float64At(base + t*inner)
					better := v > best
					if !isMax {
						better = v < best
					}
					if better || (last && v == best) {
						best, bi = v, t
					}
				}
				o.I64[i*inner+j] = int64(bi)
			}
		}
		return nil
	}), nil
}

// reduceTrailing handles float reductions over trailing axes (LayerNorm's
// ReduceMean over the last axis): each output element reduces one
// contiguous run of the input, with no accumulator array. It reports false
// when it does not apply.
func (k *reduceKernel) reduceTrailing(x, o *Tensor, mask []bool, shape []int) bool {
	st := x.DType.Storage()
	if st != StoreF32 && st != StoreF64 || k.op == "ReduceLogSumExp" {
		return false
	}
	r := len(mask)
	first := r
	for first > 0 && mask[first-1] {
		first--
	}
	for i := 0; i < first; i++ {
		if mask[i] {
			return false
		}
	}
	if first == r {
		return false // nothing reduced
	}
	inner := numel(x.Shape[first:])
	outer := numel(x.Shape[:first])
	if inner == 0 {
		return false
	}
	o.Reset(x.DType, shape)
	for i := range outer {
		acc := floatReduceInit(k.op)
		for j := i * inner; j < (i+1)*inner; j++ {
			var v float64
			if st == StoreF32 {
				v = float64(x.F32[j])
			} else {
				v = x.F64[j]
			}
			acc = floatReduceStep(k.op, acc, v)
		}
		setFloat(o, i, floatReduceFinish(k.op, acc, inner))
	}
	return true
}

// reduceMiddle handles float reductions over one run of adjacent axes with
// axes after it kept (sentence pooling's ReduceMean over the tokens of
// [B, T, H]): for each outer index the reduced rows of inner elements are
// accumulated in order into a row of inner accumulators, the order the
// general loop takes, so the result is the same. It reports false when it
// does not apply.
func (k *reduceKernel) reduceMiddle(x, o *Tensor, mask []bool, shape []int) bool {
	st := x.DType.Storage()
	if st != StoreF32 && st != StoreF64 || k.op == "ReduceLogSumExp" {
		return false
	}
	a := 0
	for a < len(mask) && !mask[a] {
		a++
	}
	b := a
	for b < len(mask) && mask[b] {
		b++
	}
	for _, m := range mask[b:] {
		if m {
			return false
		}
	}
	if a == len(mask) || b == len(mask) {
		return false // nothing reduced, or trailing (reduceTrailing's)
	}
	outer, red, inner := numel(x.Shape[:a]), numel(x.Shape[a:b]), numel(x.Shape[b:])
	if outer*red*inner == 0 {
		return false
	}
	o.Reset(x.DType, shape)
	bp := getScratch[float64](&k.buf, inner)
	defer putScratch(&k.buf, bp)
	acc := *bp
	init := floatReduceInit(k.op)
	sum := k.op == "ReduceSum" || k.op == "ReduceMean" || k.op == "ReduceLogSum"
	for i := range outer {
		for j := range acc {
			acc[j] = init
		}
		for r := range red {
			off := (i*red + r) * inner
			switch {
			case sum && st == StoreF32: // floatReduceStep's sum, without its switch per element
				for j, v := range x.F32[off : off+inner] {
					acc[j] += float64(v)
				}
			case sum:
				for j, v := range x.F64[off : off+inner] {
					acc[j] += v
				}
			case st == StoreF32:
				for j, v := range x.F32[off : off+inner] {
					acc[j] = floatReduceStep(k.op, acc[j], float64(v))
				}
			default:
				for j, v := range x.F64[off : off+inner] {
					acc[j] = floatReduceStep(k.op, acc[j], v)
				}
			}
		}
		for j, v := range acc {
			setFloat(o, i*inner+j, floatReduceFinish(k.op, v, red))
		}
	}
	return true
}
