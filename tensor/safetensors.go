package tensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// safetensors support. The format (huggingface/safetensors, the format
// section of its docs and the Rust reference reader): an unsigned 64-bit
// little-endian header length N, then N bytes of UTF-8 JSON that starts
// with '{' and may be padded at the end with spaces, then the data buffer.
// The JSON object maps each tensor name to {"dtype", "shape",
// "data_offsets": [begin, end]}, offsets in bytes relative to the start of
// the data buffer; the optional key "__metadata__" holds a string→string
// object. Data is little-endian, C order. The tensors' byte ranges must
// cover the buffer exactly: no holes, no overlap, nothing after the last.

// Sentinels for safetensors input problems, wrapped by the returned errors
// (match with errors.Is).
var (
	// ErrSafetensors: the data is not a well-formed safetensors file (short
	// or oversized header, malformed or non-canonical JSON, duplicate names,
	// unknown dtypes, bad shapes, offsets out of range, overlapping, with
	// holes or not matching the shape, data truncated).
	ErrSafetensors = errors.New("tensor: malformed safetensors data")
	// ErrSafetensorsType: a well-formed file holding a tensor whose dtype is
	// valid in the format but not read here (U16, U32, U64, F8_*), or an
	// integer that the element type cannot hold exactly.
	ErrSafetensorsType = errors.New("tensor: unsupported safetensors dtype")
)

const (
	// stMaxHeader bounds the JSON header, as the reference implementation
	// does (100 MB); the file's size bounds it too.
	stMaxHeader = 100_000_000
	// stMetadataKey is the reserved name of the metadata object.
	stMetadataKey = "__metadata__"
	// stChunk is how many bytes of data are read and decoded at a time.
	stChunk = 1 << 16
)

// stDtypeSize gives the element size of every dtype the format defines;
// unknown strings are malformed files, known ones other than the four
// floats below are ErrSafetensorsType. Sizes are needed for the offset
// checks even of dtypes that are not read.
var stDtypeSize = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// stEntryCost is what one parsed entry costs besides its name and shape
// bytes: the stEntry, its map entry in seen and slice headers, rounded up.
const stEntryCost = 160

// stEntry is one tensor of a parsed header.
type stEntry struct {
	name       string
	dtype      string
	shape      []int
	count      int    // elements
	begin, end uint64 // byte range in the data buffer
}

// stHeader is a parsed and checked header.
type stHeader struct {
	entries  []stEntry // in data order
	metadata map[string]string
	dataAt   int64 // file offset of the data buffer
}

// stErr formats an error wrapping ErrSafetensors.
func stErr(op, format string, args ...any) error {
	return fmt.Errorf("%w: %s: "+format, append([]any{ErrSafetensors, op}, args...)...)
}

