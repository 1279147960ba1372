package onnx

import (
	"fmt"
	"math"
)

// Linear quantisation: QuantizeLinear, DequantizeLinear (per tensor, or
// per axis from opset 13) and DynamicQuantizeLinear, for 8-bit integer
// types (and int32 for DequantizeLinear's input). Rounding is half to
// even, then saturation to the type's range, as ONNX specifies.

func init() {
	Register("", "QuantizeLinear", 10, Latest, func(n *Node) (Kernel, error) { return newQuant(n, true) })
	Register("", "DequantizeLinear", 10, Latest, func(n *Node) (Kernel, error) { return newQuant(n, false) })
	Register("", "DynamicQuantizeLinear", 11, Latest, func(n *Node) (Kernel, error) { return KernelFunc(dynamicQuantize), n.Err() })
}

type quantKernel struct {
	quantize bool
	axis     int
}

func newQuant(n *Node, q bool) (Kernel, error) {
	if n.Has("block_size") && n.Int("block_size", 0) != 0 {
		return nil, n.Errorf("block_size: %w", ErrUnsupported)
	}
	if n.Opset >= 19 && n.Int("saturate", 1) != 1 {
		return nil, n.Errorf("saturate 0: %w", ErrUnsupported)
	}
	return &quantKernel{quantize: q, axis: int(n.Int("axis", 1))}, n.Err()
}

// intRange returns the range of an integer type.
func intRange(dt DataType) (lo, hi float64, ok bool) {
	switch dt {
	case Uint8:
		return 0, 255, true
	case Int8:
		return -128, 127, true
	case Uint16:
		return 0, 65535, true
	case Int16:
		return -32768, 32767, true
	case Int32:
		return math.MinInt32, math.MaxInt32, true
	}
	return 0, 0, false
}

// params returns, for element i of x, the index of its scale and zero
// point: 0 per tensor, its coordinate along axis per axis.
func (k *quantKernel) params(x, scale *Tensor) (func(i int) int, error) {
	if scale.Size() == 1 {
		return func(int) int { return 0 }, nil
	}
	ax := k.axis
	if ax < 0 {
		ax += x.Rank()
	}
	if scale.Rank() != 1 || ax < 0 || ax >= x.Rank() || x.Shape[ax] != scale.Size() {
		return nil, fmt.Errorf("scale shape %v does not fit axis %d of shape %v", scale.Shape, k.axis, x.Shape)
	}
	inner := numel(x.Shape[ax+1:])
	d := x.Shape[ax]
	return func(i int) int { return i / inner % d }, nil
}

func (k *quantKernel) Run(in, out []*Tensor) error {
	x, scale, zp := in[0], in[1], Input(in, 2)
	if _, ok := floatKind(scale.DType); !ok {
		return fmt.Errorf("scale type %v: %w", scale.DType, ErrUnsupported)
	}
	if zp != nil && zp.Size() != scale.Size() {
		return fmt.Errorf("zero point shape %v differs from scale shape %v", zp.Shape, scale.Shape)
	}
	at, err := k.params(x, scale)
	if err != nil {
		return err
	}
	zero := func(j int) float64 {
		if zp == nil {
			return 0
		}
		return zp.Float64At(j)
	}
	if k.quantize {
		if _, ok := floatKind(x.DType); !ok {
			return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
		}
		dt := Uint8
		if zp != nil {
			dt = zp.DType
		}
		lo, hi, ok := intRange(dt)
		if !ok {
			return fmt.Errorf("output type %v: %w", dt, ErrUnsupported)
		}
		out[0].Reset(dt, x.Shape)
		for i := range x.Size() {
			j := at(i)
			// The division in the input's precision, as ONNX's reference
			// (float32 x / float32 scale rounds before RoundToEven).
			q := x.Float64At(i) / scale.Float64At(j)
			if x.DType.Storage() == StoreF32 && scale.DType.Storage() == StoreF32 {
				q = float64(x.F32[i] / scale.F32[j])
			}
			v := math.RoundToEven(q) + zero(j)
			out[0].I64[i] = int64(min(max(v, lo), hi))
		}
		return nil
	}
	if _, _, ok := intRange(x.DType); !ok {
		return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
	}
	out[0].Reset(scale.DType, x.Shape)
	for i := range x.Size() {
		j := at(i)
		v := (float64(x.I64[i]) - zero(j)) * scale.Float64At(j)
		if scale.DType.Storage() == StoreF32 {
			out[0].F32[i] = float32(v)
		} else {
			out[0].F64[i] = v
		}
	}
	return nil
}

// dynamicQuantize: scale = (max(0, max x) − min(0, min x))/255, zero
// point = saturate(round(−min(0, min x)/scale)), y = saturate(round(x/scale)
// + zero point), all uint8.
func dynamicQuantize(in, out []*Tensor) error {
	x := in[0]
	if x.DType != Float {
		return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
	}
	lo, hi := 0.0, 0.0
	for _, v := range x.F32 {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	scale := float32((hi - lo) / 255)
	zp := 0.0
	if scale != 0 {
		zp = min(max(math.RoundToEven(float64(-float32(lo)/scale)), 0), 255)
	}
	out[0].Reset(Uint8, x.Shape)
	for i, v := range x.F32 {
		q := zp
		if scale != 0 {
			q = math.RoundToEven(float64(v/scale)) + zp
		}
		out[0].I64[i] = int64(min(max(q, 0), 255))
	}
	if len(out) > 1 {
		out[1].Reset(Float, nil)
		out[1].F32[0] = scale
	}
	if len(out) > 2 {
		out[2].Reset(Uint8, nil)
		out[2].I64[0] = int64(zp)
	}
	return nil
}
