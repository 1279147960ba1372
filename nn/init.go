package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/tensor"
)

// Init names a weight initialiser.
type Init int

const (
	// KaimingUniform draws from U(−b, b), b = √(6/fan_in): He et al.
	// (2015) for ReLU-like activations (gain √2). The default for ReLU,
	// leaky ReLU and GELU networks.
	KaimingUniform Init = iota
	// KaimingNormal draws from N(0, 2/fan_in).
	KaimingNormal
	// XavierUniform draws from U(−b, b), b = √(6/(fan_in+fan_out)): Glorot
	// and Bengio (2010), for tanh, sigmoid and linear layers.
	XavierUniform
	// XavierNormal draws from N(0, 2/(fan_in+fan_out)).
	XavierNormal
)

var initNames = [...]string{"kaiming-uniform", "kaiming-normal", "xavier-uniform", "xavier-normal"}

func (i Init) String() string {
	if i < 0 || int(i) >= len(initNames) {
		return fmt.Sprintf("Init(%d)", int(i))
	}
	return initNames[i]
}

// Initialize fills w (contiguous) with draws from rng for the given scheme
// and fans. It panics (wrapping ErrArg) for an unknown scheme, a fan < 1 or
// a non-contiguous w.
func Initialize[T tensor.Float](rng *rand.Rand, w *tensor.Dense[T], init Init, fanIn, fanOut int) {
	if fanIn < 1 || fanOut < 1 {
		panic(fmt.Errorf("%w: Initialize: fan_in %d, fan_out %d (both must be >= 1)", ErrArg, fanIn, fanOut))
	}
	switch init {
	case KaimingUniform:
		fillUniform(rng, w.Data(), math.Sqrt(6/float64(fanIn)))
	case KaimingNormal:
		fillNormal(rng, w.Data(), math.Sqrt(2/float64(fanIn)))
	case XavierUniform:
		fillUniform(rng, w.Data(), math.Sqrt(6/float64(fanIn+fanOut)))
	case XavierNormal:
		fillNormal(rng, w.Data(), math.Sqrt(2/float64(fanIn+fanOut)))
	default:
		panic(fmt.Errorf("%w: Initialize: unknown scheme %v", ErrArg, init))
	}
}

// fillUniform sets each element to a draw from U(−b, b), in order.
func fillUniform[T tensor.Float](rng *rand.Rand, x []T, b float64) {
	for i := range x {
		x[i] = T((2*rng.Float64() - 1) * b)
	}
}

// fillNormal sets each element to a draw from N(0, std²), in order.
func fillNormal[T tensor.Float](rng *rand.Rand, x []T, std float64) {
	for i := range x {
		x[i] = T(rng.NormFloat64() * std)
	}
}
