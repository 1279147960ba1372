package nn

import (
	"fmt"
	"slices"
	"sort"

	"github.com/adjoint-go/adjoint/tensor"
)

// Save writes the values of params to path as a NumPy .npz archive, one
// array per parameter under its name, in the parameter's shape and element
// type: numpy.load(path)[name] is the parameter. It panics (wrapping
// ErrArg) if two parameters share a name.
func Save[T tensor.Float](path string, params []Param[T]) error {
	arrays := make(map[string]*tensor.Dense[T], len(params))
	for _, p := range params {
		if _, dup := arrays[p.Name]; dup {
			panic(fmt.Errorf("%w: Save: parameter name %q used twice", ErrArg, p.Name))
		}
		arrays[p.Name] = p.Var.Value()
	}
	return tensor.SaveNPZ(path, arrays)
}

// Load reads an archive written by Save and copies each array into the
// value of the parameter with the same name, in place (optimisers holding
// the parameters see the new values). The archive must hold exactly the
// parameters' names with their shapes; otherwise Load returns an error
// wrapping ErrCheckpoint and changes nothing. It panics (wrapping ErrArg)
// if two parameters share a name.
func Load[T tensor.Float](path string, params []Param[T]) error {
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		if seen[p.Name] {
			panic(fmt.Errorf("%w: Load: parameter name %q used twice", ErrArg, p.Name))
		}
		seen[p.Name] = true
	}
	arrays, err := tensor.LoadNPZ[T](path)
	if err != nil {
		return err
	}
	var missing []string
	for _, p := range params {
		a, ok := arrays[p.Name]
		if !ok {
			missing = append(missing, p.Name)
			continue
		}
		if !slices.Equal(a.Shape(), p.Var.Value().Shape()) {
			return fmt.Errorf("%w: %s: %q has shape %v, the model needs %v", ErrCheckpoint, path, p.Name, a.Shape(), p.Var.Value().Shape())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s: no arrays for %v", ErrCheckpoint, path, missing)
	}
	if len(arrays) != len(params) {
		var extra []string
		for name := range arrays {
			if !seen[name] {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		return fmt.Errorf("%w: %s: arrays %v are not parameters of the model", ErrCheckpoint, path, extra)
	}
	for _, p := range params {
		p.Var.Value().Copy(arrays[p.Name])
	}
	return nil
}
