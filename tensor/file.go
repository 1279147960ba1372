package tensor

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// saveFile creates (or truncates) the file at path and runs write on a
// buffered writer over it. It returns the first error of write, the flush
// and the close, so a full disk is never reported as success. SaveNPY,
// SaveNPZ and SaveSafetensors share it.
func saveFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, npyChunk)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// loadFile opens the file at path and runs read on it with its size, which
// bounds what the file's headers may claim; read's errors are prefixed with
// path. LoadNPZ and LoadSafetensors share it.
func loadFile[R any](path string, read func(r io.ReaderAt, size int64) (R, error)) (R, error) {
	var zero R
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return zero, err
	}
	m, err := read(f, st.Size())
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