// ReadSafetensors reads every tensor of a safetensors file of size bytes
// from r. Elements of dtype F32, F64, F16 and BF16 are converted to T:
// F16 and BF16 exactly (subnormals, infinities and NaN payloads included),
// F32 to float64 exactly, F64 to float32 rounding to nearest as Go's
// conversion does. Each result is a fresh C-contiguous tensor; a shape of
// [] is a scalar.
//
// The integer and bool dtypes a PyTorch state dict holds (I8, I16, I32,
// I64, U8, BOOL; BatchNorm's num_batches_tracked is I64) are converted to T
// exactly; a value T cannot hold exactly (an I64 above 2^24 read as
// float32) is an error wrapping ErrSafetensorsType.
//
// A malformed file returns an error wrapping ErrSafetensors (truncated data
// also wraps io.ErrUnexpectedEOF), a well-formed file holding any other
// dtype (U16, U32, U64, F8_*) one wrapping ErrSafetensorsType, and a failing
// reader its error. Every size and offset in the header is checked against
// size before anything is allocated, and size itself is checked by reading
// the file's last byte, so memory stays in proportion to the file.
func ReadSafetensors[T Float](r io.ReaderAt, size int64) (map[string]*Dense[T], error) {
	h, err := readSTHeader(r, size, "ReadSafetensors")
	if err != nil {
		return nil, err
	}
	for _, e := range h.entries {
		switch e.dtype {
		case "F32", "F64", "F16", "BF16":
		case "I8", "I16", "I32", "I64", "U8", "BOOL":
		default:
			return nil, fmt.Errorf("%w: ReadSafetensors: tensor %s has dtype %s (only F32, F64, F16, BF16, I8, I16, I32, I64, U8 and BOOL are read)",
				ErrSafetensorsType, QuoteName(e.name), e.dtype)
		}
	}
	out := make(map[string]*Dense[T], len(h.entries))
	// One read buffer, no larger than the largest tensor's bytes, so that a
	// small file costs little more than its size.
	var largest int64
	for _, e := range h.entries {
		largest = max(largest, int64(e.end-e.begin))
	}
	buf := make([]byte, min(largest, stChunk))
	for _, e := range h.entries {
		data := make([]T, 0, e.count)
		at := h.dataAt + int64(e.begin)
		left := int64(e.end - e.begin)
		for left > 0 {
			n := min(left, stChunk)
			b := buf[:n]
			if err := stReadAt(r, b, at); err != nil {
				return nil, stReadErr(e.name, err)
			}
			var bad bool
			if data, bad = decodeSTInt(data, b, e.dtype); bad {
				return nil, fmt.Errorf("%w: ReadSafetensors: tensor %s: a %s value is not exactly representable as %T",
					ErrSafetensorsType, QuoteName(e.name), e.dtype, T(0))
			}
			data = decodeST(data, b, e.dtype)
			at += n
			left -= n
		}
		out[e.name] = &Dense[T]{data: data, shape: e.shape, strides: rowMajor(e.shape)}
	}
	return out, nil
}

// ReadSafetensorsMetadata returns the "__metadata__" object of a
// safetensors file of size bytes in r (nil when absent) after checking the
// whole header as ReadSafetensors does, without reading the tensors.
func ReadSafetensorsMetadata(r io.ReaderAt, size int64) (map[string]string, error) {
	h, err := readSTHeader(r, size, "ReadSafetensorsMetadata")
	if err != nil {
		return nil, err
	}
	return h.metadata, nil
}

// stReadErr wraps a ReadAt error: running out of bytes is malformed input,
// anything else is the reader's problem and passes through.
func stReadErr(what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: ReadSafetensors: %s: data truncated: %w", ErrSafetensors, what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("tensor: ReadSafetensors: reading %s: %w", what, err)
}

// stReadAt fills b from r at off. io.ReaderAt may report io.EOF together
// with a full read at the end of the input; that is success.
func stReadAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF // a ReaderAt breaking its contract
	}
	return err
}

