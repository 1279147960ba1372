package onnx

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/internal/math32"
)

// Elementwise math: unary functions, broadcasting binary arithmetic and the
// variadic Max/Min/Sum/Mean. Float16/bfloat16 run in float32 and are rounded
// by the session; small integer types run in int64 and are wrapped.

func init() {
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		op := op
		Register("", op, 1, 6, func(n *Node) (Kernel, error) { return newLegacyArith(n, op) })
		Register("", op, 7, Latest, func(n *Node) (Kernel, error) { return newArith(n, op) })
	}
	Register("", "Pow", 7, Latest, func(n *Node) (Kernel, error) { return KernelFunc(runPow), nil })
	Register("", "Mod", 10, Latest, newMod)
	Register("", "BitShift", 11, Latest, newBitShift)
	for _, op := range []string{"BitwiseAnd", "BitwiseOr", "BitwiseXor"} {
		op := op
		Register("", op, 18, Latest, func(n *Node) (Kernel, error) { return newBitwise(op), nil })
	}
	Register("", "BitwiseNot", 18, Latest, func(n *Node) (Kernel, error) {
		return unaryKernel{i64: func(x int64) int64 { return ^x }}, nil
	})
	for op, k := range unaryOps {
		Register("", op, 1, Latest, func(n *Node) (Kernel, error) { return k, nil })
	}
	Register("", "IsNaN", 9, Latest, func(n *Node) (Kernel, error) {
		return predKernel(func(x float64) bool { return math.IsNaN(x) }), nil
	})
	Register("", "IsInf", 10, Latest, func(n *Node) (Kernel, error) {
		neg, pos := n.Int("detect_negative", 1) != 0, n.Int("detect_positive", 1) != 0
		return predKernel(func(x float64) bool { return (neg && math.IsInf(x, -1)) || (pos && math.IsInf(x, 1)) }), nil
	})
	for _, op := range []string{"Max", "Min", "Sum", "Mean"} {
		op := op
		// Opset 6-7 required equal shapes: broadcasting is a superset.
		Register("", op, 6, Latest, func(n *Node) (Kernel, error) { return newVariadic(n, op) })
	}
}

// ---- unary ----

type unaryKernel struct {
	s32 func(dst, src []float32) // slice form, preferred for float storage
	f32 func(float32) float32
	f64 func(float64) float64
	i64 func(int64) int64
	b   func(bool) bool
}

func (k unaryKernel) Run(in, out []*Tensor) error {
	x := in[0]
	o := out[0]
	switch x.DType.Storage() {
	case StoreF32:
		if k.s32 != nil {
			o.Reset(x.DType, x.Shape)
			unaryF32(o.F32, x.F32, k.s32)
			return nil
		}
		if k.f32 == nil && k.f64 != nil {
			o.Reset(x.DType, x.Shape)
			mapInto(o.F32, x.F32, func(v float32) float32 { return float32(k.f64(float64(v))) })
			return nil
		}
		if k.f32 != nil {
			o.Reset(x.DType, x.Shape)
			mapInto(o.F32, x.F32, k.f32)
			return nil
		}
	case StoreF64:
		if k.f64 != nil {
			o.Reset(x.DType, x.Shape)
			mapInto(o.F64, x.F64, k.f64)
			return nil
		}
	case StoreI64:
		if k.i64 != nil {
			o.Reset(x.DType, x.Shape)
			mapInto(o.I64, x.I64, k.i64)
			return nil
		}
	case StoreBool:
		if k.b != nil {
			o.Reset(x.DType, x.Shape)
			mapInto(o.B, x.B, k.b)
			return nil
		}
	}
	return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
}

// mapInto sets dst[i] = f(src[i]) for every element of src.
func mapInto[T, U any](dst []U, src []T, f func(T) U) {
	for i, v := range src {
		dst[i] = f(v)
	}
}

func f64only(f func(float64) float64) unaryKernel { return unaryKernel{f64: f} }

