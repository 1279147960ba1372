package nn

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/adjoint-go/adjoint/tensor"
)

// LoadReport lists the keys a non-strict load passed over, as PyTorch's
// load_state_dict returns them: Missing are the model's names the state
// dict lacks (left unchanged), Unexpected the state dict's names the model
// lacks (ignored). Both are sorted.
type LoadReport struct {
	Missing, Unexpected []string
}

// Stateful is state saved beside a model that is not part of its module
// tree: an optimiser's (optim's SGD, Adam and AdamW implement it). The
// names are the flattened keys of PyTorch's optimizer.state_dict()
// ("state.0.exp_avg", "state.0.step", …).
type Stateful[T tensor.Float] interface {
	StateDict() map[string]*tensor.Dense[T]
	LoadStateDict(sd map[string]*tensor.Dense[T]) error
}

// stateChecker is implemented by modules whose buffers have a valid range
// beyond being finite (BatchNorm2d: running_var >= 0); prefix is the
// module's name and a dot.
type stateChecker[T tensor.Float] interface {
	checkState(prefix string, sd State[T]) error
}

// LoadStateDict copies sd's tensors into m's parameters and buffers of the
// same names, in place (optimisers holding the parameters see the new
// values). With strict, sd must hold exactly m's names (PyTorch's
// load_state_dict(strict=True)); without, names missing from either side
// are reported and skipped (a BatchNorm2d's num_batches_tracked may be
// absent, as PyTorch allows for older files: the count is left as it is;
// a tied weight needs only one of its names, as safetensors' load_model
// and Hugging Face files have it).
// Either way every tensor loaded must have the
// model's shape (the error names the key and both shapes, and says so when
// one is the other transposed), hold only finite values, and keep a
// buffer in its range (BatchNorm2d's running_var >= 0); otherwise the
// error wraps ErrCheckpoint and nothing is changed.
func LoadStateDict[T tensor.Float](m Module[T], sd State[T], strict bool) (LoadReport, error) {
	return loadStateDict(m, sd, strict, true)
}

// loadStateDict is LoadStateDict, changing m only with commit.
func loadStateDict[T tensor.Float](m Module[T], sd State[T], strict, commit bool) (LoadReport, error) {
	var rep LoadReport
	own := StateDict(m)
	optional := map[string]bool{}
	for _, nm := range NamedModules(m) {
		if _, ok := nm.Module.(*BatchNorm2d[T]); ok {
			// As PyTorch's BatchNorm, a state dict without
			// num_batches_tracked (older files) leaves it as it is.
			optional[dotted(nm.Name, "num_batches_tracked")] = true
		}
	}
	// A tied weight (one tensor under several names) is loaded if any of
	// its names is present: safetensors' save_model and Hugging Face files
	// keep one name of each tied group.
	present := map[*tensor.Dense[T]]bool{}
	for name, v := range own {
		if _, ok := sd[name]; ok {
			present[v] = true
		}
	}
	for name, v := range own {
		if _, ok := sd[name]; !ok && !optional[name] && !present[v] {
			rep.Missing = append(rep.Missing, name)
		}
	}
	for name := range sd {
		if _, ok := own[name]; !ok {
			rep.Unexpected = append(rep.Unexpected, name)
		}
	}
	sort.Strings(rep.Missing)
	sort.Strings(rep.Unexpected)
	if strict && (len(rep.Missing) > 0 || len(rep.Unexpected) > 0) {
		var parts []string
		if len(rep.Missing) > 0 {
			parts = append(parts, "missing keys "+quoteNames(rep.Missing))
		}
		if len(rep.Unexpected) > 0 {
			parts = append(parts, "unexpected keys "+quoteNames(rep.Unexpected))
		}
		return rep, fmt.Errorf("%w: %s", ErrCheckpoint, strings.Join(parts, "; "))
	}
	names := make([]string, 0, len(own))
	for name := range own {
		if _, ok := sd[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		have, want := sd[name].Shape(), own[name].Shape()
		if !slices.Equal(have, want) {
			hint := ""
			if len(have) == 2 && len(want) == 2 && have[0] == want[1] && have[1] == want[0] {
				hint = " (its transpose: Linear weights are [out, in], as PyTorch stores them; a file written [in, out] needs transposing)"
			}
			return rep, fmt.Errorf("%w: %s has shape %v, the model needs %v%s", ErrCheckpoint, quote(name), have, want, hint)
		}
		if i, v, ok := firstNonFinite(sd[name]); !ok {
			return rep, fmt.Errorf("%w: %s holds %v at flat index %d (parameters and buffers must be finite)", ErrCheckpoint, quote(name), v, i)
		}
	}
	for _, nm := range NamedModules(m) {
		if c, ok := nm.Module.(stateChecker[T]); ok {
			if err := c.checkState(dotted(nm.Name, ""), sd); err != nil {
				return rep, err
			}
		}
	}
	if commit {
		for _, name := range names {
			own[name].Copy(sd[name])
		}
	}
	return rep, nil
}

// dotted joins a module's name and a member's name ("" for the root).
func dotted(module, member string) string {
	if module == "" {
		return member
	}
	return module + "." + member
}

// firstNonFinite returns the first NaN or ±Inf of d, or ok.
func firstNonFinite[T tensor.Float](d *tensor.Dense[T]) (int, T, bool) {
	for i, v := range d.Contiguous().Data() {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return i, v, false
		}
	}
	return 0, 0, true
}

