package tensor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// NumPy .npy support. The format (numpy/lib/format.py): the magic
// "\x93NUMPY", a major and minor version byte, the header length (uint16
// little-endian in version 1.0, uint32 in 2.0 and 3.0), then an ASCII (UTF-8
// in 3.0) Python dict literal with the keys 'descr', 'fortran_order' and
// 'shape', padded with spaces and a newline, then the raw elements.

// Sentinels for .npy and .npz input problems, wrapped by the returned errors
// (match with errors.Is).
var (
	// ErrNPY: the data is not a well-formed .npy or .npz file (bad magic,
	// version, header, shape, or data shorter than the header declares).
	ErrNPY = errors.New("tensor: malformed .npy/.npz data")
	// ErrNPYType: a well-formed file whose element type is not float32 or
	// float64 ('<f4', '>f4', '<f8', '>f8').
	ErrNPYType = errors.New("tensor: unsupported .npy element type")
)

const (
	npyMagic = "\x93NUMPY"
	// npyMaxHeader bounds the header we are willing to read, so a lying
	// length field cannot make us allocate much. NumPy itself refuses
	// headers over 10000 bytes by default.
	npyMaxHeader = 1 << 20
	// npyAlign is the alignment of the data start that NumPy writes.
	npyAlign = 64
	// npyChunk is how many bytes of element data are decoded per read; the
	// result grows as data actually arrives, so a header claiming a huge
	// shape costs nothing until the bytes are there.
	npyChunk = 1 << 16
)

// WriteNPY writes t to w in .npy format: C (row-major) order whatever t's
// strides (a non-contiguous view is copied once first), little-endian
// '<f4' for float32 or '<f8' for float64, header padded so the data starts
// at a multiple of 64 bytes, version 1.0 (2.0 if the header does not fit in
// 65535 bytes). It panics if t is nil, and returns the first error from w.
func WriteNPY[T Float](w io.Writer, t *Dense[T]) error {
	if t == nil {
		panic(fmt.Errorf("%w: WriteNPY: nil tensor", ErrShape))
	}
	if err := writeNPYHeader(w, npyDescr[T](), t.shape); err != nil {
		return err
	}
	return writeNPYData(w, t.Contiguous().Data())
}

// npyDescr returns the little-endian descr of T.
func npyDescr[T Float]() string {
	if unsafe.Sizeof(T(0)) == 4 {
		return "<f4"
	}
	return "<f8"
}

func writeNPYHeader(w io.Writer, descr string, shape []int) error {
	var h strings.Builder
	fmt.Fprintf(&h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr)
	for i, d := range shape {
		if i > 0 {
			h.WriteString(", ")
		}
		h.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		h.WriteByte(',')
	}
	h.WriteString("), }")
	// Pad with spaces and end with '\n' so the data starts aligned.
	body := h.String()
	version, lenSize := byte(1), 2
	if len(body)+1+npyAlign > math.MaxUint16 {
		version, lenSize = 2, 4
	}
	total := len(npyMagic) + 2 + lenSize + len(body) + 1
	pad := (npyAlign - total%npyAlign) % npyAlign
	hlen := len(body) + pad + 1
	buf := make([]byte, 0, len(npyMagic)+2+lenSize+hlen)
	buf = append(buf, npyMagic...)
	buf = append(buf, version, 0)
	if lenSize == 2 {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(hlen))
	} else {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(hlen))
	}
	buf = append(buf, body...)
	for range pad {
		buf = append(buf, ' ')
	}
	buf = append(buf, '\n')
	_, err := w.Write(buf)
	return err
}