var unaryOps = map[string]unaryKernel{
	"Abs": {f32: func(x float32) float32 { return float32(math.Abs(float64(x))) }, f64: math.Abs,
		i64: func(x int64) int64 {
			if x < 0 {
				return -x
			}
			return x
		}},
	"Neg": {f32: func(x float32) float32 { return -x }, f64: func(x float64) float64 { return -x },
		i64: func(x int64) int64 { return -x }},
	"Sqrt":       {f32: func(x float32) float32 { return float32(math.Sqrt(float64(x))) }, f64: math.Sqrt},
	"Exp":        {s32: math32.ExpSlice, f64: math.Exp},
	"Log":        {s32: math32.LogSlice, f64: math.Log},
	"Reciprocal": {f32: func(x float32) float32 { return 1 / x }, f64: func(x float64) float64 { return 1 / x }},
	"Floor":      f64only(math.Floor),
	"Ceil":       f64only(math.Ceil),
	"Round":      f64only(math.RoundToEven),
	"Sign": {f64: func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return x
	}, i64: func(x int64) int64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}},
	"Sin":   f64only(math.Sin),
	"Cos":   f64only(math.Cos),
	"Tan":   f64only(math.Tan),
	"Asin":  f64only(math.Asin),
	"Acos":  f64only(math.Acos),
	"Atan":  f64only(math.Atan),
	"Sinh":  f64only(math.Sinh),
	"Cosh":  f64only(math.Cosh),
	"Asinh": f64only(math.Asinh),
	"Acosh": f64only(math.Acosh),
	"Atanh": f64only(math.Atanh),
	"Tanh":  {s32: math32.TanhSlice, f64: math.Tanh},
	"Erf":   {s32: erfSlice, f64: math.Erf},
	"Not":   {b: func(x bool) bool { return !x }},
}

type predKernel func(float64) bool

func (k predKernel) Run(in, out []*Tensor) error {
	x := in[0]
	if !x.DType.IsFloat() {
		return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
	}
	out[0].Reset(Bool, x.Shape)
	for i := range out[0].B {
		out[0].B[i] = k(x.Float64At(i))
	}
	return nil
}

// ---- binary ----

// bcast2 applies f elementwise with NumPy broadcasting: out = f(a, b).
func bcast2[T, U any](a, b []T, as, bs []int, o []U, os []int, f func(T, T) U) {
	switch {
	case len(a) == len(o) && len(b) == len(o):
		for i := range o {
			o[i] = f(a[i], b[i])
		}
	case len(b) == 1 && len(a) == len(o):
		y := b[0]
		for i := range o {
			o[i] = f(a[i], y)
		}
	case len(a) == 1 && len(b) == len(o):
		x := a[0]
		for i := range o {
			o[i] = f(x, b[i])
		}
	default:
		bcastRows(as, bs, os, func(oi, pa, pb, n, ia, ib int) {
			row := o[oi : oi+n]
			switch {
			case ia == 1 && ib == 1:
				x, y := a[pa:pa+n], b[pb:pb+n]
				for j := range row {
					row[j] = f(x[j], y[j])
				}
			case ia == 1:
				x, y := a[pa:pa+n], b[pb]
				for j := range row {
					row[j] = f(x[j], y)
				}
			case ib == 1:
				x, y := a[pa], b[pb:pb+n]
				for j := range row {
					row[j] = f(x, y[j])
				}
			default:
				x, y := a[pa], b[pb]
				for j := range row {
					row[j] = f(x, y)
				}
			}
		})
	}
}

