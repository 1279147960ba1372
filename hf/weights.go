package hf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/adjoint-go/adjoint/tensor"
)

// Weights read from a folder, by the names in the files.
type weights[T tensor.Float] map[string]*tensor.Dense[T]

// stMaxHeader is the safetensors format's header bound (as tensor's
// reader, and the reference implementation, use).
const stMaxHeader = 100_000_000

// skipFunc reports whether a tensor is to be left out of what is read:
// buffers the architectures recompute (BERT's I64 position_ids, GPT-2's
// causal-mask attn.bias) and heads they do not use.
type skipFunc func(name, dtype string) bool

// readSafetensorsFile reads the tensors of one safetensors file, leaving
// out those skip selects. Tensor's reader checks the file (it reads F32,
// F64, F16 and BF16, exactly); a file holding tensors to skip is shown to
// it as a file without them, the remaining byte ranges renumbered, so the
// integer buffers it does not read never reach it.
func readSafetensorsFile[T tensor.Float](path string, skip skipFunc) (weights[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	size := st.Size()
	wrap := func(err error) error {
		if errors.Is(err, tensor.ErrSafetensors) || errors.Is(err, tensor.ErrSafetensorsType) {
			return fmt.Errorf("%w: %s: %w", ErrFormat, filepath.Base(path), err)
		}
		return fmt.Errorf("%w: %s: %v", ErrFormat, filepath.Base(path), err)
	}
	r, err := filtered(f, size, skip)
	if err != nil {
		return nil, wrap(err)
	}
	if r == nil {
		m, err := tensor.ReadSafetensors[T](f, size)
		if err != nil {
			return nil, wrap(err)
		}
		return m, nil
	}
	m, err := tensor.ReadSafetensors[T](r, r.size)
	if err != nil {
		return nil, wrap(err)
	}
	return m, nil
}

// stEntry is one tensor of a header as filtered reads it.
type stEntry struct {
	Dtype       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
	name        string
}

// remapped is a safetensors file shown without some tensors: a new
// header, then byte ranges of the original data, back to back.
type remapped struct {
	f      io.ReaderAt
	head   []byte // length prefix and header
	segs   []seg
	size   int64
	dataAt int64 // data offset in the original file
}

type seg struct{ at, from, n int64 } // at: offset in the new data; from: in the old

// filtered returns nil when skip selects no tensor of the file, and
// otherwise the file without them. It reads only the header, bounded by
// the format's limit and the file's size; tensor's reader checks the rest.
func filtered(f io.ReaderAt, size int64, skip skipFunc) (*remapped, error) {
	if size < 8 {
		return nil, fmt.Errorf("%d bytes is too short for a safetensors file", size)
	}
	var lb [8]byte
	if _, err := f.ReadAt(lb[:], 0); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > stMaxHeader || n > uint64(size-8) {
		return nil, nil // tensor's reader reports it
	}
	hb := make([]byte, n)
	if _, err := f.ReadAt(hb, 8); err != nil {
		return nil, err
	}
	raw, ok := headerObject(hb)
	if !ok {
		return nil, nil // tensor's reader reports it
	}
	var keep, all []stEntry
	dropped := false
	for _, kv := range raw {
		if kv.name == "__metadata__" {
			continue
		}
		var e stEntry
		if json.Unmarshal(kv.value, &e) != nil || len(e.DataOffsets) != 2 {
			return nil, nil
		}
		e.name = kv.name
		all = append(all, e)
		if skip != nil && skip(e.name, e.Dtype) {
			dropped = true
			continue
		}
		keep = append(keep, e)
	}
	if !dropped {
		return nil, nil
	}
	// The original ranges must tile the data, as tensor's reader checks of
	// the file it is shown.
	sort.Slice(all, func(i, j int) bool { return all[i].DataOffsets[0] < all[j].DataOffsets[0] })
	var pos uint64
	for _, e := range all {
		if e.DataOffsets[0] != pos || e.DataOffsets[1] < pos {
			return nil, fmt.Errorf("%w: tensor %q: data_offsets %v do not follow the previous tensor (ending at %d)", tensor.ErrSafetensors, e.name, e.DataOffsets, pos)
		}
		pos = e.DataOffsets[1]
	}
	if pos != uint64(size)-8-n {
		return nil, fmt.Errorf("%w: data_offsets end at %d but the file holds %d bytes of data", tensor.ErrSafetensors, pos, uint64(size)-8-n)
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].DataOffsets[0] < keep[j].DataOffsets[0] })
	rm := &remapped{f: f, dataAt: 8 + int64(n)}
	dataLen := uint64(size) - 8 - n
	var b bytes.Buffer
	b.WriteString("{")
	var at int64
	for i, e := range keep {
		lo, hi := e.DataOffsets[0], e.DataOffsets[1]
		if lo > hi || hi > dataLen {
			return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] outside the %d bytes of data", tensor.ErrSafetensors, e.name, lo, hi, dataLen)
		}
		if i > 0 {
			b.WriteString(",")
		}
		name, _ := json.Marshal(e.name)
		dt, _ := json.Marshal(e.Dtype)
		shape := make([]string, len(e.Shape))
		for k, d := range e.Shape {
			shape[k] = strconv.FormatUint(d, 10)
		}
		fmt.Fprintf(&b, "%s:{\"dtype\":%s,\"shape\":[%s],\"data_offsets\":[%d,%d]}", name, dt, strings.Join(shape, ","), at, at+int64(hi-lo))
		rm.segs = append(rm.segs, seg{at: at, from: int64(lo), n: int64(hi - lo)})
		at += int64(hi - lo)
	}
	b.WriteString("}")
	rm.head = binary.LittleEndian.AppendUint64(nil, uint64(b.Len()))
	rm.head = append(rm.head, b.Bytes()...)
	rm.size = int64(len(rm.head)) + at
	return rm, nil
}

