package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file decodes the ONNX protobuf messages by hand with protowire (no
// generated code). The input is untrusted: every length comes from protowire,
// which checks it against the bytes left; repeated fields grow by append, so
// memory stays proportional to the bytes read; nesting is bounded by maxDepth.

// maxDepth bounds message nesting (graphs inside attributes inside nodes ...).
const maxDepth = 64

type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64 // varint, fixed32 or fixed64 payload
	b   []byte // bytes payload
}

func protoErr(msg string, args ...any) error {
	return fmt.Errorf("onnx: malformed protobuf: "+msg, args...)
}

// eachField calls fn for every field of the message encoded in b.
func eachField(what string, b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protoErr("%s: tag: %v", what, protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protoErr("%s: field %d: %v", what, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (f field) want(what string, t protowire.Type) error {
	if f.typ != t {
		return protoErr("%s: field %d has wire type %d, want %d", what, f.num, f.typ, t)
	}
	return nil
}

func (f field) str(what string) (string, error) {
	if err := f.want(what, protowire.BytesType); err != nil {
		return "", err
	}
	return string(f.b), nil
}

// strs appends a repeated string field.
func (f field) strs(what string, dst []string) ([]string, error) {
	s, err := f.str(what)
	if err != nil {
		return dst, err
	}
	return append(dst, s), nil
}

// appendMsg decodes a repeated message field with dec and appends the
// result to dst.
func appendMsg[T any](f field, what string, dst []T, dec func([]byte) (T, error)) ([]T, error) {
	if err := f.want(what, protowire.BytesType); err != nil {
		return dst, err
	}
	v, err := dec(f.b)
	if err != nil {
		return dst, err
	}
	return append(dst, v), nil
}

// stringEntry decodes a StringStringEntryProto (metadata_props,
// external_data) field.
func (f field) stringEntry(what string) (k, v string, err error) {
	if err := f.want(what, protowire.BytesType); err != nil {
		return "", "", err
	}
	err = eachField("StringStringEntryProto", f.b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			k, err = f.str("key")
		case 2:
			v, err = f.str("value")
		}
		return err
	})
	return k, v, err
}

func (f field) varint(what string) (int64, error) {
	if err := f.want(what, protowire.VarintType); err != nil {
		return 0, err
	}
	return int64(f.u), nil
}

// varints appends a repeated varint field, packed or not.
func (f field) varints(what string, dst []int64) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.u)), nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, protoErr("%s: packed varint: %v", what, protowire.ParseError(n))
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, protoErr("%s: field %d has wire type %d for varints", what, f.num, f.typ)
}

// fixed32s appends a repeated fixed32 field (floats), packed or not.
func (f field) fixed32s(what string, dst []uint32) ([]uint32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, uint32(f.u)), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return nil, protoErr("%s: packed fixed32 length %d", what, len(f.b))
		}
		for i := 0; i < len(f.b); i += 4 {
			dst = append(dst, binary.LittleEndian.Uint32(f.b[i:]))
		}
		return dst, nil
	}
	return nil, protoErr("%s: field %d has wire type %d for floats", what, f.num, f.typ)
}

// fixed64s appends a repeated fixed64 field (doubles), packed or not.
func (f field) fixed64s(what string, dst []uint64) ([]uint64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, f.u), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return nil, protoErr("%s: packed fixed64 length %d", what, len(f.b))
		}
		for i := 0; i < len(f.b); i += 8 {
			dst = append(dst, binary.LittleEndian.Uint64(f.b[i:]))
		}
		return dst, nil
	}
	return nil, protoErr("%s: field %d has wire type %d for doubles", what, f.num, f.typ)
}

type decoder struct {
	dir      string // model folder for external data; "" forbids external data
	external bool
}

