package onnx

import (
	"fmt"
	"strconv"
)

// Logic, comparison and Where.

func init() {
	for _, op := range []string{"And", "Or", "Xor"} {
		op := op
		Register("", op, 7, Latest, func(n *Node) (Kernel, error) { return newBoolBinary(op), nil })
	}
	cmp := func(op string, from int) {
		Register("", op, from, Latest, func(n *Node) (Kernel, error) { return newCompare(op), nil })
	}
	cmp("Equal", 7)
	cmp("Less", 7)
	cmp("Greater", 7)
	cmp("LessOrEqual", 12)
	cmp("GreaterOrEqual", 12)
	Register("", "Where", 9, Latest, func(n *Node) (Kernel, error) { return KernelFunc(runWhere), nil })
}

func newBoolBinary(op string) Kernel {
	var f func(a, b bool) bool
	switch op {
	case "And":
		f = func(a, b bool) bool { return a && b }
	case "Or":
		f = func(a, b bool) bool { return a || b }
	default:
		f = func(a, b bool) bool { return a != b }
	}
	return KernelFunc(func(in, out []*Tensor) error {
		a, b := in[0], in[1]
		if a.DType != Bool || b.DType != Bool {
			return fmt.Errorf("input types %v, %v: want bool", a.DType, b.DType)
		}
		var sb [8]int
		shape, err := broadcastTo2(sb[:0], a.Shape, b.Shape)
		if err != nil {
			return err
		}
		out[0].Reset(Bool, shape)
		bcast2(a.B, b.B, a.Shape, b.Shape, out[0].B, shape, f)
		return nil
	})
}

type compareKernel struct {
	op  string
	f32 func(a, b float32) bool
	f64 func(a, b float64) bool
	i64 func(a, b int64) bool
	str func(a, b string) bool
}

func newCompare(op string) compareKernel {
	return compareKernel{op: op, f32: cmpFn[float32](op), f64: cmpFn[float64](op), i64: cmpFn[int64](op), str: cmpFn[string](op)}
}

func cmpFn[T int64 | float32 | float64 | string](op string) func(a, b T) bool {
	switch op {
	case "Equal":
		return func(a, b T) bool { return a == b }
	case "Less":
		return func(a, b T) bool { return a < b }
	case "Greater":
		return func(a, b T) bool { return a > b }
	case "LessOrEqual":
		return func(a, b T) bool { return a <= b }
	}
	return func(a, b T) bool { return a >= b }
}

func (k compareKernel) Run(in, out []*Tensor) error {
	op := k.op
	a, b := in[0], in[1]
	var sb [8]int
	shape, err := binaryShape(sb[:0], a, b)
	if err != nil {
		return err
	}
	o := out[0]
	o.Reset(Bool, shape)
	switch a.DType.Storage() {
	case StoreF32:
		bcast2(a.F32, b.F32, a.Shape, b.Shape, o.B, shape, k.f32)
	case StoreF64:
		bcast2(a.F64, b.F64, a.Shape, b.Shape, o.B, shape, k.f64)
	case StoreI64:
		if a.DType == Uint64 {
			f := cmpFn[float64](op)
			bcast2(a.I64, b.I64, a.Shape, b.Shape, o.B, shape, func(x, y int64) bool {
				if x == y {
					return f(0, 0)
				}
				if uint64(x) < uint64(y) {
					return f(0, 1)
				}
				return f(1, 0)
			})
			break
		}
		bcast2(a.I64, b.I64, a.Shape, b.Shape, o.B, shape, k.i64)
	case StoreStr:
		bcast2(a.S, b.S, a.Shape, b.Shape, o.B, shape, k.str)
	case StoreBool:
		if op != "Equal" {
			return fmt.Errorf("%s on bool: %w", op, ErrUnsupported)
		}
		bcast2(a.B, b.B, a.Shape, b.Shape, o.B, shape, func(x, y bool) bool { return x == y })
	default:
		return fmt.Errorf("input type %v: %w", a.DType, ErrUnsupported)
	}
	return nil
}

func runWhere(in, out []*Tensor) error {
	c, x, y := in[0], in[1], in[2]
	if c.DType != Bool {
		return fmt.Errorf("condition is %v, want bool", c.DType)
	}
	if x.DType != y.DType {
		return fmt.Errorf("X is %v, Y is %v", x.DType, y.DType)
	}
	var b1, b2, s1, s2, s3 [8]int
	xy, err := broadcastTo2(b1[:0], x.Shape, y.Shape)
	if err != nil {
		return err
	}
	shape, err := broadcastTo2(b2[:0], c.Shape, xy)
	if err != nil {
		return err
	}
	o := out[0]
	o.Reset(x.DType, shape)
	st := [3][]int{stridesTo(s1[:0], c.Shape, shape), stridesTo(s2[:0], x.Shape, shape), stridesTo(s3[:0], y.Shape, shape)}
	switch x.DType.Storage() {
	case StoreF32:
		where(c.B, x.F32, y.F32, o.F32, shape, st)
	case StoreF64:
		where(c.B, x.F64, y.F64, o.F64, shape, st)
	case StoreI64:
		where(c.B, x.I64, y.I64, o.I64, shape, st)
	case StoreBool:
		where(c.B, x.B, y.B, o.B, shape, st)
	case StoreStr:
		where(c.B, x.S, y.S, o.S, shape, st)
	}
	return nil
}

