package tensor

import (
	"encoding/binary"
	"io"
	"math"
)

// SaveOptions are the optional parts of a file that WriteSafetensorsWith,
// WriteNPZWith and their Save forms write.
type SaveOptions struct {
	// Metadata is written as safetensors' "__metadata__" (nil: none).
	// A .npz has no place for it: the NPZ writers panic if it is set.
	Metadata map[string]string
	// Int64 names the tensors stored as 64-bit integers (safetensors
	// I64, .npy '<i8') rather than in T, as PyTorch stores its integer
	// buffers (BatchNorm's num_batches_tracked); the readers convert
	// them back to T exactly. Each must hold whole numbers of magnitude
	// at most 2^53 (what the readers take back exactly), else the writers
	// panic before writing anything. A name that is not among the
	// tensors is ignored.
	Int64 map[string]bool
}

// checkInt64 panics (for op) if a tensor that ints names holds a value
// that is not a whole number of magnitude at most 2^53.
func checkInt64[T Float](op string, tensors map[string]*Dense[T], ints map[string]bool) {
	for name := range ints {
		t := tensors[name]
		if t == nil || !ints[name] {
			continue
		}
		for i, v := range t.Contiguous().Data() {
			f := float64(v)
			if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				fail(ErrShape, "%s: %q holds %v at %d, which is not a whole number within ±2^53", op, name, v, i)
			}
		}
	}
}

// writeInt64Data writes whole-number elements as little-endian int64.
func writeInt64Data[T Float](w io.Writer, data []T) error {
	buf := make([]byte, min(npyChunk, len(data)*8))
	for len(data) > 0 {
		n := min(len(data), len(buf)/8)
		b := buf[:n*8]
		for i, v := range data[:n] {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(int64(v)))
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// writeNPYInt64 writes t as a .npy file of '<i8' elements.
func writeNPYInt64[T Float](w io.Writer, t *Dense[T]) error {
	if err := writeNPYHeader(w, "<i8", t.Shape()); err != nil {
		return err
	}
	return writeInt64Data(w, t.Contiguous().Data())
}
