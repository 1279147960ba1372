package onnx

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/parallel"
)

// Activations: Relu, LeakyRelu, PRelu, Sigmoid, HardSigmoid, HardSwish,
// Clip, Elu, Selu, Celu, Gelu, Softplus, Softsign, ThresholdedRelu, Mish,
// Shrink, and Dropout (inference: the identity). The cheap ones that
// convolutional models run on every feature map (Relu, Clip, LeakyRelu,
// HardSigmoid, HardSwish, Sigmoid) have loops of their own, split across
// threads for large tensors; the rest map a float64 formula per element.

func init() {
	Register("", "Relu", 1, Latest, func(n *Node) (Kernel, error) { return &actKernel{op: "Relu", kind: aRelu}, n.Err() })
	Register("", "LeakyRelu", 1, Latest, func(n *Node) (Kernel, error) {
		return &actKernel{op: "LeakyRelu", kind: aLeaky, a: n.Float("alpha", 0.01)}, n.Err()
	})
	Register("", "Sigmoid", 1, Latest, func(n *Node) (Kernel, error) { return &actKernel{op: "Sigmoid", kind: aSigmoid}, n.Err() })
	Register("", "HardSigmoid", 1, Latest, func(n *Node) (Kernel, error) {
		return &actKernel{op: "HardSigmoid", kind: aHardSigmoid, a: n.Float("alpha", 0.2), b: n.Float("beta", 0.5)}, n.Err()
	})
	Register("", "HardSwish", 14, Latest, func(n *Node) (Kernel, error) {
		return &actKernel{op: "HardSwish", kind: aHardSwish}, n.Err()
	})
	Register("", "Elu", 1, Latest, func(n *Node) (Kernel, error) {
		a := float64(n.Float("alpha", 1))
		return mapKernel("Elu", func(x float64) float64 {
			if x < 0 {
				return a * (math.Exp(x) - 1)
			}
			return x
		}), n.Err()
	})
	Register("", "Selu", 1, Latest, func(n *Node) (Kernel, error) {
		a := float64(n.Float("alpha", 1.67326319217681884765625))
		g := float64(n.Float("gamma", 1.05070102214813232421875))
		return mapKernel("Selu", func(x float64) float64 {
			if x <= 0 {
				return g * (a*math.Exp(x) - a)
			}
			return g * x
		}), n.Err()
	})
	Register("", "Celu", 12, Latest, func(n *Node) (Kernel, error) {
		a := float64(n.Float("alpha", 1))
		return mapKernel("Celu", func(x float64) float64 { return math.Max(0, x) + math.Min(0, a*(math.Exp(x/a)-1)) }), n.Err()
	})
	Register("", "Gelu", 20, Latest, func(n *Node) (Kernel, error) {
		switch n.String("approximate", "none") {
		case "none":
			return geluKernel{}, n.Err()
		case "tanh":
			return mapKernel("Gelu", func(x float64) float64 {
				return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
			}), n.Err()
		}
		return nil, n.Errorf("approximate %q: %w", n.String("approximate", ""), ErrUnsupported)
	})
	Register("", "Softplus", 1, Latest, func(n *Node) (Kernel, error) {
		return mapKernel("Softplus", func(x float64) float64 {
			if x > 30 {
				return x
			}
			return math.Log1p(math.Exp(x))
		}), n.Err()
	})
	Register("", "Softsign", 1, Latest, func(n *Node) (Kernel, error) {
		return mapKernel("Softsign", func(x float64) float64 { return x / (1 + math.Abs(x)) }), n.Err()
	})
	Register("", "ThresholdedRelu", 10, Latest, func(n *Node) (Kernel, error) {
		a := float64(n.Float("alpha", 1))
		return mapKernel("ThresholdedRelu", func(x float64) float64 {
			if x > a {
				return x
			}
			return 0
		}), n.Err()
	})
	Register("", "Mish", 18, Latest, func(n *Node) (Kernel, error) {
		return mapKernel("Mish", func(x float64) float64 {
			sp := x
			if x <= 30 {
				sp = math.Log1p(math.Exp(x))
			}
			return x * math.Tanh(sp)
		}), n.Err()
	})
	Register("", "Shrink", 9, Latest, func(n *Node) (Kernel, error) {
		b, l := float64(n.Float("bias", 0)), float64(n.Float("lambd", 0.5))
		return mapKernel("Shrink", func(x float64) float64 {
			switch {
			case x < -l:
				return x + b
			case x > l:
				return x - b
			}
			return 0
		}), n.Err()
	})
	Register("", "Clip", 1, 10, func(n *Node) (Kernel, error) {
		return &clipKernel{attrs: true, lo: n.Float("min", float32(math.Inf(-1))), hi: n.Float("max", float32(math.Inf(1)))}, n.Err()
	})
	Register("", "Clip", 11, Latest, func(n *Node) (Kernel, error) { return &clipKernel{}, n.Err() })
	Register("", "PRelu", 1, Latest, func(n *Node) (Kernel, error) { return prelu{}, n.Err() })
	Register("", "Dropout", 1, Latest, newDropout)
}