// writeNPYData writes the elements little-endian, a chunk at a time.
func writeNPYData[T Float](w io.Writer, data []T) error {
	size := int(unsafe.Sizeof(T(0)))
	buf := make([]byte, min(npyChunk, len(data)*size))
	for len(data) > 0 {
		n := min(len(data), len(buf)/size)
		b := buf[:n*size]
		if size == 4 {
			for i, v := range data[:n] {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(v)))
			}
		} else {
			for i, v := range data[:n] {
				binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(float64(v)))
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// npyHeader is what ReadNPY learns from a header.
type npyHeader struct {
	big     bool // big-endian data
	size    int  // bytes per element: 4 or 8 (floats), 1, 2, 4 or 8 (integers)
	kind    byte // 'f' float, 'i' signed, 'u' unsigned, 'b' bool
	fortran bool
	shape   []int
	count   int // elements
}

// ReadNPY reads one array in .npy format from r: versions 1.0, 2.0 and 3.0,
// element types '<f4', '>f4', '<f8' and '>f8' (and, converted exactly, the
// little-endian integers '<i1' to '<i8', '|u1' and bool '|b1', which a
// state dict's buffers hold), C or Fortran order, any shape
// including () (a scalar) and shapes with zeros. It reads exactly the
// array's bytes, so several arrays written one after another can be read in
// turn.
//
// The result is always a fresh C-contiguous tensor: Fortran-order data is
// transposed into row-major order while reading. An element type that
// differs from T is converted as Go's conversions do: float32 to float64
// exactly, float64 to float32 rounding to nearest.
//
// Malformed input returns an error wrapping ErrNPY (truncated data also
// wraps io.ErrUnexpectedEOF), an element type other than the four above one
// wrapping ErrNPYType, and a failing reader its error. Memory grows with the
// bytes actually read, not with the shape the header claims.
func ReadNPY[T Float](r io.Reader) (*Dense[T], error) {
	limit := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		limit = int64(l.Len()) // bytes.Reader, bytes.Buffer, strings.Reader
	}
	return readNPY[T](r, limit, limit >= 0)
}

// readNPY is ReadNPY with an upper bound on the bytes left in r when known
// (limit >= 0), which lets it reject a short file before reading. Only if
// the bound is a fact (exact: the size of a file or of bytes in memory,
// not a size some header claims) does it allocate the whole result at once;
// otherwise the result grows as data arrive.
func readNPY[T Float](r io.Reader, limit int64, exact bool) (*Dense[T], error) {
	h, hbytes, err := readNPYHeader(r)
	if err != nil {
		return nil, err
	}
	dataBytes := int64(h.count) * int64(h.size) // count <= MaxInt/size: no overflow
	if limit >= 0 && dataBytes > limit-int64(hbytes) {
		return nil, fmt.Errorf("%w: ReadNPY: shape %v needs %d bytes of data, only %d present: %w",
			ErrNPY, h.shape, dataBytes, max(limit-int64(hbytes), 0), io.ErrUnexpectedEOF)
	}
	data, err := readNPYData[T](r, h, exact && limit >= 0)
	if err != nil {
		return nil, err
	}
	if !h.fortran || len(h.shape) < 2 {
		return &Dense[T]{data: data, shape: h.shape, strides: rowMajor(h.shape)}, nil
	}
	// Fortran order: element (i0, i1, ...) is at i0 + d0*(i1 + d1*(...)).
	// Describe that layout with strides and copy it into row-major order.
	st := make([]int, len(h.shape))
	s := 1
	for i, d := range h.shape {
		st[i] = s
		s *= d
	}
	return (&Dense[T]{data: data, shape: h.shape, strides: st}).Clone(), nil
}

// readNPYHeader reads and checks everything up to the data, returning the
// header and the number of bytes it took.
func readNPYHeader(r io.Reader) (npyHeader, int, error) {
	var h npyHeader
	var pre [len(npyMagic) + 2]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return h, 0, npyReadErr("magic", err)
	}
	if string(pre[:len(npyMagic)]) != npyMagic {
		return h, 0, fmt.Errorf("%w: ReadNPY: bad magic %q (want %q)", ErrNPY, pre[:len(npyMagic)], npyMagic)
	}
	major, minor := pre[6], pre[7]
	var hlen int
	lenSize := 4
	switch major {
	case 1:
		lenSize = 2
	case 2, 3:
	default:
		return h, 0, fmt.Errorf("%w: ReadNPY: unsupported format version %d.%d", ErrNPY, major, minor)
	}
	if minor != 0 {
		return h, 0, fmt.Errorf("%w: ReadNPY: unsupported format version %d.%d", ErrNPY, major, minor)
	}
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:lenSize]); err != nil {
		return h, 0, npyReadErr("header length", err)
	}
	if lenSize == 2 {
		hlen = int(binary.LittleEndian.Uint16(lb[:]))
	} else {
		l := binary.LittleEndian.Uint32(lb[:])
		if l > npyMaxHeader {
			return h, 0, fmt.Errorf("%w: ReadNPY: header length %d exceeds %d", ErrNPY, l, npyMaxHeader)
		}
		hlen = int(l)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return h, 0, npyReadErr("header", err)
	}
	if err := parseNPYHeader(string(hb), &h); err != nil {
		return h, 0, err
	}
	return h, len(pre) + lenSize + hlen, nil
}

// npyReadErr wraps a read error: running out of bytes is malformed input,
// anything else is the reader's problem and passes through.
func npyReadErr(what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: ReadNPY: truncated %s: %w", ErrNPY, what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("tensor: ReadNPY: reading %s: %w", what, err)
}

