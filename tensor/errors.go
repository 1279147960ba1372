package tensor

import (
	"errors"
	"fmt"
)

// Sentinel values wrapped by the panics and errors of this package; match
// them with errors.Is on a recovered panic value or a returned error.
var (
	// ErrShape: a shape is negative, too large, does not match the data, or
	// two shapes do not broadcast or otherwise fit together; or a tensor
	// argument is nil.
	ErrShape = errors.New("tensor: bad shape")
	// ErrIndex: an index or axis is out of range.
	ErrIndex = errors.New("tensor: index out of range")
	// ErrNotContiguous: the operation needs contiguous storage.
	ErrNotContiguous = errors.New("tensor: not contiguous")
	// ErrOverlap: a destination overlaps an input where that is not allowed.
	ErrOverlap = errors.New("tensor: destination overlaps an input")
)

// Error is the panic value of this package: a message that names the
// operation and the offending shapes or values, wrapping one of the
// sentinels above (errors.Is(err, ErrShape) and so on).
type Error struct {
	Err error  // the sentinel
	Msg string // full message, starting "tensor: "
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// fail panics with an *Error wrapping sentinel. Keep it out of line so that
// the formatting arguments of a call site only escape on the failure path.
//
//go:noinline
func fail(sentinel error, format string, args ...any) {
	panic(&Error{Err: sentinel, Msg: "tensor: " + fmt.Sprintf(format, args...)})
}
