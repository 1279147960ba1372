package onnx

import (
	"fmt"
	"math"
	"strings"
)

// DataType is an element type, numbered as ONNX's TensorProto.DataType.
type DataType int32

// The ONNX element types. Complex types and the 8-bit and 4-bit float types
// are named so that errors can name them; no kernel accepts them.
const (
	Undefined  DataType = 0
	Float      DataType = 1
	Uint8      DataType = 2
	Int8       DataType = 3
	Uint16     DataType = 4
	Int16      DataType = 5
	Int32      DataType = 6
	Int64      DataType = 7
	String     DataType = 8
	Bool       DataType = 9
	Float16    DataType = 10
	Double     DataType = 11
	Uint32     DataType = 12
	Uint64     DataType = 13
	Complex64  DataType = 14
	Complex128 DataType = 15
	BFloat16   DataType = 16
)

// Pseudo element types for the non-tensor values ONNX graphs pass around.
// A Sequence holds its elements in Tensor.Seq; an Optional holds zero or
// one value (a tensor or a sequence) in Tensor.Seq. Tensor.Elem names the
// element type when it is known (an empty sequence still has one).
const (
	Sequence DataType = 1<<16 + iota
	Optional
)

var dtypeNames = map[DataType]string{
	Sequence: "sequence", Optional: "optional",
	Undefined: "undefined", Float: "float32", Uint8: "uint8", Int8: "int8", Uint16: "uint16",
	Int16: "int16", Int32: "int32", Int64: "int64", String: "string", Bool: "bool",
	Float16: "float16", Double: "float64", Uint32: "uint32", Uint64: "uint64",
	Complex64: "complex64", Complex128: "complex128", BFloat16: "bfloat16",
}