func where[T any](c []bool, x, y, o []T, shape []int, st [3][]int) {
	if len(c) == len(o) && len(x) == len(o) && len(y) == len(o) {
		for i := range o {
			if c[i] {
				o[i] = x[i]
			} else {
				o[i] = y[i]
			}
		}
		return
	}
	if len(o) == 0 {
		return
	}
	// Row by row: along the last axis each operand steps by 0 or 1.
	r := len(shape)
	inner := shape[r-1]
	sc, sx, sy := st[0][r-1], st[1][r-1], st[2][r-1]
	var cb [8]int
	ctr := append(cb[:0], make([]int, r)...)
	pc, px, py := 0, 0, 0
	for i := 0; i < len(o); i += inner {
		for j := range inner {
			if c[pc+j*sc] {
				o[i+j] = x[px+j*sx]
			} else {
				o[i+j] = y[py+j*sy]
			}
		}
		for d := r - 2; d >= 0; d-- {
			ctr[d]++
			pc += st[0][d]
			px += st[1][d]
			py += st[2][d]
			if ctr[d] < shape[d] {
				break
			}
			pc -= st[0][d] * shape[d]
			px -= st[1][d] * shape[d]
			py -= st[2][d] * shape[d]
			ctr[d] = 0
		}
	}
}

// ---- Cast ----

func init() {
	Register("", "Cast", 6, Latest, newCast)
	Register("", "CastLike", 15, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error { return castTo(in[0], out[0], in[1].DType) }), nil
	})
	Register("", "Identity", 1, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error { out[0].CopyFrom(in[0]); return nil }), nil
	})
}

func newCast(n *Node) (Kernel, error) {
	to := DataType(n.Int("to", 0))
	if to.Storage() == StoreNone {
		return nil, n.Errorf("cast to %v: %w", to, ErrUnsupported)
	}
	return KernelFunc(func(in, out []*Tensor) error { return castTo(in[0], out[0], to) }), nil
}

func castTo(x, o *Tensor, to DataType) error {
	if to.Storage() == StoreNone || x.DType.Storage() == StoreNone {
		return fmt.Errorf("cast %v to %v: %w", x.DType, to, ErrUnsupported)
	}
	o.Reset(to, x.Shape)
	n := x.Size()
	src, dst := x.DType.Storage(), to.Storage()
	switch {
	case src == dst && src != StoreI64:
		o.CopyFrom(x)
		o.DType = to
	case dst == StoreStr:
		for i := 0; i < n; i++ {
			o.S[i] = formatElem(x, i)
		}
	case src == StoreStr:
		for i := 0; i < n; i++ {
			v, err := strconv.ParseFloat(x.S[i], 64)
			if err != nil && to.IsFloat() {
				return fmt.Errorf("cannot parse %q as a number", x.S[i])
			}
			if to.IsInt() {
				if iv, err := strconv.ParseInt(x.S[i], 10, 64); err == nil {
					o.I64[i] = iv
					continue
				}
			}
			if dst == StoreBool {
				o.B[i] = v != 0
				continue
			}
			setFloat(o, i, v)
		}
	case dst == StoreBool:
		for i := 0; i < n; i++ {
			o.B[i] = x.Float64At(i) != 0
		}
	case dst == StoreI64 && src == StoreI64:
		copy(o.I64, x.I64)
	case dst == StoreI64:
		for i := 0; i < n; i++ {
			f := x.Float64At(i)
			if to == Uint64 || to == Uint32 {
				o.I64[i] = int64(uint64(f))
			} else {
				o.I64[i] = int64(f)
			}
		}
	case dst == StoreF32 && src == StoreF64:
		for i, v := range x.F64 {
			o.F32[i] = float32(v)
		}
	default:
		for i := 0; i < n; i++ {
			setFloat(o, i, x.Float64At(i))
		}
	}
	return nil
}

func formatElem(x *Tensor, i int) string {
	switch x.DType.Storage() {
	case StoreF32:
		return strconv.FormatFloat(float64(x.F32[i]), 'g', -1, 32)
	case StoreF64:
		return strconv.FormatFloat(x.F64[i], 'g', -1, 64)
	case StoreI64:
		if x.DType == Uint64 {
			return strconv.FormatUint(uint64(x.I64[i]), 10)
		}
		return strconv.FormatInt(x.I64[i], 10)
	case StoreBool:
		if x.B[i] {
			return "1"
		}
		return "0"
	}
	return x.S[i]
}
