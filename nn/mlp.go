package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/tensor"
)

// NewMLP returns a multilayer perceptron as a Sequential: Linear layers of
// widths sizes (input first, output last, at least two) with Act{act}
// between them, not after the last (whose outputs are the logits or
// regression values), as PyTorch's
// nn.Sequential(nn.Linear(…), nn.ReLU(), nn.Linear(…)) — and under the
// same names: "0.weight", "0.bias", "2.weight", …. Weights are drawn from
// rng layer by layer with act.DefaultInit(). It panics (wrapping ErrArg)
// for fewer than two sizes, a size < 1, an unknown activation or a nil
// rng.
func NewMLP[T tensor.Float](rng *rand.Rand, sizes []int, act Activation) *Sequential[T] {
	if len(sizes) < 2 {
		panic(fmt.Errorf("%w: NewMLP: sizes %v (need at least input and output)", ErrArg, sizes))
	}
	if act < 0 || int(act) >= len(actNames) {
		panic(fmt.Errorf("%w: NewMLP: unknown activation %v", ErrArg, act))
	}
	s := &Sequential[T]{}
	for i := range len(sizes) - 1 {
		if i > 0 {
			s.Layers = append(s.Layers, Act[T]{act})
		}
		s.Layers = append(s.Layers, NewLinear[T](rng, sizes[i], sizes[i+1], act.DefaultInit()))
	}
	return s
}
