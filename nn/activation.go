package nn

import (
	"fmt"
	"strings"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Activation names an elementwise nonlinearity.
type Activation int

const (
	ReLU      Activation = iota // max(0, x)
	Tanh                        // tanh x
	Sigmoid                     // 1/(1+e^−x)
	GELU                        // x·Φ(x), as autograd's Gelu computes it
	LeakyReLU                   // x for x > 0, else LeakySlope·x
	Identity                    // x (no nonlinearity)
)

// LeakySlope is the negative-side slope of LeakyReLU.
const LeakySlope = 0.01

var actNames = [...]string{"relu", "tanh", "sigmoid", "gelu", "leaky-relu", "identity"}

func (a Activation) String() string {
	if a < 0 || int(a) >= len(actNames) {
		return fmt.Sprintf("Activation(%d)", int(a))
	}
	return actNames[a]
}

// ParseActivation returns the activation with the given name (as String
// prints it, case-insensitive; "leakyrelu" and "linear" are accepted too).
func ParseActivation(s string) (Activation, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "leakyrelu", "leaky_relu":
		return LeakyReLU, nil
	case "linear", "none":
		return Identity, nil
	}
	for i, n := range actNames {
		if s == n {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("nn: unknown activation %q (want one of %s)", s, strings.Join(actNames[:], ", "))
}

// DefaultInit returns the initialiser suited to a: Kaiming for ReLU-like
// activations, Xavier otherwise.
func (a Activation) DefaultInit() Init {
	switch a {
	case ReLU, LeakyReLU, GELU:
		return KaimingUniform
	}
	return XavierUniform
}

// Activate records a applied to x on tp. It panics (wrapping ErrArg) for an
// unknown activation.
func Activate[T tensor.Float](tp *autograd.Tape[T], a Activation, x *autograd.Var[T]) *autograd.Var[T] {
	switch a {
	case ReLU:
		return tp.Relu(x)
	case Tanh:
		return tp.Tanh(x)
	case Sigmoid:
		return tp.Sigmoid(x)
	case GELU:
		return tp.Gelu(x)
	case LeakyReLU:
		return tp.LeakyRelu(x, LeakySlope)
	case Identity:
		return x
	}
	panic(fmt.Errorf("%w: Activate: unknown activation %v", ErrArg, a))
}