// model decodes a ModelProto into m (graph not yet compiled).
func (d *decoder) model(b []byte) (*Model, error) {
	m := &Model{Opsets: map[string]int{}, Metadata: map[string]string{}}
	var graphBytes []byte
	err := eachField("ModelProto", b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			m.IRVersion, err = f.varint("ModelProto.ir_version")
		case 2:
			m.ProducerName, err = f.str("ModelProto.producer_name")
		case 3:
			m.ProducerVersion, err = f.str("ModelProto.producer_version")
		case 4:
			m.Domain, err = f.str("ModelProto.domain")
		case 5:
			m.ModelVersion, err = f.varint("ModelProto.model_version")
		case 6:
			m.DocString, err = f.str("ModelProto.doc_string")
		case 7:
			if err = f.want("ModelProto.graph", protowire.BytesType); err == nil {
				graphBytes = f.b
			}
		case 8:
			if err = f.want("ModelProto.opset_import", protowire.BytesType); err != nil {
				return err
			}
			var dom string
			var ver int64
			err = eachField("OperatorSetIdProto", f.b, func(f field) error {
				var err error
				switch f.num {
				case 1:
					dom, err = f.str("OperatorSetIdProto.domain")
				case 2:
					ver, err = f.varint("OperatorSetIdProto.version")
				}
				return err
			})
			if err == nil {
				if ver < 1 || ver > 1<<20 {
					return protoErr("opset version %d for domain %q", ver, dom)
				}
				m.Opsets[canonDomain(dom)] = int(ver)
			}
		case 14:
			var k, v string
			if k, v, err = f.stringEntry("ModelProto.metadata_props"); err == nil {
				m.Metadata[k] = v
			}
		case 25:
			m.hasFunctions = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if graphBytes == nil {
		return nil, protoErr("ModelProto has no graph")
	}
	m.Graph, err = d.graph(graphBytes, 1)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (d *decoder) graph(b []byte, depth int) (*Graph, error) {
	if depth > maxDepth {
		return nil, protoErr("graphs nested deeper than %d", maxDepth)
	}
	g := &Graph{}
	err := eachField("GraphProto", b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			g.Nodes, err = appendMsg(f, "GraphProto.node", g.Nodes, func(b []byte) (*Node, error) { return d.node(b, depth) })
		case 2:
			g.Name, err = f.str("GraphProto.name")
		case 5:
			g.Initializers, err = appendMsg(f, "GraphProto.initializer", g.Initializers, func(b []byte) (NamedTensor, error) {
				t, name, err := d.tensor(b)
				return NamedTensor{name, t}, err
			})
		case 15:
			return fmt.Errorf("onnx: sparse initializers: %w", ErrUnsupported)
		case 11, 12, 13:
			if err = f.want("GraphProto.input/output/value_info", protowire.BytesType); err != nil {
				return err
			}
			var vi ValueInfo
			if vi, err = d.valueInfo(f.b, depth); err != nil {
				return err
			}
			switch f.num {
			case 11:
				g.Inputs = append(g.Inputs, vi)
			case 12:
				g.Outputs = append(g.Outputs, vi)
			default:
				g.ValueInfo = append(g.ValueInfo, vi)
			}
		}
		return err
	})
	return g, err
}

func (d *decoder) node(b []byte, depth int) (*Node, error) {
	n := &Node{}
	err := eachField("NodeProto", b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			n.Inputs, err = f.strs("NodeProto.input", n.Inputs)
		case 2:
			n.Outputs, err = f.strs("NodeProto.output", n.Outputs)
		case 3:
			n.Name, err = f.str("NodeProto.name")
		case 4:
			n.OpType, err = f.str("NodeProto.op_type")
		case 7:
			n.Domain, err = f.str("NodeProto.domain")
		case 5:
			n.Attrs, err = appendMsg(f, "NodeProto.attribute", n.Attrs, func(b []byte) (*Attribute, error) { return d.attribute(b, depth) })
		}
		return err
	})
	n.Domain = canonDomain(n.Domain)
	return n, err
}

