package tensor

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// npzTime is the modification time stamped on every member, so the same
// arrays always give the same bytes (1980-01-01, the start of the MS-DOS
// dates that zip stores).
var npzTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteNPZ writes arrays to w as a NumPy .npz archive: a zip with one stored
// (uncompressed, as numpy.savez writes) member "name.npy" per entry, in
// sorted name order with fixed timestamps, so equal input gives equal bytes.
// Each member is written as WriteNPY writes it. It panics if a name is empty
// or a tensor is nil, before writing anything, and returns the first error
// from w.
func WriteNPZ[T Float](w io.Writer, arrays map[string]*Dense[T]) error {
	return WriteNPZWith(w, arrays, SaveOptions{})
}

// WriteNPZWith is WriteNPZ with the arrays o.Int64 names stored as '<i8'
// (see SaveOptions). It panics if o.Metadata is set: .npz has no place
// for it.
func WriteNPZWith[T Float](w io.Writer, arrays map[string]*Dense[T], o SaveOptions) error {
	names := npzNames("WriteNPZ", arrays, o)
	zw := zip.NewWriter(w)
	for _, name := range names {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store, Modified: npzTime})
		if err != nil {
			return err
		}
		if o.Int64[name] {
			err = writeNPYInt64(fw, arrays[name])
		} else {
			err = WriteNPY(fw, arrays[name])
		}
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

// npzNames checks the arrays (panicking for op) and returns their names in
// sorted order.
func npzNames[T Float](op string, arrays map[string]*Dense[T], o SaveOptions) []string {
	if o.Metadata != nil {
		panic(fmt.Errorf("%w: %s: .npz has no metadata", ErrShape, op))
	}
	checkInt64(op, arrays, o.Int64)
	names := make([]string, 0, len(arrays))
	for name, t := range arrays {
		if name == "" {
			panic(fmt.Errorf("%w: %s: empty array name", ErrShape, op))
		}
		if t == nil {
			panic(fmt.Errorf("%w: %s: nil tensor for %q", ErrShape, op, name))
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ReadNPZ reads every array of a NumPy .npz archive (numpy.savez or
// numpy.savez_compressed: stored and deflated members both work) of size
// bytes from r. The map keys are the member names without their ".npy"
// suffix. Each member is read as ReadNPY reads it (so f4 and f8 are both
// accepted and converted to T). A member whose name does not end in ".npy",
// a duplicate name, or a member that holds more or less than one array is
// an error wrapping ErrNPY, as is anything wrong inside a member.
func ReadNPZ[T Float](r io.ReaderAt, size int64) (map[string]*Dense[T], error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: ReadNPZ: %w", ErrNPY, err)
	}
	out := make(map[string]*Dense[T], len(zr.File))
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: ReadNPZ: member %s is not an .npy file", ErrNPY, QuoteName(f.Name))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: ReadNPZ: duplicate member %s", ErrNPY, QuoteName(f.Name))
		}
		t, err := readNPZMember[T](f, size)
		if err != nil {
			return nil, fmt.Errorf("tensor: ReadNPZ: member %s: %w", QuoteName(f.Name), err)
		}
		out[name] = t
	}
	return out, nil
}

// deflateMaxRatio bounds how far deflate can expand its input: each
// 258-byte match costs at least 2 bits, about 1032:1. A member claiming
// more than that of its compressed size is lying.
const deflateMaxRatio = 1032

// readNPZMember reads one member of an archive of size bytes. The sizes in
// a zip header are claims: the declared uncompressed size only bounds what
// the .npy header may declare (archive/zip fails reads past it, so a lying
// .npy header fails before any large allocation), and the array is
// allocated whole up front only for a stored member whose bytes lie inside
// the archive; otherwise it grows as data are inflated. A 1,264-byte file
// declaring a 1 TiB member used to be a fatal out-of-memory here.
func readNPZMember[T Float](f *zip.File, size int64) (*Dense[T], error) {
	if f.Method == zip.Deflate && f.UncompressedSize64/deflateMaxRatio > f.CompressedSize64+1 {
		return nil, fmt.Errorf("%w: declares %d bytes from %d compressed, more than deflate can expand", ErrNPY, f.UncompressedSize64, f.CompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNPY, err)
	}
	defer rc.Close()
	limit := int64(-1)
	if f.UncompressedSize64 <= 1<<62 {
		limit = int64(f.UncompressedSize64)
	}
	exact := f.Method == zip.Store && f.CompressedSize64 == f.UncompressedSize64 && limit >= 0 && limit <= size
	br := bufio.NewReaderSize(rc, npyChunk)
	t, err := readNPY[T](br, limit, exact)
	if err != nil {
		return nil, err
	}
	// One array per member: anything after it is malformed (reading to the
	// end also makes archive/zip verify the CRC).
	if err := npyAtEnd(br); err != nil {
		return nil, err
	}
	return t, nil
}

// SaveNPZ writes arrays to the file at path (created or truncated) with
// WriteNPZ.
func SaveNPZ[T Float](path string, arrays map[string]*Dense[T]) error {
	return SaveNPZWith(path, arrays, SaveOptions{})
}

// SaveNPZWith writes arrays to the file at path (created or truncated)
// with WriteNPZWith.
func SaveNPZWith[T Float](path string, arrays map[string]*Dense[T], o SaveOptions) error {
	npzNames("SaveNPZ", arrays, o) // panic before creating the file
	return saveFile(path, func(w io.Writer) error { return WriteNPZWith(w, arrays, o) })
}

// LoadNPZ reads the .npz file at path with ReadNPZ.
func LoadNPZ[T Float](path string) (map[string]*Dense[T], error) {
	return loadFile(path, ReadNPZ[T])
}
