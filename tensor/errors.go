package tensor

import "errors"

// Sentinel values wrapped by the panics and errors of this package; match
// them with errors.Is on a recovered panic value or a returned error.
var (
	// ErrShape: a shape is negative, does not match the data, or two shapes
	// do not broadcast or otherwise fit together.
	ErrShape = errors.New("tensor: bad shape")
	// ErrIndex: an index or axis is out of range.
	ErrIndex = errors.New("tensor: index out of range")
	// ErrNotContiguous: the operation needs contiguous storage.
	ErrNotContiguous = errors.New("tensor: not contiguous")
)