const (
	aRelu = iota
	aLeaky
	aSigmoid
	aHardSigmoid
	aHardSwish
)

type actKernel struct {
	op   string
	kind int
	a, b float32
}

// elemGrain is the number of elements below which an elementwise kernel
// runs on one goroutine.
const elemGrain = 1 << 15

// splitRun runs body over [0, n) in parallel chunks; callers test serial
// first and run small inputs directly, so that the closure they pass (an
// allocation) is made only when the work is split.
func splitRun(n int, body func(lo, hi int)) {
	parallel.For(n, elemGrain, body)
}

// serial reports whether n elements are better done on one goroutine.
func serial(n int) bool { return n < 2*elemGrain || parallel.Threads() == 1 }

func (k *actKernel) Run(in, out []*Tensor) error {
	x := in[0]
	o := out[0]
	switch x.DType.Storage() {
	case StoreF32:
		o.Reset(x.DType, x.Shape)
		if serial(len(x.F32)) {
			actRun(k, x.F32, o.F32)
		} else {
			splitRun(len(x.F32), func(lo, hi int) { actRun(k, x.F32[lo:hi], o.F32[lo:hi]) })
		}
	case StoreF64:
		o.Reset(x.DType, x.Shape)
		if serial(len(x.F64)) {
			actRun(k, x.F64, o.F64)
		} else {
			splitRun(len(x.F64), func(lo, hi int) { actRun(k, x.F64[lo:hi], o.F64[lo:hi]) })
		}
	case StoreI64:
		if k.kind != aRelu {
			return fmt.Errorf("%s: element type %v: %w", k.op, x.DType, ErrUnsupported)
		}
		o.Reset(x.DType, x.Shape)
		for i, v := range x.I64 {
			o.I64[i] = max(v, 0)
		}
	default:
		return fmt.Errorf("%s: element type %v: %w", k.op, x.DType, ErrUnsupported)
	}
	return nil
}

func actRun[T real](k *actKernel, x, y []T) {
	y = y[:len(x)]
	switch k.kind {
	case aRelu:
		if useAVX2 {
			copy(y, x)
			epilogue(act{kind: actRelu}, y, nil, 0)
			return
		}
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case aLeaky:
		a := T(k.a)
		if useAVX2 {
			inf := float32(math.Inf(1))
			copy(y, x)
			epilogue(act{kind: actLeaky, alpha: k.a, lo: -inf, hi: inf}, y, nil, 0)
			return
		}
		for i, v := range x {
			y[i] = max(v, 0) + a*min(v, 0) // branch-free: signs are random
		}
	case aSigmoid:
		var z T
		if unsafe.Sizeof(z) == 4 {
			math32.SigmoidSlice(as32(y), as32(x))
			return
		}
		for i, v := range x {
			y[i] = T(1 / (1 + math.Exp(-float64(v))))
		}
	case aHardSigmoid:
		a, b := T(k.a), T(k.b)
		for i, v := range x {
			y[i] = mathx.HardSigmoid(v, a, b)
		}
	case aHardSwish:
		for i, v := range x {
			y[i] = mathx.HardSwish(v)
		}
	}
}

// mapKernel applies f elementwise to a float tensor.
func mapKernel(op string, f func(float64) float64) Kernel {
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		switch x.DType.Storage() {
		case StoreF32:
			out[0].Reset(x.DType, x.Shape)
			for i, v := range x.F32 {
				out[0].F32[i] = float32(f(float64(v)))
			}
		case StoreF64:
			out[0].Reset(x.DType, x.Shape)
			for i, v := range x.F64 {
				out[0].F64[i] = f(v)
			}
		default:
			return fmt.Errorf("%s: element type %v: %w", op, x.DType, ErrUnsupported)
		}
		return nil
	})
}

// ---------------------------------------------------------------- Clip

type clipKernel struct {
	attrs  bool // opset < 11: bounds from attributes
	lo, hi float32
}

