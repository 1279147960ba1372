package nn

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/adjoint-go/adjoint/tensor"
)

// entry is one named tensor of a checkpoint: a parameter's value or a
// buffer.
type entry[T tensor.Float] struct {
	name  string
	value *tensor.Dense[T]
}

// entries lists params then buffers, panicking (wrapping ErrArg) on a
// name used twice.
func entries[T tensor.Float](op string, params []Param[T], buffers []Buffer[T]) []entry[T] {
	es := make([]entry[T], 0, len(params)+len(buffers))
	seen := make(map[string]bool, cap(es))
	add := func(kind, name string, v *tensor.Dense[T]) {
		if seen[name] {
			panic(fmt.Errorf("%w: %s: %s name %q used twice", ErrArg, op, kind, name))
		}
		seen[name] = true
		es = append(es, entry[T]{name, v})
	}
	for _, p := range params {
		add("parameter", p.Name, p.Var.Value())
	}
	for _, b := range buffers {
		add("buffer", b.Name, b.Value)
	}
	return es
}

// CheckpointPath returns nil if path's extension names a checkpoint format
// (".npz" or ".safetensors", in any letter case), else the error that Save
// and Load return for it; commands call it to validate a flag before work.
func CheckpointPath(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz", ".safetensors":
		return nil
	}
	return fmt.Errorf("%w: %s: unknown checkpoint format %q (the name must end in .npz or .safetensors)", ErrCheckpoint, path, filepath.Ext(path))
}

// saveArrays writes arrays in the format path's extension names.
func saveArrays[T tensor.Float](path string, arrays map[string]*tensor.Dense[T]) error {
	if err := CheckpointPath(path); err != nil {
		return err
	}
	if strings.EqualFold(filepath.Ext(path), ".npz") {
		return tensor.SaveNPZ(path, arrays)
	}
	return tensor.SaveSafetensors(path, arrays)
}

// loadArrays reads the file in the format path's extension names.
func loadArrays[T tensor.Float](path string) (map[string]*tensor.Dense[T], error) {
	if err := CheckpointPath(path); err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(path), ".npz") {
		return tensor.LoadNPZ[T](path)
	}
	return tensor.LoadSafetensors[T](path)
}

// Save writes the values of params, and any buffers (BatchNorm2d's running
// statistics: see NamedBuffers), to path, one tensor per parameter or
// buffer under its name, in its shape and element type. The extension
// picks the format: ".npz" a NumPy archive (numpy.load(path)[name] is the
// tensor), ".safetensors" safetensors (F32 or F64; safetensors.torch's
// load_file reads it); any other is an error wrapping ErrCheckpoint, and
// nothing is written. It panics (wrapping ErrArg) if two of them share a
// name.
func Save[T tensor.Float](path string, params []Param[T], buffers ...Buffer[T]) error {
	es := entries("Save", params, buffers)
	arrays := make(map[string]*tensor.Dense[T], len(es))
	for _, e := range es {
		arrays[e.name] = e.value
	}
	return saveArrays(path, arrays)
}

// Load reads a file written by Save (or by PyTorch: safetensors F16 and
// BF16 tensors are converted exactly), in the format its extension names,
// and copies each tensor into the value of the parameter or buffer with the
// same name, in place (optimisers holding the parameters see the new
// values). The file must
// hold exactly those names with their shapes; otherwise Load returns an
// error wrapping ErrCheckpoint and changes nothing. It panics (wrapping
// ErrArg) if two of them share a name.
func Load[T tensor.Float](path string, params []Param[T], buffers ...Buffer[T]) error {
	es := entries("Load", params, buffers)
	arrays, err := loadArrays[T](path)
	if err != nil {
		return err
	}
	var missing []string
	seen := make(map[string]bool, len(es))
	for _, e := range es {
		seen[e.name] = true
		a, ok := arrays[e.name]
		if !ok {
			missing = append(missing, e.name)
			continue
		}
		if !slices.Equal(a.Shape(), e.value.Shape()) {
			return fmt.Errorf("%w: %s: %q has shape %v, the model needs %v", ErrCheckpoint, path, e.name, a.Shape(), e.value.Shape())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s: no arrays for %v", ErrCheckpoint, path, missing)
	}
	if len(arrays) != len(es) {
		var extra []string
		for name := range arrays {
			if !seen[name] {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		return fmt.Errorf("%w: %s: arrays %v are not parameters or buffers of the model", ErrCheckpoint, path, extra)
	}
	for _, e := range es {
		e.value.Copy(arrays[e.name])
	}
	return nil
}

// SaveLayer saves every parameter and buffer of l (a whole model) under
// their names, as Save.
func SaveLayer[T tensor.Float](path string, l Layer[T]) error {
	return Save(path, l.NamedParams(""), NamedBuffers(l, "")...)
}

// LoadLayer loads what SaveLayer wrote into l's parameters and buffers, in
// place, as Load.
func LoadLayer[T tensor.Float](path string, l Layer[T]) error {
	return Load(path, l.NamedParams(""), NamedBuffers(l, "")...)
}