// bcastRows walks the output of a two-operand broadcast (operand shapes as
// and bs, output shape os) run by run, after dropping size-1 axes and
// merging adjacent axes that both operands traverse alike (so a per-channel
// operand of an NCHW tensor gives runs of H·W). For each run o[oi:oi+n] it
// calls row with the operands' starting offsets and their steps along the
// run (0 or 1).
func bcastRows(as, bs, os []int, row func(oi, pa, pb, n, ia, ib int)) {
	total := numel(os)
	if total == 0 {
		return
	}
	var b1, b2, b3, b4, b5, b6 [8]int
	sa, sb := stridesTo(b1[:0], as, os), stridesTo(b2[:0], bs, os)
	// Coalesce from the innermost axis outwards.
	shape, ca, cb := b3[:0], b4[:0], b5[:0]
	for d := len(os) - 1; d >= 0; d-- {
		if os[d] == 1 {
			continue
		}
		if k := len(shape) - 1; k >= 0 && sa[d] == ca[k]*shape[k] && sb[d] == cb[k]*shape[k] {
			shape[k] *= os[d]
			continue
		}
		shape, ca, cb = append(shape, os[d]), append(ca, sa[d]), append(cb, sb[d])
	}
	if len(shape) == 0 { // every axis has size 1
		row(0, 0, 0, 1, 0, 0)
		return
	}
	// shape, ca, cb run innermost first.
	n, ia, ib := shape[0], ca[0], cb[0]
	r := len(shape)
	ctr := append(b6[:0], make([]int, r)...)
	pa, pb := 0, 0
	for oi := 0; oi < total; oi += n {
		row(oi, pa, pb, n, ia, ib)
		for d := 1; d < r; d++ {
			ctr[d]++
			pa += ca[d]
			pb += cb[d]
			if ctr[d] < shape[d] {
				break
			}
			pa -= ca[d] * shape[d]
			pb -= cb[d] * shape[d]
			ctr[d] = 0
		}
	}
}

// arithRows is o = a op b for float storage without a call per element.
func arithRows[T float32 | float64](op string, a, b []T, as, bs []int, o []T, os []int) {
	bcastRows(as, bs, os, func(oi, pa, pb, n, ia, ib int) {
		row := o[oi : oi+n]
		switch {
		case ia == 1 && ib == 1:
			x, y := a[pa:pa+n], b[pb:pb+n]
			switch op {
			case "Add":
				for j := range row {
					row[j] = x[j] + y[j]
				}
			case "Sub":
				for j := range row {
					row[j] = x[j] - y[j]
				}
			case "Mul":
				for j := range row {
					row[j] = x[j] * y[j]
				}
			default:
				for j := range row {
					row[j] = x[j] / y[j]
				}
			}
		case ia == 1:
			x, y := a[pa:pa+n], b[pb]
			switch op {
			case "Add":
				for j := range row {
					row[j] = x[j] + y
				}
			case "Sub":
				for j := range row {
					row[j] = x[j] - y
				}
			case "Mul":
				for j := range row {
					row[j] = x[j] * y
				}
			default:
				for j := range row {
					row[j] = x[j] / y
				}
			}
		case ib == 1:
			x, y := a[pa], b[pb:pb+n]
			switch op {
			case "Add":
				for j := range row {
					row[j] = x + y[j]
				}
			case "Sub":
				for j := range row {
					row[j] = x - y[j]
				}
			case "Mul":
				for j := range row {
					row[j] = x * y[j]
				}
			default:
				for j := range row {
					row[j] = x / y[j]
				}
			}
		default:
			var v T
			x, y := a[pa], b[pb]
			switch op {
			case "Add":
				v = x + y
			case "Sub":
				v = x - y
			case "Mul":
				v = x * y
			default:
				v = x / y
			}
			for j := range row {
				row[j] = v
			}
		}
	})
}

type arithKernel struct {
	op  string
	f32 func(a, b float32) float32
	f64 func(a, b float64) float64
	i64 func(a, b int64) int64
}

// newLegacyArith is Add/Sub/Mul/Div before opset 7: without broadcast=1
// the shapes must be equal; with it B is aligned with A's trailing axes,
// or from A's axis `axis` when that attribute is given.
func newLegacyArith(n *Node, op string) (Kernel, error) {
	k, err := newArith(n, op)
	if err != nil {
		return nil, err
	}
	bcast := n.Int("broadcast", 0) != 0
	hasAxis := n.Has("axis")
	axis := int(n.Int("axis", 0))
	return KernelFunc(func(in, out []*Tensor) error {
		a, b := in[0], in[1]
		if !bcast {
			if !sameShape(a.Shape, b.Shape) {
				return fmt.Errorf("shapes %v and %v differ (broadcast=0)", a.Shape, b.Shape)
			}
			return k.Run(in, out)
		}
		if !hasAxis {
			return k.Run(in, out)
		}
		ax, err := normAxis(axis, len(a.Shape))
		if err != nil {
			return err
		}
		trail := len(a.Shape) - ax - len(b.Shape)
		if trail < 0 {
			return fmt.Errorf("B of shape %v does not fit A %v from axis %d", b.Shape, a.Shape, axis)
		}
		shape := append(append([]int{}, b.Shape...), make([]int, trail)...)
		for i := len(b.Shape); i < len(shape); i++ {
			shape[i] = 1
		}
		bv := *b
		bv.Shape = shape
		return k.Run([]*Tensor{a, &bv}, out)
	}), nil
}

