package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrFormat: a file is not a well-formed IDX file of the expected kind,
	// or an image file and its label file disagree.
	ErrFormat = errors.New("mnist: bad IDX data")
	// ErrNotFound: the data folder could not be located.
	ErrNotFound = errors.New("mnist: data not found")
)

// idxUbyte is the IDX element-type code for unsigned bytes, the only type
// MNIST uses.
const idxUbyte = 0x08

// Classes is the number of label values (the digits 0-9).
const Classes = 10

// maxElems bounds the element count a header may declare: 256 Mi, over
// five times MNIST's 47 million (its largest file), so a corrupt header
// cannot claim absurd sizes. The bound is also what keeps a valid but
// enormous file within memory: a Go process starts with about 1.2 GB of
// address space reserved, and reading the largest allowed file (buffers
// of up to 1.5 times its size) must fit under `ulimit -v 3000000`, which
// a 1 GiB limit did not.
const maxElems = 1 << 28

// IDX is the contents of one IDX file of unsigned bytes.
type IDX struct {
	Dims []int  // dimensions from the header, outermost first
	Data []byte // the elements in row-major order, len = product of Dims
}

// ReadIDX reads an IDX file of unsigned bytes from r, which may be
// gzip-compressed. name is used only in error messages. Memory grows with
// the bytes actually read (or, for raw data in memory, is checked against
// their length first), never with what the header claims.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	size := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len()) // bytes.Reader, bytes.Buffer, strings.Reader
	}
	return readIDXSized(r, name, size)
}

// readIDXSized is ReadIDX with the input's size in bytes when known (a
// file's, or bytes in memory; -1 if not).
func readIDXSized(r io.Reader, name string, size int64) (*IDX, error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: gzip: %v", ErrFormat, name, err)
		}
		defer zr.Close()
		// The size of compressed input says nothing about what it inflates to.
		return readIDX(zr, name, -1)
	}
	return readIDX(br, name, size)
}

// readIDX reads the header and data; size is the number of bytes r holds
// when known, else -1.
func readIDX(r io.Reader, name string, size int64) (*IDX, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("%w: %s: truncated header: %v", ErrFormat, name, err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("%w: %s: bad magic % x (want 00 00 08 nd)", ErrFormat, name, magic)
	}
	if magic[2] != idxUbyte {
		return nil, fmt.Errorf("%w: %s: element type 0x%02x, want 0x08 (unsigned byte)", ErrFormat, name, magic[2])
	}
	nd := int(magic[3])
	if nd == 0 {
		return nil, fmt.Errorf("%w: %s: zero dimensions", ErrFormat, name)
	}
	dims := make([]int, nd)
	n := int64(1)
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("%w: %s: truncated header (dimension %d of %d): %v", ErrFormat, name, i, nd, err)
		}
		n *= int64(d) // at most 2^30 · 2^32: no overflow
		if n > maxElems {
			return nil, fmt.Errorf("%w: %s: dimensions %v declare more than %d elements", ErrFormat, name, append(dims[:i], int(d)), maxElems)
		}
		dims[i] = int(d)
	}
	hdr := int64(4 + 4*nd)
	if size >= 0 && n > size-hdr {
		return nil, fmt.Errorf("%w: %s: truncated: %d of %d data bytes for dimensions %v", ErrFormat, name, max(size-hdr, 0), n, dims)
	}
	data, err := readData(r, int(n), size >= 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading data: %v", ErrFormat, name, err)
	}
	if len(data) < int(n) {
		return nil, fmt.Errorf("%w: %s: truncated: %d of %d data bytes for dimensions %v", ErrFormat, name, len(data), n, dims)
	}
	var one [1]byte
	if m, _ := io.ReadFull(r, one[:]); m > 0 {
		return nil, fmt.Errorf("%w: %s: data continue past the %d bytes declared by dimensions %v", ErrFormat, name, n, dims)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// idxStart is the buffer a read of unknown length starts with.
const idxStart = 1 << 20

// readData reads up to n bytes from r, fewer only if r ends first. If
// known, the n bytes are known to be there and are read into one buffer of
// n; otherwise the buffer starts at 1 MiB and doubles as it fills, never
// past n, and jumps straight to n once a quarter of it has arrived, so the
// buffers made never exceed four times what has arrived (plus the 1 MiB
// start) and add up to about 1.5 n for a file that holds its n bytes (a
// gzip file inflating to 1 GiB used to cost 4 GiB of bytes.Buffer
// doubling).
func readData(r io.Reader, n int, known bool) ([]byte, error) {
	c := min(n, idxStart)
	if known {
		c = n
	}
	buf := make([]byte, 0, c)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			next := 2 * cap(buf)
			if 4*len(buf) >= n {
				next = n
			}
			nb := make([]byte, len(buf), min(n, next))
			copy(nb, buf)
			buf = nb
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf[:len(buf):len(buf)], nil
}

// ReadFile reads the IDX file at path (gzip or raw).
func ReadFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return readIDXSized(f, path, size)
}

// ReadImages reads an IDX image file: three dimensions (count, rows,
// columns). It returns the pixels, count·rows·cols bytes in row-major order.
func ReadImages(path string) (pixels []byte, count, rows, cols int, err error) {
	x, err := ReadFile(path)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	if len(x.Dims) != 3 {
		return nil, 0, 0, 0, fmt.Errorf("%w: %s: image file has %d dimensions %v, want 3 (count, rows, cols)", ErrFormat, path, len(x.Dims), x.Dims)
	}
	if x.Dims[1] == 0 || x.Dims[2] == 0 {
		return nil, 0, 0, 0, fmt.Errorf("%w: %s: empty image size %dx%d", ErrFormat, path, x.Dims[1], x.Dims[2])
	}
	return x.Data, x.Dims[0], x.Dims[1], x.Dims[2], nil
}

// ReadLabels reads an IDX label file: one dimension, each label in 0..9.
func ReadLabels(path string) ([]byte, error) {
	x, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(x.Dims) != 1 {
		return nil, fmt.Errorf("%w: %s: label file has %d dimensions %v, want 1", ErrFormat, path, len(x.Dims), x.Dims)
	}
	for i, b := range x.Data {
		if b >= Classes {
			return nil, fmt.Errorf("%w: %s: label %d at index %d is not a digit 0-9", ErrFormat, path, b, i)
		}
	}
	return x.Data, nil
}
