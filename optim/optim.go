package optim

import (
	"errors"
	"fmt"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// ErrConfig is wrapped by the panic value for an invalid setting (a negative
// learning rate, a beta outside [0, 1), Nesterov without momentum) or an
// unusable parameter (nil, or a gradient whose shape differs from its
// value's).
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
	if lr < 0 {
		panic(fmt.Errorf("%w: %s: learning rate %g < 0", ErrConfig, fn, lr))
	}
	c := core[T]{params: append([]*autograd.Var[T](nil), params...), lr: lr, schedule: s}
	for i, p := range params {
		if p == nil {
			panic(fmt.Errorf("%w: %s: parameter %d is nil", ErrConfig, fn, i))
		}
		n := p.Value().Size()
		for lo := 0; lo < n; lo += chunk {
			c.segs = append(c.segs, segment{i, lo, min(lo+chunk, n)})
		}
	}
	return c
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

// SetLR sets the base learning rate. It panics if lr < 0.
func (c *core[T]) SetLR(lr float64) {
	if lr < 0 {
		panic(fmt.Errorf("%w: SetLR: learning rate %g < 0", ErrConfig, lr))
	}
	c.lr = lr
}

// Steps returns the number of steps taken.
func (c *core[T]) Steps() int { return c.steps }

// Params returns the parameters being optimised (the slice must not be
// modified).
func (c *core[T]) Params() []*autograd.Var[T] { return c.params }

// slices returns the value and gradient of segment s, or nil gradient when
// the parameter has none. It panics if the gradient's shape differs.
func (c *core[T]) slices(s segment) (value, grad []T) {
	p := c.params[s.param]
	g := p.Grad()
	if g == nil {
		return nil, nil
	}
	v := p.Value()
	if g.Size() != v.Size() {
		panic(fmt.Errorf("%w: Step: parameter %d has value shape %v but gradient shape %v", ErrConfig, s.param, v.Shape(), g.Shape()))
	}
	return v.Data()[s.lo:s.hi], g.Data()[s.lo:s.hi]
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