// readSTHeader reads and checks the header; on success every entry's range
// lies in the file and the ranges tile the data buffer.
func readSTHeader(r io.ReaderAt, size int64, op string) (*stHeader, error) {
	if size < 8 {
		return nil, stErr(op, "%d bytes is shorter than the 8-byte header length: %w", max(size, 0), io.ErrUnexpectedEOF)
	}
	// Prove that size bytes exist before trusting it for allocation.
	var one [1]byte
	if err := stReadAt(r, one[:], size-1); err != nil {
		return nil, stReadErr("last byte", err)
	}
	var lb [8]byte
	if err := stReadAt(r, lb[:], 0); err != nil {
		return nil, stReadErr("header length", err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > stMaxHeader {
		return nil, stErr(op, "header length %d exceeds %d", n, stMaxHeader)
	}
	if n > uint64(size-8) {
		return nil, stErr(op, "header length %d exceeds the %d bytes after it: %w", n, size-8, io.ErrUnexpectedEOF)
	}
	hb := make([]byte, n)
	if err := stReadAt(r, hb, 8); err != nil {
		return nil, stReadErr("header", err)
	}
	h, err := parseSTHeader(hb, op)
	if err != nil {
		return nil, err
	}
	h.dataAt = 8 + int64(n)
	dataLen := uint64(size - h.dataAt)
	// Tile check: sorted by range, each begins where the previous ended
	// and the last ends at the end of the buffer.
	slices.SortStableFunc(h.entries, func(a, b stEntry) int {
		if a.begin != b.begin {
			if a.begin < b.begin {
				return -1
			}
			return 1
		}
		if a.end != b.end {
			if a.end < b.end {
				return -1
			}
			return 1
		}
		return 0
	})
	var pos uint64
	for _, e := range h.entries {
		if e.begin != pos {
			if e.begin < pos {
				return nil, stErr(op, "tensor %s: data_offsets [%d, %d] overlap the previous tensor (ending at %d)", QuoteName(e.name), e.begin, e.end, pos)
			}
			return nil, stErr(op, "tensor %s: data_offsets [%d, %d] leave a hole after %d", QuoteName(e.name), e.begin, e.end, pos)
		}
		pos = e.end
	}
	if pos != dataLen {
		if pos > dataLen {
			return nil, stErr(op, "data_offsets end at %d but the file holds %d bytes of data: %w", pos, dataLen, io.ErrUnexpectedEOF)
		}
		return nil, stErr(op, "data_offsets end at %d but the file holds %d bytes of data", pos, dataLen)
	}
	return h, nil
}

// parseSTHeader parses the JSON header strictly: valid UTF-8, an object
// first thing, only spaces after it, no duplicate keys, tensor entries with
// exactly the three keys, integers written as plain non-negative decimal
// digits. It checks each entry's dtype, shape and range length, but not
// how the ranges fit together.
func parseSTHeader(hb []byte, op string) (*stHeader, error) {
	if !utf8.Valid(hb) {
		return nil, stErr(op, "header is not valid UTF-8")
	}
	if len(hb) == 0 || hb[0] != '{' {
		return nil, stErr(op, "header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.UseNumber()
	p := &stParser{dec: dec, op: op}
	h := &stHeader{}
	// What the parsed header holds is counted against its length, so no
	// content makes it cost more than a bounded multiple of its bytes.
	budget := NewBudget(int64(len(hb)))
	seen := map[string]bool{}
	p.delim('{')
	for p.err == nil && dec.More() {
		name := p.str("a name")
		if p.err != nil {
			break
		}
		if seen[name] {
			return nil, stErr(op, "name %s appears twice", QuoteName(name))
		}
		seen[name] = true
		if name == stMetadataKey {
			h.metadata = p.metadata(&budget)
			continue
		}
		e := p.entry(name)
		if p.err != nil {
			break
		}
		if !budget.Spend(stEntryCost + int64(len(name)) + 8*int64(len(e.shape))) {
			return nil, stErr(op, "header of %d bytes costs more than %d bytes to hold at tensor %s",
				len(hb), NewBudget(int64(len(hb))).left, QuoteName(name))
		}
		h.entries = append(h.entries, e)
	}
	p.delim('}')
	if p.err != nil {
		return nil, p.err
	}
	rest := hb[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " ")) != 0 {
		return nil, stErr(op, "header has %q after the JSON object (only space padding is allowed)", clip(string(rest)))
	}
	return h, nil
}

// stParser wraps a json.Decoder; the first problem sticks in err and makes
// every later call a no-op.
type stParser struct {
	dec *json.Decoder
	op  string
	err error
}

func (p *stParser) token() json.Token {
	if p.err != nil {
		return nil
	}
	tok, err := p.dec.Token()
	if err != nil {
		p.err = stErr(p.op, "header JSON: %v", err)
		return nil
	}
	return tok
}

// stTok formats a token for an error message, a long string or number
// cut short.
func stTok(tok json.Token) string {
	switch v := tok.(type) {
	case string:
		return QuoteName(v)
	case json.Number:
		return clip(string(v))
	}
	return fmt.Sprint(tok)
}

func (p *stParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = stErr(p.op, format, args...)
	}
}

func (p *stParser) delim(d json.Delim) {
	if tok := p.token(); p.err == nil && tok != d {
		p.fail("header JSON: expected %q, found %s", d, stTok(tok))
	}
}

func (p *stParser) str(what string) string {
	tok := p.token()
	if p.err != nil {
		return ""
	}
	s, ok := tok.(string)
	if !ok {
		p.fail("header JSON: expected %s (a string), found %s", what, stTok(tok))
	}
	return s
}

// uint reads a non-negative integer written as plain decimal digits
// without leading zeros (JSON forbids those anyway): 1.0, 1e3 and -0 are
// rejected, as is anything above max.
func (p *stParser) uint(what string, max uint64) uint64 {
	tok := p.token()
	if p.err != nil {
		return 0
	}
	num, ok := tok.(json.Number)
	if !ok {
		p.fail("%s: expected an integer, found %s", what, stTok(tok))
		return 0
	}
	s := string(num)
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			p.fail("%s: %s is not a non-negative integer", what, clip(s))
			return 0
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		p.fail("%s: %s is out of range", what, clip(s))
		return 0
	}
	return v
}

// metadata reads the string→string metadata object.
func (p *stParser) metadata(budget *Budget) map[string]string {
	p.delim('{')
	m := map[string]string{}
	for p.err == nil && p.dec.More() {
		k := p.str(stMetadataKey + " key")
		if p.err != nil {
			break
		}
		if _, dup := m[k]; dup {
			p.fail("%s: key %s appears twice", stMetadataKey, QuoteName(k))
			break
		}
		m[k] = p.str(stMetadataKey + " value of " + QuoteName(k))
		if !budget.Spend(stEntryCost + int64(len(k)+len(m[k]))) {
			p.fail("%s: costs more than its header's budget at key %s", stMetadataKey, QuoteName(k))
		}
	}
	p.delim('}')
	return m
}

// entry reads {"dtype": ..., "shape": [...], "data_offsets": [b, e]} in
// any key order and checks that the range holds exactly the shape's bytes.
func (p *stParser) entry(name string) stEntry {
	e := stEntry{name: name}
	p.delim('{')
	var have [3]bool
	for p.err == nil && p.dec.More() {
		key := p.str("a key of tensor " + QuoteName(name))
		if p.err != nil {
			break
		}
		var k int
		switch key {
		case "dtype":
			k = 0
			e.dtype = p.str("dtype")
		case "shape":
			k = 1
			e.shape = p.shape(name)
		case "data_offsets":
			k = 2
			p.delim('[')
			e.begin = p.uint("tensor "+QuoteName(name)+" data_offsets", math.MaxUint64)
			e.end = p.uint("tensor "+QuoteName(name)+" data_offsets", math.MaxUint64)
			p.delim(']')
		default:
			p.fail("tensor %s: unexpected key %s", QuoteName(name), QuoteName(key))
		}
		if p.err == nil && have[k] {
			p.fail("tensor %s: key %s appears twice", QuoteName(name), QuoteName(key))
		}
		have[k] = true
	}
	p.delim('}')
	if p.err != nil {
		return e
	}
	if !have[0] || !have[1] || !have[2] {
		p.fail("tensor %s: needs dtype, shape and data_offsets", QuoteName(name))
		return e
	}
	size, ok := stDtypeSize[e.dtype]
	if !ok {
		p.fail("tensor %s: unknown dtype %s", QuoteName(name), QuoteName(e.dtype))
		return e
	}
	if e.end < e.begin {
		p.fail("tensor %s: data_offsets [%d, %d] end before they begin", QuoteName(name), e.begin, e.end)
		return e
	}
	count, err := CheckShape(e.shape, size)
	if err != nil {
		p.fail("tensor %s: %s", QuoteName(name), strings.TrimPrefix(err.Error(), "tensor: "))
		return e
	}
	nbytes := uint64(count) * uint64(size) // CheckShape bounds it by MaxInt
	if nbytes != e.end-e.begin {
		p.fail("tensor %s: shape %v of %s needs %d bytes, data_offsets [%d, %d] hold %d",
			QuoteName(name), e.shape, e.dtype, nbytes, e.begin, e.end, e.end-e.begin)
		return e
	}
	e.count = count
	return e
}

// shape reads a list of dimensions, each at most MaxInt.
func (p *stParser) shape(name string) []int {
	p.delim('[')
	shape := []int{}
	for p.err == nil && p.dec.More() {
		if len(shape) == MaxRank {
			// Stop here: the rest of a header listing millions of
			// dimensions is never parsed.
			p.fail("tensor %s: shape has more than MaxRank %d dimensions", QuoteName(name), MaxRank)
			break
		}
		shape = append(shape, int(p.uint("tensor "+QuoteName(name)+" shape", math.MaxInt)))
	}
	p.delim(']')
	if len(shape) == 0 {
		return nil // a scalar, as New() gives
	}
	return shape
}

// decodeST appends the little-endian elements of dtype in b to data.
func decodeST[T Float](data []T, b []byte, dtype string) []T {
	f32 := unsafe.Sizeof(T(0)) == 4
	switch dtype {
	case "F32":
		for ; len(b) >= 4; b = b[4:] {
			data = append(data, stFromF32Bits[T](binary.LittleEndian.Uint32(b), f32))
		}
	case "F64":
		for ; len(b) >= 8; b = b[8:] {
			data = append(data, T(math.Float64frombits(binary.LittleEndian.Uint64(b))))
		}
	case "F16":
		for ; len(b) >= 2; b = b[2:] {
			data = append(data, stFromF32Bits[T](f16ToF32Bits(binary.LittleEndian.Uint16(b)), f32))
		}
	case "BF16":
		for ; len(b) >= 2; b = b[2:] {
			data = append(data, stFromF32Bits[T](uint32(binary.LittleEndian.Uint16(b))<<16, f32))
		}
	}
	return data
}

// decodeSTInt appends the little-endian integer or bool elements of dtype
// in b to data (nothing for a float dtype), reporting bad if one is not
// exactly representable in T (an int64 beyond 2^24 in float32, say), so
// integers such as BatchNorm's num_batches_tracked load exactly or not at
// all.
func decodeSTInt[T Float](data []T, b []byte, dtype string) ([]T, bool) {
	put := func(v int64) bool {
		t := T(v)
		if float64(t) != float64(v) || (v > 1<<53 || v < -(1<<53)) {
			return false
		}
		data = append(data, t)
		return true
	}
	ok := true
	switch dtype {
	case "BOOL":
		for _, c := range b {
			data = append(data, T(min(c, 1)))
		}
	case "U8":
		for _, c := range b {
			data = append(data, T(c))
		}
	case "I8":
		for _, c := range b {
			data = append(data, T(int8(c)))
		}
	case "I16":
		for ; len(b) >= 2; b = b[2:] {
			data = append(data, T(int16(binary.LittleEndian.Uint16(b))))
		}
	case "I32":
		for ; len(b) >= 4 && ok; b = b[4:] {
			ok = put(int64(int32(binary.LittleEndian.Uint32(b))))
		}
	case "I64":
		for ; len(b) >= 8 && ok; b = b[8:] {
			ok = put(int64(binary.LittleEndian.Uint64(b)))
		}
	}
	return data, !ok
}

// stFromF32Bits converts a float32 bit pattern to T exactly. A NaN keeps
// its sign and payload bit for bit, also when widened to float64 (payload
// shifted into the top of the wider mantissa, as NumPy's half-to-double
// conversion does), rather than trusting the hardware conversion, which
// quiets signalling NaNs.
func stFromF32Bits[T Float](u uint32, f32 bool) T {
	if f32 {
		return T(math.Float32frombits(u))
	}
	if u&0x7f800000 == 0x7f800000 && u&0x7fffff != 0 {
		return T(math.Float64frombits(uint64(u>>31)<<63 | 0x7ff<<52 | uint64(u&0x7fffff)<<29))
	}
	return T(float64(math.Float32frombits(u)))
}

// f16ToF32Bits converts an IEEE 754 binary16 value to the binary32 bit
// pattern of the same value; every half is exactly representable.
func f16ToF32Bits(h uint16) uint32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if mant == 0 {
			return sign
		}
		// Subnormal mant·2⁻²⁴: normalise so the leading one reaches bit
		// 10, lowering the exponent once per shift.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return sign | e<<23 | (mant&0x3ff)<<13
	case 0x1f:
		return sign | 0x7f800000 | mant<<13 // infinity or NaN, payload kept
	default:
		return sign | (exp+127-15)<<23 | mant<<13
	}
}