type keyValue struct {
	name  string
	value json.RawMessage
}

// headerObject splits a JSON object into its members in order, failing on
// a duplicate name (tensor's reader rejects those too).
func headerObject(b []byte) ([]keyValue, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []keyValue
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok || seen[name] {
			return nil, false
		}
		seen[name] = true
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return nil, false
		}
		out = append(out, keyValue{name, v})
	}
	return out, true
}

// ReadAt reads the remapped file.
func (r *remapped) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for len(p) > 0 {
		if off >= r.size {
			return done, io.EOF
		}
		if off < int64(len(r.head)) {
			k := copy(p, r.head[off:])
			p, off, done = p[k:], off+int64(k), done+k
			continue
		}
		d := off - int64(len(r.head))
		i := sort.Search(len(r.segs), func(i int) bool { return r.segs[i].at+r.segs[i].n > d })
		s := r.segs[i]
		k := min(int64(len(p)), s.at+s.n-d)
		m, err := r.f.ReadAt(p[:k], r.dataAt+s.from+(d-s.at))
		done += m
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return done, err
		}
		p, off = p[k:], off+k
	}
	return done, nil
}

// maxShards bounds an index's file count (the largest hub models have a
// few hundred shards).
const maxShards = 100_000

// readWeights reads model.safetensors, or the shards that
// model.safetensors.index.json names, from dir. Every shard must hold
// exactly the tensors the index maps to it (after skip), and no tensor may
// appear twice.
func readWeights[T tensor.Float](dir string, skip skipFunc) (weights[T], error) {
	single := filepath.Join(dir, "model.safetensors")
	indexPath := filepath.Join(dir, "model.safetensors.index.json")
	if _, err := os.Stat(single); err == nil {
		return readSafetensorsFile[T](single, skip)
	}
	b, err := readJSONFile(indexPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s has neither model.safetensors nor model.safetensors.index.json", ErrFormat, dir)
		}
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%w: model.safetensors.index.json: %v", ErrFormat, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%w: model.safetensors.index.json: empty weight_map", ErrFormat)
	}
	byFile := map[string][]string{}
	for name, file := range idx.WeightMap {
		if file == "" || file != filepath.Base(file) || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
			return nil, fmt.Errorf("%w: model.safetensors.index.json: tensor %q maps to %q, not a file name in the folder", ErrFormat, name, file)
		}
		byFile[file] = append(byFile[file], name)
	}
	if len(byFile) > maxShards {
		return nil, fmt.Errorf("%w: model.safetensors.index.json: %d shards", ErrFormat, len(byFile))
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	all := weights[T]{}
	for _, file := range files {
		m, err := readSafetensorsFile[T](filepath.Join(dir, file), skip)
		if err != nil {
			return nil, err
		}
		for name, t := range m {
			if _, dup := all[name]; dup {
				return nil, fmt.Errorf("%w: tensor %q appears in two shards (the second %s)", ErrFormat, name, file)
			}
			if idx.WeightMap[name] != file {
				return nil, fmt.Errorf("%w: tensor %q is in %s but the index maps it to %q", ErrFormat, name, file, idx.WeightMap[name])
			}
			all[name] = t
		}
		for _, name := range byFile[file] {
			if _, ok := m[name]; !ok && !(skip != nil && skip(name, "")) {
				return nil, fmt.Errorf("%w: tensor %q is missing from %s, where the index puts it", ErrFormat, name, file)
			}
		}
	}
	return all, nil
}