func newArith(n *Node, op string) (Kernel, error) {
	k := arithKernel{op: op}
	switch op {
	case "Add":
		k.f32 = func(a, b float32) float32 { return a + b }
		k.f64 = func(a, b float64) float64 { return a + b }
		k.i64 = func(a, b int64) int64 { return a + b }
	case "Sub":
		k.f32 = func(a, b float32) float32 { return a - b }
		k.f64 = func(a, b float64) float64 { return a - b }
		k.i64 = func(a, b int64) int64 { return a - b }
	case "Mul":
		k.f32 = func(a, b float32) float32 { return a * b }
		k.f64 = func(a, b float64) float64 { return a * b }
		k.i64 = func(a, b int64) int64 { return a * b }
	case "Div":
		k.f32 = func(a, b float32) float32 { return a / b }
		k.f64 = func(a, b float64) float64 { return a / b }
		k.i64 = func(a, b int64) int64 {
			if b == 0 {
				return 0 // undefined in ONNX; never a Go panic
			}
			return a / b
		}
	}
	return k, nil
}

func (k arithKernel) Run(in, out []*Tensor) error {
	a, b := in[0], in[1]
	var sb [8]int
	shape, err := binaryShape(sb[:0], a, b)
	if err != nil {
		return err
	}
	o := out[0]
	o.Reset(a.DType, shape)
	if k.op != "" && k.op[0] != 'M' && o.Size() >= grain && tensorArith(k.op, a, b, o, o.Shape) {
		return nil
	}
	isArith := k.op == "Add" || k.op == "Sub" || k.op == "Mul" || k.op == "Div"
	switch a.DType.Storage() {
	case StoreF32:
		if isArith {
			arithRows(k.op, a.F32, b.F32, a.Shape, b.Shape, o.F32, shape)
			break
		}
		bcast2(a.F32, b.F32, a.Shape, b.Shape, o.F32, shape, k.f32)
	case StoreF64:
		if isArith {
			arithRows(k.op, a.F64, b.F64, a.Shape, b.Shape, o.F64, shape)
			break
		}
		bcast2(a.F64, b.F64, a.Shape, b.Shape, o.F64, shape, k.f64)
	case StoreI64:
		if a.DType == Uint64 && k.op == "Div" {
			bcast2(a.I64, b.I64, a.Shape, b.Shape, o.I64, shape, func(x, y int64) int64 {
				if y == 0 {
					return 0
				}
				return int64(uint64(x) / uint64(y))
			})
			return nil
		}
		bcast2(a.I64, b.I64, a.Shape, b.Shape, o.I64, shape, k.i64)
	default:
		return fmt.Errorf("input type %v: %w", a.DType, ErrUnsupported)
	}
	return nil
}

