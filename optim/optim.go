package optim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// ErrConfig is wrapped by the panic value for an invalid setting (a
// learning rate, eps or weight decay that is negative, NaN, Inf or too
// large for the element type; a beta or momentum outside [0, 1) or NaN;
// Nesterov without momentum) or an unusable parameter (nil, not
// contiguous, listed twice or sharing storage with another, or a gradient
// whose size differs from its value's). The message names the optimiser,
// the setting or the parameter's index, and the value.
var ErrConfig = errors.New("optim: invalid configuration")

// Optimizer updates a fixed list of parameters from their gradients.
type Optimizer interface {
	// Step applies one update to every parameter that has a gradient and
	// advances the step count. Parameters whose Grad is nil are skipped.
	Step()
	// ZeroGrad zeroes every parameter's gradient in place.
	ZeroGrad()
	// LR returns the learning rate the next Step will use.
	LR() float64
	// SetLR sets the base learning rate (ignored while a Schedule is set).
	SetLR(lr float64)
	// Steps returns the number of Steps taken so far.
	Steps() int
}

// chunk is the number of elements one parallel task updates: large enough
// that a task outweighs its dispatch, small enough that a 500k-parameter
// network splits over several threads.
const chunk = 1 << 15

// segment is a range of one parameter's elements, the unit of parallel work.
type segment struct{ param, lo, hi int }

// core holds what every optimiser shares: the parameters, the split of
// their elements into segments, the step count and the learning rate.
type core[T tensor.Float] struct {
	params   []*autograd.Var[T]
	segs     []segment
	steps    int
	lr       float64
	schedule Schedule
	run      func(i int) // the optimiser's segment update, made once
}

func newCore[T tensor.Float](fn string, params []*autograd.Var[T], lr float64, s Schedule) core[T] {
	checkRate[T](fn, "learning rate", lr)
	validateParams(fn, params)
	c := core[T]{params: append([]*autograd.Var[T](nil), params...), lr: lr, schedule: s}
	for i, p := range params {
		n := p.Value().Size()
		for lo := 0; lo < n; lo += chunk {
			c.segs = append(c.segs, segment{i, lo, min(lo+chunk, n)})
		}
	}
	return c
}

// checkRate panics unless v (a learning rate, eps or weight decay) is
// finite, non-negative and still finite once converted to T: 1e39 is a
// valid float64 but an Inf float32, and one step with it is NaN.
func checkRate[T tensor.Float](fn, name string, v float64) {
	if !(v >= 0) || math.IsInf(float64(T(v)), 0) {
		panic(fmt.Errorf("%w: %s: %s %g must be finite, >= 0 and representable in %T", ErrConfig, fn, name, v, T(0)))
	}
}

// checkUnit panics unless v (a beta or momentum) is in [0, 1). Written as
// !(v >= 0 && v < 1) so that NaN fails too.
func checkUnit(fn, name string, v float64) {
	if !(v >= 0 && v < 1) {
		panic(fmt.Errorf("%w: %s: %s %g outside [0, 1)", ErrConfig, fn, name, v))
	}
}

// validateParams panics, before an optimiser is built, if a parameter is
// nil, its value is not contiguous (the update runs over Data), or two
// entries share storage (the same Var listed twice, or two Vars over one
// tensor), which would update those elements twice per Step. Every
// constructor (and any parameter-group builder) calls it.
func validateParams[T tensor.Float](fn string, params []*autograd.Var[T]) {
	type span struct {
		lo, hi uintptr
		i      int
	}
	spans := make([]span, 0, len(params))
	size := unsafe.Sizeof(T(0))
	for i, p := range params {
		if p == nil {
			panic(fmt.Errorf("%w: %s: parameter %d is nil", ErrConfig, fn, i))
		}
		v := p.Value()
		if !v.IsContiguous() {
			panic(fmt.Errorf("%w: %s: parameter %d (shape %v, strides %v) is not contiguous", ErrConfig, fn, i, v.Shape(), v.Strides()))
		}
		if v.Size() == 0 {
			continue
		}
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(v.Data())))
		spans = append(spans, span{lo, lo + uintptr(v.Size())*size, i})
	}
	slices.SortFunc(spans, func(a, b span) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return a.i - b.i
	})
	for k := 1; k < len(spans); k++ {
		if a, b := spans[k-1], spans[k]; b.lo < a.hi {
			i, j := min(a.i, b.i), max(a.i, b.i)
			what := "shares storage with"
			if params[i] == params[j] {
				what = "is the same Var as"
			}
			panic(fmt.Errorf("%w: %s: parameter %d %s parameter %d (it would be updated twice per Step)", ErrConfig, fn, j, what, i))
		}
	}
}

// stepLR panics, before Step writes anything, if a gradient cannot be used
// with its parameter. It returns the learning rate for this step, checked
// as the constructor checks it (a Schedule may return anything).
func (c *core[T]) stepLR(fn string) float64 {
	lr := c.LR()
	checkRate[T](fn, "learning rate", lr)
	for i, p := range c.params {
		g := p.Grad()
		if g == nil {
			continue
		}
		if v := p.Value(); g.Size() != v.Size() || !v.IsContiguous() || !g.IsContiguous() {
			panic(fmt.Errorf("%w: %s: parameter %d has value shape %v (contiguous %v) and gradient shape %v (contiguous %v)",
				ErrConfig, fn, i, v.Shape(), v.IsContiguous(), g.Shape(), g.IsContiguous()))
		}
	}
	return lr
}

// ZeroGrad zeroes every parameter's gradient.
func (c *core[T]) ZeroGrad() {
	for _, p := range c.params {
		p.ZeroGrad()
	}
}

// LR returns the learning rate the next Step will use: the schedule's
// value at the current step count if a schedule is set, else the base rate.
func (c *core[T]) LR() float64 {
	if c.schedule != nil {
		return c.schedule.LR(c.steps)
	}
	return c.lr
}

// SetLR sets the base learning rate. It panics if lr is negative, NaN,
// Inf or too large for T.
func (c *core[T]) SetLR(lr float64) {
	checkRate[T]("SetLR", "learning rate", lr)
	c.lr = lr
}

// Steps returns the number of steps taken.
func (c *core[T]) Steps() int { return c.steps }

// Params returns the parameters being optimised (the slice must not be
// modified).
func (c *core[T]) Params() []*autograd.Var[T] { return c.params }

// slices returns the value and gradient of segment s, or nil gradient when
// the parameter has none. stepLR has checked that they match.
func (c *core[T]) slices(s segment) (value, grad []T) {
	p := c.params[s.param]
	g := p.Grad()
	if g == nil {
		return nil, nil
	}
	return p.Value().Data()[s.lo:s.hi], g.Data()[s.lo:s.hi]
}

// state allocates one zeroed buffer per parameter, the size of its value.
func (c *core[T]) state() [][]T {
	st := make([][]T, len(c.params))
	for i, p := range c.params {
		st[i] = make([]T, p.Value().Size())
	}
	return st
}

// apply runs the segment updates, in parallel when there are several.
func (c *core[T]) apply() {
	parallel.Do(len(c.segs), c.run)
	c.steps++
}