func (k *clipKernel) Run(in, out []*Tensor) error {
	x := in[0]
	lo, hi := Input(in, 1), Input(in, 2)
	for _, b := range []*Tensor{lo, hi} {
		if b != nil && (b.Size() != 1 || b.DType != x.DType) {
			return fmt.Errorf("Clip: bound shape %v type %v: want a scalar of X's type %v", b.Shape, b.DType, x.DType)
		}
	}
	o := out[0]
	switch x.DType.Storage() {
	case StoreF32:
		l, h := float32(math.Inf(-1)), float32(math.Inf(1))
		if k.attrs {
			l, h = k.lo, k.hi
		}
		if lo != nil {
			l = lo.F32[0]
		}
		if hi != nil {
			h = hi.F32[0]
		}
		o.Reset(x.DType, x.Shape)
		if serial(len(x.F32)) {
			clipRun(x.F32, o.F32, l, h)
		} else {
			splitRun(len(x.F32), func(a, b int) { clipRun(x.F32[a:b], o.F32[a:b], l, h) })
		}
	case StoreF64:
		l, h := math.Inf(-1), math.Inf(1)
		if k.attrs {
			l, h = float64(k.lo), float64(k.hi)
		}
		if lo != nil {
			l = lo.F64[0]
		}
		if hi != nil {
			h = hi.F64[0]
		}
		o.Reset(x.DType, x.Shape)
		clipRun(x.F64, o.F64, l, h)
	case StoreI64:
		l, h := int64(math.MinInt64), int64(math.MaxInt64)
		if lo != nil {
			l = lo.I64[0]
		}
		if hi != nil {
			h = hi.I64[0]
		}
		o.Reset(x.DType, x.Shape)
		for i, v := range x.I64 {
			o.I64[i] = min(max(v, l), h)
		}
	default:
		return fmt.Errorf("Clip: element type %v: %w", x.DType, ErrUnsupported)
	}
	return nil
}

// clipRun clamps x into [l, h]; where l > h every element becomes h, as
// ONNX Runtime gives (min(max(x, l), h)).
func clipRun[T real](x, y []T, l, h T) {
	y = y[:len(x)]
	if useAVX2 && unsafe.Sizeof(l) == 4 {
		// The vector epilogue works in place: a copy first (memmove) is
		// still several times the scalar loop.
		copy(y, x)
		epilogue(act{kind: actClip, lo: float32(l), hi: float32(h)}, y, nil, 0)
		return
	}
	for i, v := range x {
		y[i] = min(max(v, l), h)
	}
}

// ---------------------------------------------------------------- PRelu

type prelu struct{}

// Run: y = x where x ≥ 0, slope·x elsewhere, slope broadcast to X
// (unidirectionally; per channel [C, 1, 1] is the common case).
func (prelu) Run(in, out []*Tensor) error {
	x, s := in[0], in[1]
	if s.DType != x.DType {
		return fmt.Errorf("PRelu: slope type %v differs from X's %v", s.DType, x.DType)
	}
	shape, err := BroadcastShape(x.Shape, s.Shape)
	if err != nil || !eqInts(shape, x.Shape) {
		return fmt.Errorf("PRelu: slope shape %v does not broadcast to X shape %v", s.Shape, x.Shape)
	}
	out[0].Reset(x.DType, x.Shape)
	st := BroadcastStrides(s.Shape, x.Shape)
	xs := BroadcastStrides(x.Shape, x.Shape)
	switch x.DType.Storage() {
	case StoreF32:
		y := out[0].F32
		ForBroadcast(x.Shape, [][]int{xs, st}, func(i int, idx []int) {
			v := x.F32[i]
			if v < 0 {
				v *= s.F32[idx[1]]
			}
			y[i] = v
		})
	case StoreF64:
		y := out[0].F64
		ForBroadcast(x.Shape, [][]int{xs, st}, func(i int, idx []int) {
			v := x.F64[i]
			if v < 0 {
				v *= s.F64[idx[1]]
			}
			y[i] = v
		})
	case StoreI64:
		y := out[0].I64
		ForBroadcast(x.Shape, [][]int{xs, st}, func(i int, idx []int) {
			v := x.I64[i]
			if v < 0 {
				v *= s.I64[idx[1]]
			}
			y[i] = v
		})
	default:
		return fmt.Errorf("PRelu: element type %v: %w", x.DType, ErrUnsupported)
	}
	return nil
}

// ---------------------------------------------------------------- Dropout

type dropout struct{ ratioAttr float32 }

func newDropout(n *Node) (Kernel, error) {
	if n.Opset < 7 && n.Int("is_test", 0) == 0 && len(n.Outputs) > 1 {
		return nil, n.Errorf("training Dropout before opset 7: %w", ErrUnsupported)
	}
	return dropout{ratioAttr: n.Float("ratio", 0.5)}, n.Err()
}

// Run is inference Dropout: Y = X, mask all true. training_mode = true
// with a ratio above 0 would need random numbers: an error.
func (d dropout) Run(in, out []*Tensor) error {
	x := in[0]
	if tm := Input(in, 2); tm != nil && tm.Size() == 1 && tm.B != nil && tm.B[0] {
		if r := Input(in, 1); r == nil || r.Float64At(0) != 0 {
			return fmt.Errorf("Dropout: training_mode: %w", ErrUnsupported)
		}
	}
	out[0].CopyFrom(x)
	if len(out) > 1 {
		out[1].Reset(Bool, x.Shape)
		for i := range out[1].B {
			out[1].B[i] = true
		}
	}
	return nil
}