// parseNPYHeader parses the dict literal, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
func parseNPYHeader(s string, h *npyHeader) error {
	p := &pyParser{s: s}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: ReadNPY: header %q: %s", ErrNPY, clip(s), fmt.Sprintf(format, args...))
	}
	if !p.eat('{') {
		return bad("does not start with '{'")
	}
	var descr string
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return bad("expected a quoted key at offset %d", p.i)
		}
		if seen[key] {
			return bad("duplicate key %q", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return bad("expected ':' after key %q", key)
		}
		switch key {
		case "descr":
			if descr, ok = p.str(); !ok {
				return bad("'descr' is not a string")
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return bad("'fortran_order' is not True or False")
			}
		case "shape":
			shape, err := p.tuple()
			if err != "" {
				return bad("'shape': %s", err)
			}
			h.shape = shape
		default:
			return bad("unexpected key %q", key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return bad("expected ',' or '}' at offset %d", p.i)
			}
			break
		}
	}
	p.space()
	if p.i != len(p.s) {
		return bad("trailing characters after the dict")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return bad("missing key %q", k)
		}
	}
	h.kind = 'f'
	switch descr {
	case "<i8", "=i8", "<i4", "=i4", "<i2", "=i2", "|i1", "<i1", "=i1":
		// Integer arrays of a PyTorch state dict saved by numpy
		// (num_batches_tracked is int64), read exactly.
		h.kind, h.size = 'i', int(descr[2]-'0')
	case "|u1", "<u1", "=u1":
		h.kind, h.size = 'u', 1
	case "|b1":
		h.kind, h.size = 'b', 1
	case "<f4", "=f4":
		h.big, h.size = false, 4
	case ">f4":
		h.big, h.size = true, 4
	case "<f8", "=f8":
		h.big, h.size = false, 8
	case ">f8":
		h.big, h.size = true, 8
	default:
		return fmt.Errorf("%w: ReadNPY: descr %q (only '<f4', '>f4', '<f8', '>f8', little-endian i1-i8, u1 and b1 are read)", ErrNPYType, descr)
	}
	// NumPy writes '<' on every host; '=' (native) only appears in files
	// made by hand, and we read it as little-endian, which is what NumPy
	// on the machines that make such files means.
	// The product of the non-zero dimensions is bounded too, so that no
	// stride overflows in a shape such as (0, 2^62, 2^62). (f4 data read
	// into float64 needs twice the bytes: readNPYData checks that bound as
	// the data arrive.)
	n, ok := shapeElems(h.shape, math.MaxInt/h.size)
	if !ok {
		return bad("shape %v is too large", h.shape)
	}
	h.count = n
	return nil
}

// clip shortens a header for an error message.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// readNPYData reads h.count elements, growing the result as data arrives
// unless the size is already known to be present (exact).
func readNPYData[T Float](r io.Reader, h npyHeader, exact bool) ([]T, error) {
	want := h.count
	capHint := want
	if !exact {
		capHint = min(want, npyChunk)
	}
	if exact && want > MaxElements[T]() {
		return nil, fmt.Errorf("%w: ReadNPY: %d elements do not fit a %T slice", ErrNPY, want, T(0))
	}
	data := make([]T, 0, capHint)
	buf := make([]byte, min(npyChunk, want*h.size))
	for len(data) < want {
		n := min(want-len(data), len(buf)/h.size)
		if len(data)+n > MaxElements[T]() { // f4 read as float64 on a 32-bit machine
			return nil, fmt.Errorf("%w: ReadNPY: %d elements do not fit a %T slice", ErrNPY, want, T(0))
		}
		b := buf[:n*h.size]
		if _, err := io.ReadFull(r, b); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%w: ReadNPY: data ends after %d of %d elements: %w",
					ErrNPY, len(data), want, io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("tensor: ReadNPY: reading data: %w", err)
		}
		if h.kind != 'f' {
			var bad bool
			if data, bad = decodeNPYInt(data, b, h); bad {
				return nil, fmt.Errorf("%w: ReadNPY: an integer element is not exactly representable as %T", ErrNPYType, T(0))
			}
			continue
		}
		data = decodeNPY(data, b, h.size, h.big)
	}
	return data, nil
}