func runPow(in, out []*Tensor) error {
	a, b := in[0], in[1]
	shape, err := BroadcastShape(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	o := out[0]
	switch a.DType.Storage() {
	case StoreF32, StoreF64, StoreI64:
	default:
		return fmt.Errorf("input type %v: %w", a.DType, ErrUnsupported)
	}
	o.Reset(a.DType, shape)
	if a.DType.Storage() == StoreF32 && b.DType.Storage() == StoreF32 {
		bcast2(a.F32, b.F32, a.Shape, b.Shape, o.F32, shape, func(x, y float32) float32 {
			if y == 2 {
				return x * x
			}
			return float32(math.Pow(float64(x), float64(y)))
		})
		return nil
	}
	if a.DType.Storage() == StoreI64 && b.DType.Storage() == StoreI64 {
		bcast2(a.I64, b.I64, a.Shape, b.Shape, o.I64, shape, ipow)
		return nil
	}
	sa, sb := BroadcastStrides(a.Shape, shape), BroadcastStrides(b.Shape, shape)
	ForBroadcast(shape, [][]int{sa, sb}, func(i int, idx []int) {
		v := math.Pow(a.Float64At(idx[0]), b.Float64At(idx[1]))
		setFloat(o, i, v)
	})
	return nil
}

func ipow(x, y int64) int64 {
	if y < 0 {
		return int64(math.Pow(float64(x), float64(y)))
	}
	r := int64(1)
	for ; y > 0; y >>= 1 {
		if y&1 == 1 {
			r *= x
		}
		x *= x
	}
	return r
}

// setFloat stores v into element i of t, converting to t's type.
func setFloat(t *Tensor, i int, v float64) {
	switch t.DType.Storage() {
	case StoreF32:
		t.F32[i] = float32(v)
	case StoreF64:
		t.F64[i] = v
	case StoreI64:
		t.I64[i] = int64(v)
	case StoreBool:
		t.B[i] = v != 0
	}
}

func newMod(n *Node) (Kernel, error) {
	fmod := n.Int("fmod", 0) != 0
	return KernelFunc(func(in, out []*Tensor) error {
		a, b := in[0], in[1]
		if a.DType != b.DType {
			return fmt.Errorf("input types %v and %v differ", a.DType, b.DType)
		}
		shape, err := BroadcastShape(a.Shape, b.Shape)
		if err != nil {
			return err
		}
		o := out[0]
		o.Reset(a.DType, shape)
		switch a.DType.Storage() {
		case StoreF32:
			bcast2(a.F32, b.F32, a.Shape, b.Shape, o.F32, shape, func(x, y float32) float32 {
				return float32(fmodOp(float64(x), float64(y), fmod))
			})
		case StoreF64:
			bcast2(a.F64, b.F64, a.Shape, b.Shape, o.F64, shape, func(x, y float64) float64 {
				return fmodOp(x, y, fmod)
			})
		case StoreI64:
			bcast2(a.I64, b.I64, a.Shape, b.Shape, o.I64, shape, func(x, y int64) int64 {
				if y == 0 {
					return 0
				}
				r := x % y
				if !fmod && r != 0 && (r < 0) != (y < 0) {
					r += y
				}
				return r
			})
		default:
			return fmt.Errorf("input type %v: %w", a.DType, ErrUnsupported)
		}
		return nil
	}), nil
}

func fmodOp(x, y float64, fmod bool) float64 {
	r := math.Mod(x, y)
	if !fmod && r != 0 && (r < 0) != (y < 0) {
		r += y
	}
	return r
}

func newBitShift(n *Node) (Kernel, error) {
	dir := n.String("direction", "")
	if dir != "LEFT" && dir != "RIGHT" {
		return nil, n.Errorf("direction %q", dir)
	}
	return KernelFunc(func(in, out []*Tensor) error {
		a, b := in[0], in[1]
		if a.DType.Storage() != StoreI64 || a.DType != b.DType {
			return fmt.Errorf("input types %v, %v: %w", a.DType, b.DType, ErrUnsupported)
		}
		shape, err := BroadcastShape(a.Shape, b.Shape)
		if err != nil {
			return err
		}
		o := out[0]
		o.Reset(a.DType, shape)
		bcast2(a.I64, b.I64, a.Shape, b.Shape, o.I64, shape, func(x, y int64) int64 {
			if y < 0 || y >= 64 {
				return 0
			}
			if dir == "LEFT" {
				return int64(uint64(x) << uint(y))
			}
			return int64(uint64(x) >> uint(y))
		})
		return nil
	}), nil
}

func newBitwise(op string) Kernel {
	var f func(x, y int64) int64
	var g func(x, y bool) bool
	switch op {
	case "BitwiseAnd":
		f, g = func(x, y int64) int64 { return x & y }, func(x, y bool) bool { return x && y }
	case "BitwiseOr":
		f, g = func(x, y int64) int64 { return x | y }, func(x, y bool) bool { return x || y }
	default:
		f, g = func(x, y int64) int64 { return x ^ y }, func(x, y bool) bool { return x != y }
	}
	return KernelFunc(func(in, out []*Tensor) error {
		a, b := in[0], in[1]
		if a.DType != b.DType {
			return fmt.Errorf("input types %v and %v differ", a.DType, b.DType)
		}
		shape, err := BroadcastShape(a.Shape, b.Shape)
		if err != nil {
			return err
		}
		o := out[0]
		o.Reset(a.DType, shape)
		switch a.DType.Storage() {
		case StoreI64:
			bcast2(a.I64, b.I64, a.Shape, b.Shape, o.I64, shape, f)
		case StoreBool:
			bcast2(a.B, b.B, a.Shape, b.Shape, o.B, shape, g)
		default:
			return fmt.Errorf("input type %v: %w", a.DType, ErrUnsupported)
		}
		return nil
	})
}

// ---- variadic ----

func newVariadic(n *Node, op string) (Kernel, error) {
	k := arithKernel{op: op}
	switch op {
	case "Max":
		k.f32, k.f64 = nanMax[float32], nanMax[float64]
		k.i64 = func(a, b int64) int64 { return max(a, b) }
	case "Min":
		k.f32, k.f64 = nanMin[float32], nanMin[float64]
		k.i64 = func(a, b int64) int64 { return min(a, b) }
	default: // Sum, Mean
		k.f32 = func(a, b float32) float32 { return a + b }
		k.f64 = func(a, b float64) float64 { return a + b }
		k.i64 = func(a, b int64) int64 { return a + b }
	}
	return KernelFunc(func(in, out []*Tensor) error {
		if len(in) == 0 {
			return fmt.Errorf("no inputs")
		}
		shapes := make([][]int, len(in))
		for i, t := range in {
			if t == nil || t.DType != in[0].DType {
				return fmt.Errorf("input %d missing or of another type", i)
			}
			shapes[i] = t.Shape
		}
		shape, err := BroadcastShape(shapes...)
		if err != nil {
			return err
		}
		o := out[0]
		a := in[0]
		if a.DType == Uint64 && (op == "Max" || op == "Min") {
			k := k
			k.i64 = func(x, y int64) int64 {
				if (uint64(x) > uint64(y)) == (op == "Max") {
					return x
				}
				return y
			}
			return variadicFold(k, in, o, shape, op)
		}
		return variadicFold(k, in, o, shape, op)
	}), nil
}

// nanMax is max that returns the canonical NaN when either operand is NaN.
func nanMax[T real](a, b T) T {
	if a != a || b != b {
		return T(math.NaN())
	}
	return max(a, b)
}

// nanMin is min that returns the canonical NaN when either operand is NaN.
func nanMin[T real](a, b T) T {
	if a != a || b != b {
		return T(math.NaN())
	}
	return min(a, b)
}

func variadicFold(k arithKernel, in []*Tensor, o *Tensor, shape []int, op string) error {
	a := in[0]
	acc := &Tensor{}
	acc.Reset(a.DType, shape)
	mean := op == "Mean"
	switch a.DType.Storage() {
	case StoreF32:
		fold(acc.F32, in, func(t *Tensor) []float32 { return t.F32 }, shape, k.f32, mean)
	case StoreF64:
		fold(acc.F64, in, func(t *Tensor) []float64 { return t.F64 }, shape, k.f64, mean)
	case StoreI64:
		fold(acc.I64, in, func(t *Tensor) []int64 { return t.I64 }, shape, k.i64, mean)
	default:
		return fmt.Errorf("input type %v: %w", a.DType, ErrUnsupported)
	}
	o.CopyFrom(acc)
	return nil
}

// fold sets acc (of shape) to f(...f(f(in[0], in[1]), in[2])..., in[n-1])
// with broadcasting, divided by n when mean is set; data picks a tensor's
// elements.
func fold[T float32 | float64 | int64](acc []T, in []*Tensor, data func(*Tensor) []T, shape []int, f func(T, T) T, mean bool) {
	// acc starts as in[0] broadcast to shape.
	zero := []T{0}
	bcast2(data(in[0]), zero, in[0].Shape, []int{}, acc, shape, func(x, _ T) T { return x })
	for _, t := range in[1:] {
		bcast2(acc, data(t), shape, t.Shape, acc, shape, f)
	}
	if mean {
		for i := range acc {
			acc[i] /= T(len(in))
		}
	}
}
