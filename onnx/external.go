package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// readExternal reads a tensor's external data: location resolved inside the
// model's folder only (os.Root refuses "..", absolute paths and symlinks
// that leave it), offset and length checked against the file's size before
// anything is allocated.
func (d *decoder) readExternal(kv map[string]string, want int) ([]byte, error) {
	if d.dir == "" {
		return nil, errors.New("external data needs the model's folder (use Load, or Read with a dir)")
	}
	loc := kv["location"]
	if loc == "" {
		return nil, errors.New("external data without a location")
	}
	if !filepath.IsLocal(filepath.FromSlash(loc)) {
		return nil, fmt.Errorf("external data location %q is outside the model folder", loc)
	}
	var off, length int64 = 0, -1
	var err error
	if s, ok := kv["offset"]; ok {
		if off, err = strconv.ParseInt(s, 10, 64); err != nil || off < 0 {
			return nil, fmt.Errorf("external data offset %q", s)
		}
	}
	if s, ok := kv["length"]; ok {
		if length, err = strconv.ParseInt(s, 10, 64); err != nil || length < 0 {
			return nil, fmt.Errorf("external data length %q", s)
		}
	}
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(loc))
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if length < 0 {
		length = size - off
	}
	if off > size || length > size-off {
		return nil, fmt.Errorf("external data %q: offset %d + length %d past its size %d", loc, off, length, size)
	}
	if length != int64(want) {
		return nil, fmt.Errorf("external data %q: length %d, tensor needs %d bytes", loc, length, want)
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	return buf, nil
}
