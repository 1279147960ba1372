package optim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/adjoint-go/adjoint/tensor"
)

// ErrState is wrapped by the errors of LoadStateDict when a state dict does
// not fit the optimiser (a missing or unexpected key, a wrong shape, an
// invalid value).
var ErrState = errors.New("optim: state does not fit the optimiser")

// The state dicts are flat maps under the keys of PyTorch's
// optimizer.state_dict()["state"], prefixed "state.<i>." for parameter i:
// "step" (the steps taken, a scalar), "momentum_buffer" (SGD with
// momentum), "exp_avg" and "exp_avg_sq" (Adam and AdamW). Settings (LR,
// betas, weight decay, schedule) are not state: the optimiser that loads
// is made with the same configuration. Before the first Step the state is
// empty, as PyTorch's is.

// StateDict returns the momentum buffers and step count, sharing storage
// with the optimiser (save them before the next Step changes them).
func (o *SGD[T]) StateDict() map[string]*tensor.Dense[T] {
	return o.stateDict(map[string][][]T{"momentum_buffer": o.vel}, o.steps > 0)
}

// LoadStateDict restores what StateDict returned (from an SGD over
// parameters of the same shapes, with momentum as this one has or not).
// It returns an error wrapping ErrState and changes nothing if sd does not
// fit; an empty sd resets the optimiser to its first step.
func (o *SGD[T]) LoadStateDict(sd map[string]*tensor.Dense[T]) error {
	names := []string(nil)
	if o.cfg.Momentum != 0 {
		names = []string{"momentum_buffer"}
	}
	steps, bufs, err := o.checkState("SGD", sd, names)
	if err != nil {
		return err
	}
	o.steps = steps
	o.vel = nil
	if len(bufs) > 0 {
		o.vel = bufs[0]
	}
	return nil
}

// StateDict returns the moment buffers and step count, sharing storage
// with the optimiser.
func (o *Adam[T]) StateDict() map[string]*tensor.Dense[T] {
	return o.stateDict(map[string][][]T{"exp_avg": o.m, "exp_avg_sq": o.v}, o.steps > 0)
}

// LoadStateDict restores what StateDict returned (from an Adam or AdamW
// over parameters of the same shapes). It returns an error wrapping
// ErrState and changes nothing if sd does not fit (exp_avg_sq must be
// >= 0); an empty sd resets the optimiser to its first step.
func (o *Adam[T]) LoadStateDict(sd map[string]*tensor.Dense[T]) error {
	steps, bufs, err := o.checkState("Adam", sd, []string{"exp_avg", "exp_avg_sq"})
	if err != nil {
		return err
	}
	if len(bufs) > 0 {
		for j, v := range bufs[1] {
			if k := slices.IndexFunc(v, func(x T) bool { return x < 0 }); k >= 0 {
				return fmt.Errorf("%w: Adam: state.%d.exp_avg_sq holds %v at %d (must be >= 0)", ErrState, j, v[k], k)
			}
		}
	}
	o.steps = steps
	o.m, o.v = nil, nil
	if len(bufs) > 0 {
		o.m, o.v = bufs[0], bufs[1]
	}
	return nil
}

// stateDict builds the flat map of buffers (nil ones left out) and steps.
func (c *core[T]) stateDict(bufs map[string][][]T, started bool) map[string]*tensor.Dense[T] {
	sd := map[string]*tensor.Dense[T]{}
	if !started {
		return sd
	}
	for i, p := range c.params {
		pre := "state." + strconv.Itoa(i) + "."
		sd[pre+"step"] = tensor.FromSlice([]T{T(c.steps)})
		for name, b := range bufs {
			if b != nil {
				sd[pre+name] = tensor.FromSlice(b[i], p.Value().Shape()...)
			}
		}
	}
	return sd
}

// checkState checks sd against the parameters and returns the step count
// and, per name, copies of the buffers (none for an empty sd).
func (c *core[T]) checkState(op string, sd map[string]*tensor.Dense[T], names []string) (int, [][][]T, error) {
	if len(sd) == 0 {
		return 0, nil, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{ErrState, op}, args...)...)
	}
	want := map[string]bool{}
	steps := -1
	bufs := make([][][]T, len(names))
	for i, p := range c.params {
		pre := "state." + strconv.Itoa(i) + "."
		st, ok := sd[pre+"step"]
		want[pre+"step"] = true
		if !ok {
			return 0, nil, bad("no %sstep", pre)
		}
		if st.Size() != 1 {
			return 0, nil, bad("%sstep has shape %v (want a scalar)", pre, st.Shape())
		}
		s := float64(st.Contiguous().Data()[0])
		if !(s >= 0) || s != math.Trunc(s) || s > 1<<53 || s >= math.MaxInt || (steps >= 0 && int(s) != steps) {
			return 0, nil, bad("%sstep is %v (want one whole step count for every parameter)", pre, s)
		}
		steps = int(s)
		for k, name := range names {
			b, ok := sd[pre+name]
			want[pre+name] = true
			if !ok {
				return 0, nil, bad("no %s%s", pre, name)
			}
			if !slices.Equal(b.Shape(), p.Value().Shape()) {
				return 0, nil, bad("%s%s has shape %v, parameter %d has %v", pre, name, b.Shape(), i, p.Value().Shape())
			}
			d := slices.Clone(b.Contiguous().Data())
			for j, v := range d {
				if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
					return 0, nil, bad("%s%s holds %v at %d", pre, name, v, j)
				}
			}
			bufs[k] = append(bufs[k], d)
		}
	}
	var extra []string
	for k := range sd {
		if !want[k] {
			extra = append(extra, strconv.Quote(k))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		if len(extra) > 10 {
			extra = append(extra[:10], "…")
		}
		return 0, nil, bad("unexpected keys %s", strings.Join(extra, " "))
	}
	return steps, bufs, nil
}