// quote quotes a name for an error message, shortened past 200 bytes.
func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}

// quoteNames quotes up to 20 names.
func quoteNames(names []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i == 20 {
			fmt.Fprintf(&b, " and %d more", len(names)-20)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quote(n))
	}
	b.WriteByte(']')
	return b.String()
}

// CheckpointPath returns nil if path's extension names a checkpoint format
// (".npz" or ".safetensors", in any letter case), else the error that Save
// and Load return for it; commands call it to validate a flag before work.
func CheckpointPath(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz", ".safetensors":
		return nil
	}
	return fmt.Errorf("%w: %s: unknown checkpoint format %q (the name must end in .npz or .safetensors)", ErrFormat, path, filepath.Ext(path))
}

// SaveState writes sd to path, one tensor per name, in the format path's
// extension names: ".safetensors" (with the {"format": "pt"} metadata
// safetensors.torch.save_file writes, so safetensors.torch.load_file and
// Hugging Face read it as PyTorch's) or ".npz" (numpy.load(path)[name]).
// Any other extension is an error wrapping ErrFormat, and nothing is
// written. Every tensor is stored in T: a State does not say which hold
// integers (Save, which has the module, stores its IntBuffers as int64).
func SaveState[T tensor.Float](path string, sd State[T]) error {
	return saveState(path, sd, nil)
}

// saveState is SaveState with the tensors ints names stored as int64.
func saveState[T tensor.Float](path string, sd State[T], ints map[string]bool) error {
	if err := CheckpointPath(path); err != nil {
		return err
	}
	if strings.EqualFold(filepath.Ext(path), ".npz") {
		return tensor.SaveNPZWith(path, sd, tensor.SaveOptions{Int64: ints})
	}
	return tensor.SaveSafetensorsWith(path, sd, tensor.SaveOptions{Metadata: map[string]string{"format": "pt"}, Int64: ints})
}

// LoadState reads a file written by SaveState or by PyTorch
// (safetensors.torch.save_file, or numpy.savez of the state dict's arrays)
// into a State, converting every element to T (F16, BF16 and the integer
// and bool dtypes exactly; see tensor.ReadSafetensors).
func LoadState[T tensor.Float](path string) (State[T], error) {
	if err := CheckpointPath(path); err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(path), ".npz") {
		return tensor.LoadNPZ[T](path)
	}
	return tensor.LoadSafetensors[T](path)
}

// optimPrefix is the key prefix of the i-th Stateful saved with a model.
func optimPrefix(i int) string {
	if i == 0 {
		return "optimizer."
	}
	return "optimizer" + strconv.Itoa(i) + "."
}

// isOptimKey reports whether name belongs to a Stateful saved with a model
// ("optimizer." or "optimizerN.").
func isOptimKey(name string) bool {
	rest, ok := strings.CutPrefix(name, "optimizer")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, '.')
	if i < 0 {
		return false
	}
	for _, c := range rest[:i] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Save writes m's state dict to path (see SaveState for the formats),
// under PyTorch's state_dict names, so that PyTorch's
// load_state_dict(strict=True) on the same architecture accepts it. Each
// of opts (an optimiser) is saved beside it, its keys prefixed
// "optimizer." (the first), "optimizer1.", … . The module's IntBuffers
// (BatchNorm2d's num_batches_tracked) are stored as int64, as PyTorch
// stores them; the rest in T.
func Save[T tensor.Float](path string, m Module[T], opts ...Stateful[T]) error {
	sd := StateDict(m)
	for i, o := range opts {
		for k, v := range o.StateDict() {
			sd[optimPrefix(i)+k] = v
		}
	}
	return saveState(path, sd, intBuffers(m))
}

// Load reads a file written by Save or by PyTorch into m (LoadStateDict
// with strict), and into opts what Save wrote for them (keys
// "optimizer.", "optimizer1.", …, which never count as the model's
// unexpected keys). The model is checked before anything changes; an
// optimiser's LoadStateDict changes nothing when it fails, but one that
// loaded before another failed keeps what it loaded.
func Load[T tensor.Float](path string, m Module[T], strict bool, opts ...Stateful[T]) (LoadReport, error) {
	all, err := LoadState[T](path)
	if err != nil {
		return LoadReport{}, err
	}
	model := State[T]{}
	parts := make([]map[string]*tensor.Dense[T], len(opts))
	for i := range parts {
		parts[i] = map[string]*tensor.Dense[T]{}
	}
	for k, v := range all {
		if !isOptimKey(k) {
			model[k] = v
			continue
		}
		for i := range opts {
			if rest, ok := strings.CutPrefix(k, optimPrefix(i)); ok {
				parts[i][rest] = v
			}
		}
	}
	// Check the model first without changing it, then the optimisers,
	// then commit the model.
	if _, err := loadStateDict(m, model, strict, false); err != nil {
		return LoadReport{}, fmt.Errorf("%s: %w", path, err)
	}
	for i, o := range opts {
		if err := o.LoadStateDict(parts[i]); err != nil {
			return LoadReport{}, fmt.Errorf("%w: %s: %s: %w", ErrCheckpoint, path, strings.TrimSuffix(optimPrefix(i), "."), err)
		}
	}
	return LoadStateDict(m, model, strict)
}