// WriteSafetensors writes tensors to w in safetensors format with
// WriteSafetensorsMetadata and no metadata.
func WriteSafetensors[T Float](w io.Writer, tensors map[string]*Dense[T]) error {
	return WriteSafetensorsMetadata(w, tensors, nil)
}

// WriteSafetensorsMetadata writes tensors to w in safetensors format: dtype
// F32 for float32 and F64 for float64, C order whatever each view's
// strides, names in sorted order with their data in the same order, the
// header padded with spaces so the data starts at a multiple of 8 bytes (as
// the reference writer does), so equal input gives equal bytes. A non-nil
// metadata is written as "__metadata__" with sorted keys. Any UTF-8 name
// is allowed, the empty one too, as the format allows it. It panics, before
// writing anything, if a name is "__metadata__" or is not valid UTF-8, if a
// metadata key or value is not valid UTF-8, or if a tensor is nil. It
// returns an error wrapping ErrSafetensors, before writing anything, if the
// header would exceed the 100 MB that ReadSafetensors (and the reference
// reader) accept, so it never writes a file its reader refuses; otherwise
// the first error from w.
func WriteSafetensorsMetadata[T Float](w io.Writer, tensors map[string]*Dense[T], metadata map[string]string) error {
	return WriteSafetensorsWith(w, tensors, SaveOptions{Metadata: metadata})
}

