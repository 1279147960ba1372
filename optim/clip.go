package optim

import (
	"fmt"
	"math"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// ClipGradNorm rescales the gradients of params in place so that their
// global 2-norm (all gradients taken as one vector) is at most maxNorm, as
// PyTorch's torch.nn.utils.clip_grad_norm_ does, and returns that norm as
// it was before clipping. Call it between Backward and Step.
//
// The norm is √Σg² over every element of every gradient, accumulated in
// float64 in a fixed order (parameter by parameter, element by element in
// four interleaved partial sums), so the result does not depend on the
// thread count. The gradients are multiplied by c = maxNorm/(total + 1e-6)
// when c < 1, that is when total > maxNorm − 1e-6 (PyTorch's clamp of c at
// 1; the 1e-6 keeps a zero norm finite); otherwise they are untouched. As
// in PyTorch (error_if_nonfinite=False), a NaN or infinite total is
// returned and applied: an infinite total zeroes the finite gradients, a
// NaN total makes them NaN, so check the result for that. Parameters
// whose Grad is nil are skipped.
//
// It allocates nothing. It panics (wrapping ErrConfig) if maxNorm is NaN
// or negative or a parameter is nil.
func ClipGradNorm[T tensor.Float](params []*autograd.Var[T], maxNorm float64) (total float64) {
	if math.IsNaN(maxNorm) || maxNorm < 0 {
		panic(clipErr("maxNorm %g must be >= 0", maxNorm))
	}
	var sum float64
	for i, p := range params {
		if p == nil {
			panic(clipErr("parameter %d is nil", i))
		}
		if g := p.Grad(); g != nil {
			sum += sumSquares(g.Data())
		}
	}
	total = math.Sqrt(sum)
	c := maxNorm / (total + 1e-6)
	if !(c >= 1) { // c < 1, or NaN as PyTorch's clamp propagates it
		s := T(c)
		for _, p := range params {
			if g := p.Grad(); g != nil {
				d := g.Data()
				for j := range d {
					d[j] *= s
				}
			}
		}
	}
	return total
}

// clipErr builds the panic value; out of line so the boxing of its
// arguments happens only on the failure path.
//
//go:noinline
func clipErr(format string, args ...any) error {
	return fmt.Errorf("%w: ClipGradNorm: "+format, append([]any{ErrConfig}, args...)...)
}

// sumSquares returns Σx² in float64 with four partial sums, so the adds
// are not one long dependency chain; the order is fixed and every product
// rounded, so the bits are the same on every architecture.
func sumSquares[T tensor.Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += float64(a * a) // float64(...): never fused into a multiply-add
		s1 += float64(b * b)
		s2 += float64(c * c)
		s3 += float64(d * d)
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += float64(a * a)
	}
	return (s0 + s1) + (s2 + s3)
}
