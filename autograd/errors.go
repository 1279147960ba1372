package autograd

import (
	"errors"
	"fmt"

	"github.com/adjoint-go/adjoint/tensor"
)

// Sentinel values. Panics for programmer errors wrap ErrShape, ErrIndex
// (both the tensor package's sentinels, so one errors.Is works across the
// two packages) or ErrMisuse; errors returned by Backward wrap ErrNotScalar,
// ErrGraphReleased, ErrNoGrad or ErrAnomaly. Match them with errors.Is on a
// returned error or on a recovered panic value.
var (
	// ErrShape: operand shapes do not fit the op (tensor.ErrShape).
	ErrShape = tensor.ErrShape
	// ErrIndex: an axis, slice bound or class label is out of range
	// (tensor.ErrIndex).
	ErrIndex = tensor.ErrIndex
	// ErrMisuse: a nil Var, a Var recorded on another tape, or a Var used
	// after the Reset that recycled it.
	ErrMisuse = errors.New("autograd: misuse")

	// ErrNotScalar is returned by Backward when the loss has more than one
	// element (use BackwardSeed to give the seed adjoint explicitly).
	ErrNotScalar = errors.New("autograd: backward from a non-scalar without a seed")
	// ErrGraphReleased is returned by a second Backward over a graph that
	// the first released (see Tape.RetainGraph).
	ErrGraphReleased = errors.New("autograd: graph already released by Backward")
	// ErrNoGrad is returned by Backward when the loss does not depend on
	// any Var that requires a gradient (or was recorded in no-grad mode).
	ErrNoGrad = errors.New("autograd: loss does not require grad")
	// ErrAnomaly is wrapped by the *AnomalyError that anomaly mode reports.
	ErrAnomaly = errors.New("autograd: non-finite value")
	// ErrGradCheck is wrapped by the errors of CheckGrad.
	ErrGradCheck = errors.New("autograd: gradient check failed")
)

// Error is the panic value of this package: a message naming the op and
// the offending shapes or values, wrapping one of the sentinels above.
type Error struct {
	Err error  // the sentinel
	Msg string // full message, starting "autograd: "
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// fail panics with an *Error. Out of line so that a call site's arguments
// escape only on the failure path.
//
//go:noinline
func fail(sentinel error, format string, args ...any) {
	panic(&Error{Err: sentinel, Msg: "autograd: " + fmt.Sprintf(format, args...)})
}

// AnomalyError reports the first NaN or Inf that anomaly mode saw.
type AnomalyError struct {
	Op    string // the op that produced it, e.g. "Log"
	Phase string // "forward" (in the op's output) or "backward" (in an input's adjoint)
	Index int    // flat index of the first bad element
	Value float64
	Shape []int // shape of the tensor that held it
}

func (e *AnomalyError) Error() string {
	return fmt.Sprintf("autograd: anomaly: %s %s produced %v at flat index %d of a tensor of shape %v",
		e.Op, e.Phase, e.Value, e.Index, e.Shape)
}
func (e *AnomalyError) Unwrap() error { return ErrAnomaly }