// WriteSafetensorsWith is WriteSafetensorsMetadata with o.Metadata, and
// the tensors o.Int64 names stored as I64 (see SaveOptions).
func WriteSafetensorsWith[T Float](w io.Writer, tensors map[string]*Dense[T], o SaveOptions) error {
	names := stNames("WriteSafetensors", tensors, o)
	hdr, err := stEncodeHeader("WriteSafetensors", names, tensors, o)
	if err != nil {
		return err
	}
	return stWriteAll(w, hdr, names, tensors, o.Int64)
}

// stWrite writes the encoded header and then the tensors' data.
func stWriteAll[T Float](w io.Writer, hdr []byte, names []string, tensors map[string]*Dense[T], ints map[string]bool) error {
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	for _, name := range names {
		write := writeNPYData[T]
		if ints[name] {
			write = writeInt64Data[T]
		}
		if err := write(w, tensors[name].Contiguous().Data()); err != nil {
			return err
		}
	}
	return nil
}

// stNames checks the arguments (panicking for op) and returns the names in
// sorted order.
func stNames[T Float](op string, tensors map[string]*Dense[T], o SaveOptions) []string {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		switch {
		case name == stMetadataKey:
			fail(ErrShape, "%s: tensor name %q is reserved for the metadata", op, name)
		case !utf8.ValidString(name):
			fail(ErrShape, "%s: tensor name %q is not valid UTF-8", op, name)
		case t == nil:
			fail(ErrShape, "%s: nil tensor for %q", op, name)
		}
		names = append(names, name)
	}
	checkInt64(op, tensors, o.Int64)
	for k, v := range o.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			fail(ErrShape, "%s: metadata %q: %q is not valid UTF-8", op, k, v)
		}
	}
	slices.Sort(names)
	return names
}