func (d DataType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// Storage is where a DataType keeps its elements in a Tensor.
type Storage uint8

// The storage classes: every DataType lives in exactly one of a Tensor's slices.
const (
	StoreNone Storage = iota
	StoreF32          // Float, Float16, BFloat16: Tensor.F32
	StoreF64          // Double: Tensor.F64
	StoreI64          // every integer type (uint64 as its bit pattern): Tensor.I64
	StoreBool         // Bool: Tensor.B
	StoreStr          // String: Tensor.S
	StoreSeq          // Sequence, Optional: Tensor.Seq
)

// Storage reports the slice a Tensor of this type uses.
func (d DataType) Storage() Storage {
	switch d {
	case Float, Float16, BFloat16:
		return StoreF32
	case Double:
		return StoreF64
	case Uint8, Int8, Uint16, Int16, Int32, Int64, Uint32, Uint64:
		return StoreI64
	case Bool:
		return StoreBool
	case String:
		return StoreStr
	case Sequence, Optional:
		return StoreSeq
	}
	return StoreNone
}

// IsFloat reports whether d is a floating-point type.
func (d DataType) IsFloat() bool {
	return d == Float || d == Double || d == Float16 || d == BFloat16
}

// IsInt reports whether d is an integer type.
func (d DataType) IsInt() bool { return d.Storage() == StoreI64 }

// IsUnsigned reports whether d is an unsigned integer type.
func (d DataType) IsUnsigned() bool {
	return d == Uint8 || d == Uint16 || d == Uint32 || d == Uint64
}

// Tensor is a dense, row-major ONNX value: an element type, a shape and the
// one data slice that its type's Storage names (the others are nil or unused).
//
// Float16 and BFloat16 values are held as float32 (rounded to the type after
// every kernel); all integer types are held as int64 (wrapped to the type's
// range after every kernel; uint64 as its two's-complement bit pattern). So a
// kernel handles at most five element kinds.
type Tensor struct {
	DType DataType
	Shape []int
	F32   []float32
	F64   []float64
	I64   []int64
	B     []bool
	S     []string
	// Seq holds a Sequence's elements, or an Optional's value (none or one).
	Seq []*Tensor
	// Elem is the element type of a Sequence or Optional, when known.
	Elem DataType
}

// NewTensor returns a zeroed tensor of the given type and shape.
// It panics if a dimension is negative or the type has no storage.
func NewTensor(dt DataType, shape ...int) *Tensor {
	t := &Tensor{}
	t.Reset(dt, shape)
	return t
}

// Size returns the number of elements (1 for a scalar of shape []).
func (t *Tensor) Size() int { return numel(t.Shape) }

// Rank returns len(t.Shape).
func (t *Tensor) Rank() int { return len(t.Shape) }

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Reset makes t a tensor of type dt and the given shape, reusing t's shape
// and data slices when their capacity allows, so a kernel that writes its
// outputs through Reset allocates nothing on repeated runs with the same
// shapes. The elements are NOT zeroed when storage is reused: a kernel must
// write every element (or call Zero). shape may alias t.Shape. Only the
// slice of dt's storage class is meaningful afterwards; the others may hold
// stale data.
// It panics if a dimension is negative or dt has no storage.
func (t *Tensor) Reset(dt DataType, shape []int) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("onnx: Tensor.Reset: negative dimension in %v", append([]int(nil), shape...)))
		}
		if d != 0 && n > math.MaxInt/16/d {
			panic(fmt.Sprintf("onnx: Tensor.Reset: shape %v too large", append([]int(nil), shape...)))
		}
		n *= d
	}
	if cap(t.Shape) >= len(shape) && t.Shape != nil {
		s := t.Shape[:len(shape)]
		copy(s, shape)
		t.Shape = s
	} else if len(shape) == 0 {
		t.Shape = []int{}
	} else {
		t.Shape = append([]int(nil), shape...)
	}
	// The slices of other storage classes are kept (stale): a planned
	// buffer that holds values of different types in turn then reuses
	// each backing array instead of reallocating every run.
	t.DType = dt
	switch dt.Storage() {
	case StoreF32:
		t.F32 = grow(t.F32, n)
	case StoreF64:
		t.F64 = grow(t.F64, n)
	case StoreI64:
		t.I64 = grow(t.I64, n)
	case StoreBool:
		t.B = grow(t.B, n)
	case StoreStr:
		t.S = grow(t.S, n)
	case StoreSeq:
		t.Seq = t.Seq[:0]
	default:
		panic(fmt.Sprintf("onnx: Tensor.Reset: unsupported element type %v", dt))
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// Zero sets every element to its zero value.
func (t *Tensor) Zero() {
	clear(t.F32)
	clear(t.F64)
	clear(t.I64)
	clear(t.B)
	clear(t.S)
}

// CopyFrom makes t a copy of src (type, shape and elements), reusing t's storage.
func (t *Tensor) CopyFrom(src *Tensor) {
	t.Reset(src.DType, src.Shape)
	switch src.DType.Storage() {
	case StoreF32:
		copy(t.F32, src.F32)
	case StoreF64:
		copy(t.F64, src.F64)
	case StoreI64:
		copy(t.I64, src.I64)
	case StoreBool:
		copy(t.B, src.B)
	case StoreStr:
		copy(t.S, src.S)
	case StoreSeq:
		t.Elem = src.Elem
		for _, e := range src.Seq {
			t.Append(e)
		}
	}
}

// Append adds a deep copy of e to the sequence (or optional) t, reusing an
// element tensor left from an earlier run when there is one.
func (t *Tensor) Append(e *Tensor) {
	n := len(t.Seq)
	if n < cap(t.Seq) && t.Seq[:n+1][n] != nil {
		t.Seq = t.Seq[:n+1]
	} else {
		t.Seq = append(t.Seq, &Tensor{})
	}
	t.Seq[n].CopyFrom(e)
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{}
	c.CopyFrom(t)
	return c
}

// Float64At returns element i converted to float64 (bool as 0/1; strings panic).
func (t *Tensor) Float64At(i int) float64 {
	switch t.DType.Storage() {
	case StoreF32:
		return float64(t.F32[i])
	case StoreF64:
		return t.F64[i]
	case StoreI64:
		if t.DType == Uint64 {
			return float64(uint64(t.I64[i]))
		}
		return float64(t.I64[i])
	case StoreBool:
		if t.B[i] {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("onnx: Tensor.Float64At: %v tensor", t.DType))
}

// Int64At returns element i converted to int64 (floats truncated; strings panic).
func (t *Tensor) Int64At(i int) int64 {
	switch t.DType.Storage() {
	case StoreF32:
		return int64(t.F32[i])
	case StoreF64:
		return int64(t.F64[i])
	case StoreI64:
		return t.I64[i]
	case StoreBool:
		if t.B[i] {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("onnx: Tensor.Int64At: %v tensor", t.DType))
}

// Ints returns the elements of an integer tensor as []int (for shape-like
// inputs such as Reshape's shape or Slice's starts). It returns an error if
// t is not an integer tensor.
func (t *Tensor) Ints() ([]int, error) {
	if t.DType.Storage() != StoreI64 {
		return nil, fmt.Errorf("expected an integer tensor, got %v", t.DType)
	}
	out := make([]int, len(t.I64))
	for i, v := range t.I64 {
		out[i] = int(v)
	}
	return out, nil
}

// normalize rounds float16/bfloat16 values to their type and wraps integers
// to their type's range, after a kernel computed them in float32/int64.
func (t *Tensor) normalize() {
	switch t.DType {
	case Float16:
		for i, v := range t.F32 {
			t.F32[i] = Float16ToFloat32(Float32ToFloat16(v))
		}
	case BFloat16:
		for i, v := range t.F32 {
			t.F32[i] = BFloat16ToFloat32(Float32ToBFloat16(v))
		}
	case Int32:
		wrapInts[int32](t.I64)
	case Int16:
		wrapInts[int16](t.I64)
	case Int8:
		wrapInts[int8](t.I64)
	case Uint32:
		wrapInts[uint32](t.I64)
	case Uint16:
		wrapInts[uint16](t.I64)
	case Uint8:
		wrapInts[uint8](t.I64)
	}
}

// wrapInts wraps each value of s to the range of T, as a conversion to T
// and back does.
func wrapInts[T int8 | int16 | int32 | uint8 | uint16 | uint32](s []int64) {
	for i, v := range s {
		s[i] = int64(T(v))
	}
}

// String formats t briefly: type, shape and up to 8 leading elements.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v%v[", t.DType, t.Shape)
	n := t.Size()
	for i := 0; i < n && i < 8; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch t.DType.Storage() {
		case StoreStr:
			fmt.Fprintf(&b, "%q", t.S[i])
		case StoreBool:
			fmt.Fprint(&b, t.B[i])
		case StoreI64:
			fmt.Fprint(&b, t.I64[i])
		default:
			fmt.Fprint(&b, t.Float64At(i))
		}
	}
	if n > 8 {
		b.WriteString(" ...")
	}
	b.WriteByte(']')
	return b.String()
}

// Float16ToFloat32 converts IEEE half-precision bits to float32 exactly.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0:
		if man == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: man * 2^-24, exact in float32.
		f := float32(man) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

// Float32ToFloat16 rounds f to the nearest half-precision value (ties to even).
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00 | uint16(man>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := man | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// BFloat16ToFloat32 converts bfloat16 bits to float32 exactly.
func BFloat16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Float32ToBFloat16 rounds f to the nearest bfloat16 (ties to even; NaN stays NaN).
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
