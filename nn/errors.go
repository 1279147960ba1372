package nn

import "errors"

// Sentinel errors; match them with errors.Is (on a recovered panic value
// for ErrArg).
var (
	// ErrArg is wrapped by the panic value for a programmer error: a size
	// below 1, an unknown activation or initialiser, a nil generator.
	ErrArg = errors.New("nn: invalid argument")
	// ErrCheckpoint is wrapped by the errors of Load when a file's arrays
	// do not match the model's parameters (missing, extra, wrong shape).
	ErrCheckpoint = errors.New("nn: checkpoint does not match the model")
	// ErrFormat is wrapped by the errors of CheckpointPath, Save and Load
	// for a file name whose extension names no checkpoint format.
	ErrFormat = errors.New("nn: unknown checkpoint format")
)