// stEncodeHeader returns the 8-byte length and the padded JSON header, or
// an error for op if the header is longer than readers accept.
func stEncodeHeader[T Float](op string, names []string, tensors map[string]*Dense[T], o SaveOptions) ([]byte, error) {
	metadata := o.Metadata
	fdtype, fsize := "F64", uint64(8)
	if unsafe.Sizeof(T(0)) == 4 {
		fdtype, fsize = "F32", 4
	}
	buf := make([]byte, 8, 64+64*len(names))
	buf = append(buf, '{')
	first := true
	comma := func() {
		if !first {
			buf = append(buf, ',')
		}
		first = false
	}
	if metadata != nil {
		comma()
		buf = stAppendString(buf, stMetadataKey)
		buf = append(buf, ":{"...)
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = stAppendString(buf, k)
			buf = append(buf, ':')
			buf = stAppendString(buf, metadata[k])
		}
		buf = append(buf, '}')
	}
	var pos uint64
	for _, name := range names {
		t := tensors[name]
		dtype, size := fdtype, fsize
		if o.Int64[name] {
			dtype, size = "I64", 8
		}
		comma()
		buf = stAppendString(buf, name)
		buf = append(buf, `:{"dtype":"`...)
		buf = append(buf, dtype...)
		buf = append(buf, `","shape":[`...)
		for i, d := range t.shape {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, int64(d), 10)
		}
		end := pos + uint64(t.Size())*size
		buf = append(buf, `],"data_offsets":[`...)
		buf = strconv.AppendUint(buf, pos, 10)
		buf = append(buf, ',')
		buf = strconv.AppendUint(buf, end, 10)
		buf = append(buf, "]}"...)
		pos = end
	}
	buf = append(buf, '}')
	for len(buf)%8 != 0 {
		buf = append(buf, ' ')
	}
	if len(buf)-8 > stMaxHeader {
		return nil, stErr(op, "the header of %d tensors would be %d bytes, more than the %d that readers accept",
			len(names), len(buf)-8, stMaxHeader)
	}
	binary.LittleEndian.PutUint64(buf, uint64(len(buf)-8))
	return buf, nil
}