func (d *decoder) attribute(b []byte, depth int) (*Attribute, error) {
	a := &Attribute{}
	var refName string
	err := eachField("AttributeProto", b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			a.Name, err = f.str("AttributeProto.name")
		case 21:
			refName, err = f.str("AttributeProto.ref_attr_name")
		case 20:
			var v int64
			v, err = f.varint("AttributeProto.type")
			a.Type = AttrType(v)
		case 2:
			if err = f.want("AttributeProto.f", protowire.Fixed32Type); err == nil {
				a.F = math.Float32frombits(uint32(f.u))
			}
		case 3:
			a.I, err = f.varint("AttributeProto.i")
		case 4:
			a.S, err = f.str("AttributeProto.s")
		case 5:
			if err = f.want("AttributeProto.t", protowire.BytesType); err == nil {
				a.T, err = d.tensorOnly(f.b)
			}
		case 6:
			if err = f.want("AttributeProto.g", protowire.BytesType); err == nil {
				a.G, err = d.graph(f.b, depth+1)
			}
		case 7:
			var u []uint32
			if u, err = f.fixed32s("AttributeProto.floats", nil); err == nil {
				for _, v := range u {
					a.Floats = append(a.Floats, math.Float32frombits(v))
				}
			}
		case 8:
			a.Ints, err = f.varints("AttributeProto.ints", a.Ints)
		case 9:
			a.Strings, err = f.strs("AttributeProto.strings", a.Strings)
		case 10:
			a.Tensors, err = appendMsg(f, "AttributeProto.tensors", a.Tensors, d.tensorOnly)
		case 11:
			a.Graphs, err = appendMsg(f, "AttributeProto.graphs", a.Graphs, func(b []byte) (*Graph, error) { return d.graph(b, depth+1) })
		case 22, 23:
			return fmt.Errorf("onnx: attribute %q: sparse tensors: %w", a.Name, ErrUnsupported)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if refName != "" {
		return nil, fmt.Errorf("onnx: attribute %q refers to function attribute %q: %w", a.Name, refName, ErrUnsupported)
	}
	if a.Type == AttrUndefined {
		// IR version < 3 left the type out: infer it from the field set.
		switch {
		case a.T != nil:
			a.Type = AttrTensor
		case a.G != nil:
			a.Type = AttrGraph
		case a.Floats != nil:
			a.Type = AttrFloats
		case a.Ints != nil:
			a.Type = AttrInts
		case a.Strings != nil:
			a.Type = AttrStrings
		case a.S != "":
			a.Type = AttrString
		case a.F != 0:
			a.Type = AttrFloat
		default:
			a.Type = AttrInt
		}
	}
	return a, nil
}

func (d *decoder) valueInfo(b []byte, depth int) (ValueInfo, error) {
	var vi ValueInfo
	err := eachField("ValueInfoProto", b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			vi.Name, err = f.str("ValueInfoProto.name")
		case 2:
			if err = f.want("ValueInfoProto.type", protowire.BytesType); err == nil {
				err = d.typeProto(f.b, &vi, depth+1)
			}
		}
		return err
	})
	return vi, err
}

func (d *decoder) typeProto(b []byte, vi *ValueInfo, depth int) error {
	if depth > maxDepth {
		return protoErr("types nested deeper than %d", maxDepth)
	}
	return eachField("TypeProto", b, func(f field) error {
		switch f.num {
		case 1:
			if err := f.want("TypeProto.tensor_type", protowire.BytesType); err != nil {
				return err
			}
			vi.Kind = KindTensor
			return eachField("TypeProto.Tensor", f.b, func(f field) error {
				switch f.num {
				case 1:
					v, err := f.varint("TypeProto.Tensor.elem_type")
					vi.DType = DataType(v)
					return err
				case 2:
					if err := f.want("TypeProto.Tensor.shape", protowire.BytesType); err != nil {
						return err
					}
					vi.HasShape = true
					vi.Shape = []Dim{}
					return eachField("TensorShapeProto", f.b, func(f field) error {
						if f.num != 1 {
							return nil
						}
						if err := f.want("TensorShapeProto.dim", protowire.BytesType); err != nil {
							return err
						}
						dim := Dim{Value: -1}
						err := eachField("Dimension", f.b, func(f field) error {
							var err error
							switch f.num {
							case 1:
								dim.Value, err = f.varint("Dimension.dim_value")
								if err == nil && dim.Value < 0 {
									err = protoErr("negative dim_value %d", dim.Value)
								}
							case 2:
								dim.Param, err = f.str("Dimension.dim_param")
							}
							return err
						})
						vi.Shape = append(vi.Shape, dim)
						return err
					})
				}
				return nil
			})
		case 4:
			vi.Kind = KindSequence
		case 5:
			vi.Kind = KindMap
		case 9:
			vi.Kind = KindOptional
		case 8:
			vi.Kind = KindSparse
		}
		return nil
	})
}

// rawTensor gathers a TensorProto's fields before they become a Tensor.
type rawTensor struct {
	name     string
	dims     []int64
	dtype    DataType
	floats   []uint32
	int32s   []int64
	int64s   []int64
	doubles  []uint64
	uint64s  []int64
	strings  []string
	raw      []byte
	hasRaw   bool
	external map[string]string
	extern   bool
}