// decodeNPYInt appends the little-endian integer or bool elements in b to
// data, reporting bad for a value T cannot hold exactly.
func decodeNPYInt[T Float](data []T, b []byte, h npyHeader) ([]T, bool) {
	for ; len(b) >= h.size; b = b[h.size:] {
		var v int64
		switch {
		case h.kind == 'b':
			v = int64(min(b[0], 1))
		case h.kind == 'u':
			v = int64(b[0])
		case h.size == 1:
			v = int64(int8(b[0]))
		case h.size == 2:
			v = int64(int16(binary.LittleEndian.Uint16(b)))
		case h.size == 4:
			v = int64(int32(binary.LittleEndian.Uint32(b)))
		default:
			v = int64(binary.LittleEndian.Uint64(b))
		}
		t := T(v)
		if float64(t) != float64(v) || v > 1<<53 || v < -(1<<53) {
			return data, true
		}
		data = append(data, t)
	}
	return data, false
}

// decodeNPY appends the elements encoded in b to data. The four loops are
// spelled out so each byte-order call is direct and inlined.
func decodeNPY[T Float](data []T, b []byte, size int, big bool) []T {
	switch {
	case size == 4 && !big:
		for ; len(b) >= 4; b = b[4:] {
			data = append(data, T(math.Float32frombits(binary.LittleEndian.Uint32(b))))
		}
	case size == 4:
		for ; len(b) >= 4; b = b[4:] {
			data = append(data, T(math.Float32frombits(binary.BigEndian.Uint32(b))))
		}
	case !big:
		for ; len(b) >= 8; b = b[8:] {
			data = append(data, T(math.Float64frombits(binary.LittleEndian.Uint64(b))))
		}
	default:
		for ; len(b) >= 8; b = b[8:] {
			data = append(data, T(math.Float64frombits(binary.BigEndian.Uint64(b))))
		}
	}
	return data
}

// pyParser reads the small subset of Python literal syntax in .npy headers.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// eat skips space and then c if it is next.
func (p *pyParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// word skips space and then w if it is next as a whole word.
func (p *pyParser) word(w string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], w) {
		end := p.i + len(w)
		if end == len(p.s) || !isIdent(p.s[end]) {
			p.i = end
			return true
		}
	}
	return false
}

func isIdent(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// str reads a single- or double-quoted string without escapes (none occur
// in valid headers).
func (p *pyParser) str() (string, bool) {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", false
	}
	p.i += end + 2
	return v, true
}

// tuple reads a tuple of non-negative integers: (), (3,), (3, 4), with an
// optional trailing comma and Python 2's L suffix. It returns a description
// of the problem instead of the shape when there is one.
func (p *pyParser) tuple() ([]int, string) {
	if !p.eat('(') {
		return nil, "not a tuple"
	}
	var shape []int // nil for (), as New gives a scalar
	for {
		if p.eat(')') {
			return shape, ""
		}
		p.space()
		start := p.i
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start {
			return nil, fmt.Sprintf("expected a non-negative integer at offset %d", start)
		}
		d, err := strconv.Atoi(p.s[start:p.i])
		if err != nil {
			return nil, fmt.Sprintf("dimension %s out of range", p.s[start:p.i])
		}
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		shape = append(shape, d)
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, fmt.Sprintf("expected ',' or ')' at offset %d", p.i)
			}
			if len(shape) == 1 {
				// (3) is the integer 3, not a tuple; NumPy never writes it.
				return nil, "one-element tuple without a trailing comma"
			}
			return shape, ""
		}
	}
}

// SaveNPY writes t to the file at path (created or truncated) with
// WriteNPY.
func SaveNPY[T Float](path string, t *Dense[T]) error {
	if t == nil {
		panic(fmt.Errorf("%w: SaveNPY: nil tensor", ErrShape))
	}
	return saveFile(path, func(w io.Writer) error { return WriteNPY(w, t) })
}

// LoadNPY reads the .npy file at path with ReadNPY. The file's size bounds
// what the header may declare, so a truncated file fails before any large
// allocation. The file must hold exactly one array: bytes after it are an
// error wrapping ErrNPY, as inside a ReadNPZ member.
func LoadNPY[T Float](path string) (*Dense[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		limit = st.Size()
	}
	br := bufio.NewReaderSize(f, npyChunk)
	t, err := readNPY[T](br, limit, limit >= 0)
	if err == nil {
		err = npyAtEnd(br)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// npyAtEnd returns an error unless r is at its end: a file or archive
// member holds one array and nothing after it.
func npyAtEnd(r io.Reader) error {
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	switch {
	case n > 0:
		return fmt.Errorf("%w: trailing bytes after the array", ErrNPY)
	case err != io.EOF && err != io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: %w", ErrNPY, err)
	}
	return nil
}