// stAppendString appends s as a JSON string. encoding/json's escaping is
// used (s is valid UTF-8, checked by stNames) without its HTML escapes,
// which JSON readers accept but make names harder to read.
func stAppendString(buf []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

// SaveSafetensors writes tensors to the file at path (created or truncated)
// with WriteSafetensors.
func SaveSafetensors[T Float](path string, tensors map[string]*Dense[T]) error {
	return SaveSafetensorsMetadata(path, tensors, nil)
}

// SaveSafetensorsMetadata writes tensors and metadata to the file at path
// (created or truncated) with WriteSafetensorsMetadata.
func SaveSafetensorsMetadata[T Float](path string, tensors map[string]*Dense[T], metadata map[string]string) error {
	return SaveSafetensorsWith(path, tensors, SaveOptions{Metadata: metadata})
}

// SaveSafetensorsWith writes tensors to the file at path (created or
// truncated) with WriteSafetensorsWith.
func SaveSafetensorsWith[T Float](path string, tensors map[string]*Dense[T], o SaveOptions) error {
	names := stNames("SaveSafetensors", tensors, o) // panic before creating the file
	hdr, err := stEncodeHeader("SaveSafetensors", names, tensors, o)
	if err != nil {
		return err // nor create a file the reader would refuse
	}
	return saveFile(path, func(w io.Writer) error { return stWriteAll(w, hdr, names, tensors, o.Int64) })
}

// LoadSafetensors reads the safetensors file at path with ReadSafetensors.
func LoadSafetensors[T Float](path string) (map[string]*Dense[T], error) {
	return loadFile(path, ReadSafetensors[T])
}
