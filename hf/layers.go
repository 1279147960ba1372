package hf

import (
	"math"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// The building blocks nn lacks, each holding its parameters under
// PyTorch's names (weight, bias) in the checkpoints' layouts. Linear,
// Embedding and LayerNorm are nn's.

// Conv1D is GPT-2's Conv1D, a Linear whose Weight is stored [in, out]:
// y = x·W + b.
type Conv1D[T tensor.Float] struct {
	Weight, Bias *autograd.Var[T]
}

// Forward records x·W + b for x of shape [n, in].
func (l *Conv1D[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Add(tp.MatMul(x, l.Weight), l.Bias)
}

// Members names "weight" and "bias".
func (l *Conv1D[T]) Members(m *nn.Members[T]) {
	m.Param("weight", l.Weight)
	m.Param("bias", l.Bias)
}

// RMSNorm is LlamaRMSNorm: y = w ⊙ x / √(mean(x²) + eps) over the last
// axis.
type RMSNorm[T tensor.Float] struct {
	Weight *autograd.Var[T]
	Eps    float64
}

// Forward records the normalisation of the rows of x ([n, c]).
func (l *RMSNorm[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	s := x.Shape()
	ms := tp.Reshape(tp.MeanAxis(tp.Square(x), 1), s[0], 1)
	r := tp.Sqrt(tp.AddScalar(ms, T(l.Eps)))
	return tp.Mul(tp.Div(x, r), l.Weight)
}

// Members names "weight".
func (l *RMSNorm[T]) Members(m *nn.Members[T]) { m.Param("weight", l.Weight) }

// geluErf records GELU in its exact form, x·Φ(x) with Φ the normal CDF
// (BERT's "gelu", torch's F.gelu). The tape has no erf, so the value is
// x ⊙ Φ(x) with Φ(x) a constant computed here, and the missing part of the
// derivative, x·φ(x) (φ the normal density), comes from u − detach(u) for
// u = −φ(x): that adds exactly 0 to the value and u′ = x·φ(x) to the
// adjoint. The gradient is therefore exact: Φ(x) + x·φ(x).
func geluErf[T tensor.Float](tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	xv := x.Value().Contiguous()
	phi := tensor.New[T](xv.Shape()...)
	normalCDF(phi.Data(), xv.Data())
	y := tp.Mul(x, tp.Const(phi))
	if noGrad(tp) {
		return y
	}
	u := tp.Scale(tp.Exp(tp.Scale(tp.Square(x), -0.5)), T(-1/math.Sqrt(2*math.Pi)))
	return tp.Add(y, tp.Sub(u, tp.Detach(u)))
}

// silu records x·σ(x).
func silu[T tensor.Float](tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	return tp.Mul(x, tp.Sigmoid(x))
}

// noGrad reports whether tp records values only.
func noGrad[T tensor.Float](tp *autograd.Tape[T]) bool {
	on := tp.NoGrad(true)
	tp.NoGrad(on)
	return on
}

func param[T tensor.Float](shape ...int) *autograd.Var[T] {
	return autograd.NewVar(tensor.New[T](shape...), true)
}

func newLinear[T tensor.Float](in, out int, bias bool) *nn.Linear[T] {
	l := &nn.Linear[T]{In: in, Out: out, Weight: param[T](out, in)}
	if bias {
		l.Bias = param[T](out)
	}
	return l
}

func newLayerNorm[T tensor.Float](n int, eps float64) *nn.LayerNorm[T] {
	return &nn.LayerNorm[T]{Dim: n, Eps: eps, Weight: autograd.NewVar(tensor.Ones[T](n), true), Bias: param[T](n)}
}

func newEmbedding[T tensor.Float](num, dim int) *nn.Embedding[T] {
	return &nn.Embedding[T]{Num: num, Dim: dim, Weight: param[T](num, dim)}
}

// normalCDF sets dst[i] = Φ(src[i]) = (1 + erf(src[i]/√2))/2: through
// math.Erf in float64, and in float32 through Abramowitz and Stegun's
// 7.1.26 (|error| < 1.5e-7, below float32's resolution of Φ near 1) with
// the vector exponential, split across threads.
func normalCDF[T tensor.Float](dst, src []T) {
	d32, ok := any(dst).([]float32)
	if !ok {
		for i, v := range src {
			dst[i] = T(0.5 * (1 + math.Erf(float64(v)/math.Sqrt2)))
		}
		return
	}
	s32 := any(src).([]float32)
	parallel.For(len(s32), 1<<13, func(lo, hi int) {
		const (
			p                          = 0.3275911
			a1, a2, a3, a4, a5         = 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429
			invSqrt2           float32 = 0.70710678118654752
		)
		out, in := d32[lo:hi], s32[lo:hi]
		for i, v := range in {
			z := v * invSqrt2
			out[i] = -z * z
		}
		math32.ExpSlice(out, out)
		for i, v := range in {
			z := v * invSqrt2
			if z < 0 {
				z = -z
			}
			t := 1 / (1 + p*z)
			erf := 1 - t*(a1+t*(a2+t*(a3+t*(a4+t*a5))))*out[i]
			if v < 0 {
				erf = -erf
			}
			out[i] = 0.5 * (1 + erf)
		}
	})
}
