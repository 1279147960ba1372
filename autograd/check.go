package autograd

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/tensor"
)

// CheckOptions configures CheckGrad. Zero fields take the defaults.
type CheckOptions struct {
	// Step is the central-difference step h: the numeric derivative is
	// (f(x + h) − f(x − h)) / 2h. Default 1e-6.
	Step float64
	// AbsTol and RelTol: an element passes when
	// |analytic − numeric| ≤ AbsTol + RelTol·max(|analytic|, |numeric|).
	// Defaults 1e-6 and 1e-5.
	AbsTol, RelTol float64
}

func (o CheckOptions) withDefaults() CheckOptions {
	if o.Step == 0 {
		o.Step = 1e-6
	}
	if o.AbsTol == 0 {
		o.AbsTol = 1e-6
	}
	if o.RelTol == 0 {
		o.RelTol = 1e-5
	}
	return o
}

// CheckGrad checks the adjoints that Backward computes for f against
// central differences, in float64. f builds a scalar from its inputs on the
// tape it is given; it is called once with gradients and twice per input
// element without (on copies of inputs, which are left unchanged). It
// returns nil when every element of every input's gradient is within
// tolerance, else an error wrapping ErrGradCheck that describes the worst
// mismatch (input, element, both values) and how many elements failed. It
// also returns an error if f's result is not a finite scalar or Backward
// fails.
func CheckGrad(f func(tp *Tape[float64], in []*Var[float64]) *Var[float64], inputs []*tensor.Dense[float64], opts CheckOptions) error {
	o := opts.withDefaults()
	vars := make([]*Var[float64], len(inputs))
	for i, x := range inputs {
		vars[i] = NewVar(x.Clone(), true)
	}
	tp := NewTape[float64]()
	out := f(tp, vars)
	if out == nil || out.value.Size() != 1 {
		return fmt.Errorf("%w: f must return a scalar", ErrGradCheck)
	}
	if err := tp.Backward(out); err != nil {
		return fmt.Errorf("%w: Backward: %w", ErrGradCheck, err)
	}
	analytic := make([][]float64, len(vars))
	for i, v := range vars {
		analytic[i] = make([]float64, v.value.Size())
		if g := v.Grad(); g != nil {
			copy(analytic[i], g.Data())
		}
	}
	eval := func() float64 {
		tp.Reset()
		prev := tp.NoGrad(true)
		defer tp.NoGrad(prev)
		return float64(f(tp, vars).value.Data()[0])
	}
	var (
		worst         float64 = -1
		wi, wj        int
		wa, wn, wtol  float64
		failed, total int
	)
	for i, v := range vars {
		x := v.value.Data()
		for j := range x {
			orig := x[j]
			x[j] = orig + o.Step
			fp := eval()
			x[j] = orig - o.Step
			fm := eval()
			x[j] = orig
			num := (fp - fm) / (2 * o.Step)
			an := analytic[i][j]
			total++
			if math.IsNaN(num) || math.IsInf(num, 0) {
				return fmt.Errorf("%w: input %d element %d: numeric derivative %v (f not finite near the point)", ErrGradCheck, i, j, num)
			}
			diff := math.Abs(an - num)
			tol := o.AbsTol + o.RelTol*max(math.Abs(an), math.Abs(num))
			if !(diff <= tol) {
				failed++
			}
			// Rank by how far past the tolerance the element is.
			if r := diff / tol; r > worst || math.IsNaN(diff) {
				worst, wi, wj, wa, wn, wtol = r, i, j, an, num, tol
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d elements out of tolerance; worst: input %d (shape %v) element %d: analytic %.10g, numeric %.10g, |diff| %.3g > tolerance %.3g",
			ErrGradCheck, failed, total, wi, inputs[wi].Shape(), wj, wa, wn, math.Abs(wa-wn), wtol)
	}
	return nil
}
