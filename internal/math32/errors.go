package math32

import (
	"errors"
	"fmt"
)

// ErrLength is wrapped by the panic of a slice function whose dst is
// shorter than src.
var ErrLength = errors.New("math32: dst shorter than src")

func checkLen(op string, dst, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Errorf("%w: %s: len(dst) %d < len(src) %d", ErrLength, op, len(dst), len(src)))
	}
}