// tensor decodes a TensorProto.
func (d *decoder) tensor(b []byte) (*Tensor, string, error) {
	var r rawTensor
	err := eachField("TensorProto", b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			r.dims, err = f.varints("TensorProto.dims", r.dims)
		case 2:
			var v int64
			v, err = f.varint("TensorProto.data_type")
			r.dtype = DataType(v)
		case 3:
			return fmt.Errorf("onnx: segmented tensors: %w", ErrUnsupported)
		case 4:
			r.floats, err = f.fixed32s("TensorProto.float_data", r.floats)
		case 5:
			r.int32s, err = f.varints("TensorProto.int32_data", r.int32s)
		case 6:
			r.strings, err = f.strs("TensorProto.string_data", r.strings)
		case 7:
			r.int64s, err = f.varints("TensorProto.int64_data", r.int64s)
		case 8:
			r.name, err = f.str("TensorProto.name")
		case 9:
			if err = f.want("TensorProto.raw_data", protowire.BytesType); err == nil {
				r.raw, r.hasRaw = f.b, true
			}
		case 10:
			r.doubles, err = f.fixed64s("TensorProto.double_data", r.doubles)
		case 11:
			r.uint64s, err = f.varints("TensorProto.uint64_data", r.uint64s)
		case 13:
			var k, v string
			if k, v, err = f.stringEntry("TensorProto.external_data"); err == nil {
				if r.external == nil {
					r.external = map[string]string{}
				}
				r.external[k] = v
			}
		case 14:
			var v int64
			v, err = f.varint("TensorProto.data_location")
			r.extern = v == 1
		}
		return err
	})
	if err != nil {
		return nil, "", err
	}
	t, err := d.buildTensor(&r)
	if err != nil {
		return nil, "", fmt.Errorf("onnx: tensor %q: %w", r.name, err)
	}
	return t, r.name, nil
}

// tensorOnly decodes a TensorProto whose name does not matter.
func (d *decoder) tensorOnly(b []byte) (*Tensor, error) {
	t, _, err := d.tensor(b)
	return t, err
}

// elemSize is the raw_data width of each element type.
func elemSize(dt DataType) int {
	switch dt {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Double, Int64, Uint64:
		return 8
	}
	return 0
}

func (d *decoder) buildTensor(r *rawTensor) (*Tensor, error) {
	if r.dtype.Storage() == StoreNone {
		return nil, fmt.Errorf("element type %v: %w", r.dtype, ErrUnsupported)
	}
	shape := make([]int, len(r.dims))
	n := 1
	for i, v := range r.dims {
		if v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %d", v)
		}
		shape[i] = int(v)
		if v != 0 && n > (math.MaxInt/16)/int(v) {
			return nil, fmt.Errorf("shape %v too large", r.dims)
		}
		n *= int(v)
	}
	t := &Tensor{DType: r.dtype, Shape: shape}
	if r.extern {
		raw, err := d.readExternal(r.external, n*elemSize(r.dtype))
		if err != nil {
			return nil, err
		}
		r.raw, r.hasRaw = raw, true
	}
	if r.hasRaw {
		es := elemSize(r.dtype)
		if es == 0 {
			return nil, fmt.Errorf("raw_data for %v: %w", r.dtype, ErrUnsupported)
		}
		if len(r.raw) != n*es {
			return nil, fmt.Errorf("raw_data has %d bytes, shape %v of %v needs %d", len(r.raw), shape, r.dtype, n*es)
		}
		decodeRaw(t, r.raw, n)
		return t, nil
	}
	var have int
	switch r.dtype {
	case Float:
		have = len(r.floats)
	case Double:
		have = len(r.doubles)
	case Int64:
		have = len(r.int64s)
	case Uint32, Uint64:
		have = len(r.uint64s)
	case String:
		have = len(r.strings)
	default:
		have = len(r.int32s)
	}
	if have != n {
		return nil, fmt.Errorf("has %d values, shape %v needs %d", have, shape, n)
	}
	switch r.dtype.Storage() {
	case StoreF32:
		t.F32 = make([]float32, n)
		for i := range n {
			switch r.dtype {
			case Float:
				t.F32[i] = math.Float32frombits(r.floats[i])
			case Float16:
				t.F32[i] = Float16ToFloat32(uint16(r.int32s[i]))
			case BFloat16:
				t.F32[i] = BFloat16ToFloat32(uint16(r.int32s[i]))
			}
		}
	case StoreF64:
		t.F64 = make([]float64, n)
		for i, v := range r.doubles {
			t.F64[i] = math.Float64frombits(v)
		}
	case StoreI64:
		switch r.dtype {
		case Int64:
			t.I64 = r.int64s
		case Uint32, Uint64:
			t.I64 = r.uint64s
		default:
			t.I64 = r.int32s
		}
		t.normalize()
	case StoreBool:
		t.B = make([]bool, n)
		for i, v := range r.int32s {
			t.B[i] = v != 0
		}
	case StoreStr:
		t.S = r.strings
	}
	return t, nil
}

