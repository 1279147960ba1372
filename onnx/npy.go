package onnx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// .npy files for every tensor type a model has at its boundary (the tensor
// package's reader handles float32/float64 only). Version 1.0-3.0 headers,
// little- or big-endian data, C order (Fortran order for rank < 2).

// ErrNPY is wrapped by every error for a malformed .npy file.
var ErrNPY = errors.New("onnx: malformed .npy data")

var npyDescr = map[string]DataType{
	"f4": Float, "f8": Double, "f2": Float16, "i8": Int64, "i4": Int32, "i2": Int16, "i1": Int8,
	"u8": Uint64, "u4": Uint32, "u2": Uint16, "u1": Uint8, "b1": Bool,
}

// ReadNPY decodes one .npy array held in b. Memory is proportional to
// len(b): the header's shape must match the bytes present.
func ReadNPY(b []byte) (*Tensor, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%w: bad magic", ErrNPY)
	}
	major := b[6]
	var hl, off int
	switch major {
	case 1:
		hl, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fmt.Errorf("%w: short header", ErrNPY)
		}
		u := binary.LittleEndian.Uint32(b[8:])
		if int64(u) > int64(len(b)) {
			return nil, fmt.Errorf("%w: header length %d past end of data", ErrNPY, u)
		}
		hl, off = int(u), 12
	default:
		return nil, fmt.Errorf("%w: version %d", ErrNPY, major)
	}
	if hl > len(b)-off {
		return nil, fmt.Errorf("%w: header length %d past end of data", ErrNPY, hl)
	}
	h := string(b[off : off+hl])
	data := b[off+hl:]
	descr, ok := npyField(h, "descr")
	if !ok || len(descr) < 4 || descr[0] != '\'' || descr[len(descr)-1] != '\'' {
		return nil, fmt.Errorf("%w: no descr in header %q", ErrNPY, clipStr(h))
	}
	descr = descr[1 : len(descr)-1]
	var order binary.ByteOrder = binary.LittleEndian
	switch descr[0] {
	case '<', '|', '=':
	case '>':
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: descr %q", ErrNPY, descr)
	}
	dt, ok := npyDescr[descr[1:]]
	if !ok {
		if descr[1:] == "?" {
			dt = Bool
		} else {
			return nil, fmt.Errorf("%w: element type %q: %w", ErrNPY, descr, ErrUnsupported)
		}
	}
	fo, _ := npyField(h, "fortran_order")
	shapeStr, ok := npyField(h, "shape")
	if !ok || !strings.HasPrefix(shapeStr, "(") || !strings.HasSuffix(shapeStr, ")") {
		return nil, fmt.Errorf("%w: no shape in header %q", ErrNPY, clipStr(h))
	}
	shape := []int{}
	for _, p := range strings.Split(shapeStr[1:len(shapeStr)-1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		d, err := strconv.Atoi(strings.TrimSuffix(p, "L"))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%w: shape %s", ErrNPY, shapeStr)
		}
		shape = append(shape, d)
	}
	if fo == "True" && len(shape) > 1 {
		return nil, fmt.Errorf("%w: Fortran order: %w", ErrNPY, ErrUnsupported)
	}
	es := elemSize(dt)
	n := 1
	for _, d := range shape {
		if d != 0 && n > len(data)/d+1 {
			return nil, fmt.Errorf("%w: shape %v needs more data than the %d bytes present", ErrNPY, shape, len(data))
		}
		n *= d
	}
	if int64(n)*int64(es) != int64(len(data)) {
		return nil, fmt.Errorf("%w: shape %v of %v needs %d bytes, have %d", ErrNPY, shape, dt, n*es, len(data))
	}
	if order == binary.BigEndian && es > 1 {
		sw := make([]byte, len(data))
		for i := 0; i < len(data); i += es {
			for j := range es {
				sw[i+j] = data[i+es-1-j]
			}
		}
		data = sw
	}
	t := &Tensor{DType: dt, Shape: shape}
	decodeRaw(t, data, n)
	return t, nil
}

func clipStr(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// npyField finds 'key': value in the header dict and returns value's text.
func npyField(h, key string) (string, bool) {
	i := strings.Index(h, "'"+key+"'")
	if i < 0 {
		return "", false
	}
	s := strings.TrimLeft(h[i+len(key)+2:], " ")
	if !strings.HasPrefix(s, ":") {
		return "", false
	}
	s = strings.TrimLeft(s[1:], " ")
	end := 0
	switch {
	case strings.HasPrefix(s, "("):
		end = strings.IndexByte(s, ')') + 1
	case strings.HasPrefix(s, "'"):
		end = strings.IndexByte(s[1:], '\'') + 2
	default:
		end = strings.IndexAny(s, ",}")
	}
	if end <= 0 {
		return "", false
	}
	return strings.TrimSpace(s[:end]), true
}

// WriteNPY writes t as a version 1.0 .npy array (float16/bfloat16 as float16
// and float32 respectively; strings are not supported).
func WriteNPY(w io.Writer, t *Tensor) error {
	var descr string
	dt := t.DType
	switch dt {
	case Float, BFloat16:
		descr, dt = "<f4", Float
	case Double:
		descr = "<f8"
	case Float16:
		descr = "<f2"
	case Int64:
		descr = "<i8"
	case Int32:
		descr = "<i4"
	case Int16:
		descr = "<i2"
	case Int8:
		descr = "|i1"
	case Uint64:
		descr = "<u8"
	case Uint32:
		descr = "<u4"
	case Uint16:
		descr = "<u2"
	case Uint8:
		descr = "|u1"
	case Bool:
		descr = "|b1"
	default:
		return fmt.Errorf("onnx: WriteNPY: %v: %w", t.DType, ErrUnsupported)
	}
	var sb strings.Builder
	sb.WriteString("(")
	for i, d := range t.Shape {
		if i > 0 {
			sb.WriteString(" ")
		}
		fmt.Fprintf(&sb, "%d,", d)
	}
	sb.WriteString(")")
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sb.String())
	pad := 64 - (10+len(h)+1)%64
	if pad == 64 {
		pad = 0
	}
	h += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	le := binary.LittleEndian
	n := t.Size()
	var b [8]byte
	for i := 0; i < n; i++ {
		switch dt {
		case Float:
			le.PutUint32(b[:], math.Float32bits(t.F32[i]))
			buf.Write(b[:4])
		case Float16:
			le.PutUint16(b[:], Float32ToFloat16(t.F32[i]))
			buf.Write(b[:2])
		case Double:
			le.PutUint64(b[:], math.Float64bits(t.F64[i]))
			buf.Write(b[:8])
		case Bool:
			if t.B[i] {
				buf.WriteByte(1)
			} else {
				buf.WriteByte(0)
			}
		default:
			le.PutUint64(b[:], uint64(t.I64[i]))
			buf.Write(b[:elemSize(dt)])
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}