func decodeRaw(t *Tensor, raw []byte, n int) {
	le := binary.LittleEndian
	switch t.DType {
	case Float:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case Float16, BFloat16:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			h := le.Uint16(raw[2*i:])
			if t.DType == Float16 {
				t.F32[i] = Float16ToFloat32(h)
			} else {
				t.F32[i] = BFloat16ToFloat32(h)
			}
		}
	case Double:
		t.F64 = make([]float64, n)
		for i := range t.F64 {
			t.F64[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case Bool:
		t.B = make([]bool, n)
		for i := range t.B {
			t.B[i] = raw[i] != 0
		}
	default:
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			switch t.DType {
			case Uint8:
				t.I64[i] = int64(raw[i])
			case Int8:
				t.I64[i] = int64(int8(raw[i]))
			case Uint16:
				t.I64[i] = int64(le.Uint16(raw[2*i:]))
			case Int16:
				t.I64[i] = int64(int16(le.Uint16(raw[2*i:])))
			case Int32:
				t.I64[i] = int64(int32(le.Uint32(raw[4*i:])))
			case Uint32:
				t.I64[i] = int64(le.Uint32(raw[4*i:]))
			case Int64, Uint64:
				t.I64[i] = int64(le.Uint64(raw[8*i:]))
			}
		}
	}
}

// ParseTensor decodes one serialized TensorProto (as in the conformance
// data's input_*.pb files). External data is not allowed.
func ParseTensor(b []byte) (*Tensor, string, error) {
	d := &decoder{}
	return d.tensor(b)
}

// ParseValue decodes a serialized value of the given kind: a TensorProto
// (KindTensor or KindUnknown), a SequenceProto (KindSequence) or an
// OptionalProto (KindOptional), as the conformance data stores them.
func ParseValue(b []byte, kind Kind) (*Tensor, error) {
	d := &decoder{}
	return d.value(b, kind, 0)
}

func (d *decoder) value(b []byte, kind Kind, depth int) (*Tensor, error) {
	if depth > maxDepth {
		return nil, protoErr("values nested deeper than %d", maxDepth)
	}
	switch kind {
	case KindTensor, KindUnknown:
		return d.tensorOnly(b)
	case KindSequence, KindOptional:
	default:
		return nil, fmt.Errorf("onnx: %v values: %w", kind, ErrUnsupported)
	}
	out := &Tensor{DType: Sequence, Shape: []int{}}
	if kind == KindOptional {
		out.DType = Optional
	}
	var elem int64
	err := eachField("SequenceProto", b, func(f field) error {
		var err error
		switch f.num {
		case 2:
			elem, err = f.varint("elem_type")
		case 3, 5, 7: // tensor, sequence, optional value(s)
			k := map[protowire.Number]Kind{3: KindTensor, 5: KindSequence, 7: KindOptional}[f.num]
			out.Seq, err = appendMsg(f, "value", out.Seq, func(b []byte) (*Tensor, error) { return d.value(b, k, depth+1) })
		case 4, 6:
			return fmt.Errorf("onnx: sparse tensor or map values: %w", ErrUnsupported)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if kind == KindOptional && len(out.Seq) > 1 {
		return nil, protoErr("optional with %d values", len(out.Seq))
	}
	if len(out.Seq) > 0 {
		out.Elem = out.Seq[0].DType
	} else if elem == 3 {
		out.Elem = Sequence
	}
	return out, nil
}
