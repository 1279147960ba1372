package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/tensor"
)

// randT returns a tensor of the given shape with uniform entries in
// [lo, hi), from a fixed seed per call site.
func randT(r *rand.Rand, lo, hi float64, shape ...int) *tensor.Dense[float64] {
	t := tensor.New[float64](shape...)
	d := t.Data()
	for i := range d {
		d[i] = lo + (hi-lo)*r.Float64()
	}
	return t
}

// weigh reduces v to a scalar as Σ w⊙v with fixed random weights, so that a
// wrong adjoint anywhere in v shows (a plain Sum seeds every element with
// 1 and hides permutation and scaling bugs).
func weigh(tp *Tape[float64], v *Var[float64]) *Var[float64] {
	r := rand.New(rand.NewPCG(7, uint64(v.Value().Size())))
	w := randT(r, -1, 1, v.Value().Shape()...)
	return tp.Sum(tp.Mul(v, tp.Const(w)))
}

type gradCase struct {
	name   string
	inputs []*tensor.Dense[float64]
	f      func(tp *Tape[float64], in []*Var[float64]) *Var[float64]
}

func unaryCase(name string, lo, hi float64, op func(tp *Tape[float64], a *Var[float64]) *Var[float64]) gradCase {
	r := rand.New(rand.NewPCG(1, uint64(len(name))))
	return gradCase{name, []*tensor.Dense[float64]{randT(r, lo, hi, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
		return weigh(tp, op(tp, in[0]))
	}}
}

// awayFromZero returns entries in ±[0.2, 2), where relu-like kinks are far
// from the finite-difference step.
func awayFromZero(r *rand.Rand, shape ...int) *tensor.Dense[float64] {
	t := randT(r, 0.2, 2, shape...)
	for i, d := 0, t.Data(); i < len(d); i += 2 {
		d[i] = -d[i]
	}
	return t
}

func TestCheckGradEveryOp(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 1))
	rn := func(shape ...int) *tensor.Dense[float64] { return randT(r, -1, 1, shape...) }
	type F = func(tp *Tape[float64], in []*Var[float64]) *Var[float64]
	bin := func(op func(tp *Tape[float64], a, b *Var[float64]) *Var[float64]) F {
		return func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, op(tp, in[0], in[1])) }
	}
	pos := func(shape ...int) *tensor.Dense[float64] { return randT(r, 0.5, 2, shape...) }
	cases := []gradCase{
		unaryCase("Neg", -1, 1, (*Tape[float64]).Neg),
		unaryCase("Scale", -1, 1, func(tp *Tape[float64], a *Var[float64]) *Var[float64] { return tp.Scale(a, -2.5) }),
		unaryCase("AddScalar", -1, 1, func(tp *Tape[float64], a *Var[float64]) *Var[float64] { return tp.AddScalar(a, 3) }),
		unaryCase("Exp", -2, 2, (*Tape[float64]).Exp),
		unaryCase("Log", 0.3, 3, (*Tape[float64]).Log),
		unaryCase("Sqrt", 0.3, 3, (*Tape[float64]).Sqrt),
		unaryCase("Square", -2, 2, (*Tape[float64]).Square),
		unaryCase("Pow", 0.3, 3, func(tp *Tape[float64], a *Var[float64]) *Var[float64] { return tp.Pow(a, 2.7) }),
		unaryCase("PowNegative", 0.3, 3, func(tp *Tape[float64], a *Var[float64]) *Var[float64] { return tp.Pow(a, -1.5) }),
		unaryCase("Tanh", -3, 3, (*Tape[float64]).Tanh),
		unaryCase("Sigmoid", -4, 4, (*Tape[float64]).Sigmoid),
		unaryCase("Gelu", -3, 3, (*Tape[float64]).Gelu),
		unaryCase("Sin", -3, 3, (*Tape[float64]).Sin),
		unaryCase("Cos", -3, 3, (*Tape[float64]).Cos),
		{"Relu", []*tensor.Dense[float64]{awayFromZero(r, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Relu(in[0])) }},
		{"Abs", []*tensor.Dense[float64]{awayFromZero(r, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Abs(in[0])) }},
		{"LeakyRelu", []*tensor.Dense[float64]{awayFromZero(r, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.LeakyRelu(in[0], 0.1))
		}},
		{"LeakyReluNegativeSlope", []*tensor.Dense[float64]{awayFromZero(r, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.LeakyRelu(in[0], -0.3))
		}},

		{"Add/same", []*tensor.Dense[float64]{rn(3, 4), rn(3, 4)}, bin((*Tape[float64]).Add)},
		{"Sub/same", []*tensor.Dense[float64]{rn(3, 4), rn(3, 4)}, bin((*Tape[float64]).Sub)},
		{"Mul/same", []*tensor.Dense[float64]{rn(3, 4), rn(3, 4)}, bin((*Tape[float64]).Mul)},
		{"Div/same", []*tensor.Dense[float64]{rn(3, 4), pos(3, 4)}, bin((*Tape[float64]).Div)},
		{"Add/rowbias", []*tensor.Dense[float64]{rn(3, 4), rn(4)}, bin((*Tape[float64]).Add)},
		{"Add/rowbias-first", []*tensor.Dense[float64]{rn(4), rn(3, 4)}, bin((*Tape[float64]).Add)},
		{"Sub/colbias", []*tensor.Dense[float64]{rn(3, 4), rn(3, 1)}, bin((*Tape[float64]).Sub)},
		{"Sub/colbias-first", []*tensor.Dense[float64]{rn(3, 1), rn(3, 4)}, bin((*Tape[float64]).Sub)},
		{"Mul/outer", []*tensor.Dense[float64]{rn(3, 1), rn(1, 4)}, bin((*Tape[float64]).Mul)},
		{"Mul/rowbias", []*tensor.Dense[float64]{rn(3, 4), rn(1, 4)}, bin((*Tape[float64]).Mul)},
		{"Div/outer", []*tensor.Dense[float64]{rn(3, 1), pos(1, 4)}, bin((*Tape[float64]).Div)},
		{"Div/colbias-divisor", []*tensor.Dense[float64]{rn(3, 4), pos(3, 1)}, bin((*Tape[float64]).Div)},
		{"Mul/scalar", []*tensor.Dense[float64]{rn(), rn(3, 4)}, bin((*Tape[float64]).Mul)},
		{"Mul/3d", []*tensor.Dense[float64]{rn(2, 1, 4), rn(3, 1)}, bin((*Tape[float64]).Mul)},

		{"MatMul", []*tensor.Dense[float64]{rn(3, 4), rn(4, 5)}, bin((*Tape[float64]).MatMul)},
		{"MatMulT/NT", []*tensor.Dense[float64]{rn(3, 4), rn(5, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.MatMulT(in[0], in[1], gemm.NoTrans, gemm.Trans))
		}},
		{"MatMulT/TN", []*tensor.Dense[float64]{rn(4, 3), rn(4, 5)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.MatMulT(in[0], in[1], gemm.Trans, gemm.NoTrans))
		}},
		{"MatMulT/TT", []*tensor.Dense[float64]{rn(4, 3), rn(5, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.MatMulT(in[0], in[1], gemm.Trans, gemm.Trans))
		}},
		{"MatMul/same-operand", []*tensor.Dense[float64]{rn(4, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.MatMul(in[0], in[0]))
		}},
		{"MatMulT/same-operand-gram", []*tensor.Dense[float64]{rn(3, 5)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.MatMulT(in[0], in[0], gemm.NoTrans, gemm.Trans))
		}},
		{"Linear", []*tensor.Dense[float64]{rn(5, 3), rn(4, 3), rn(4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Linear(in[0], in[1], in[2]))
		}},
		{"Linear/bias-1xM", []*tensor.Dense[float64]{rn(5, 3), rn(4, 3), rn(1, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Linear(in[0], in[1], in[2]))
		}},
		{"Linear/nobias", []*tensor.Dense[float64]{rn(5, 3), rn(4, 3)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Linear(in[0], in[1], nil))
		}},
		{"Linear/batched-BxTxK", []*tensor.Dense[float64]{rn(2, 3, 5), rn(4, 5), rn(4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Linear(in[0], in[1], in[2]))
		}},
		{"Linear/vector-K", []*tensor.Dense[float64]{rn(5), rn(4, 5), rn(4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Linear(in[0], in[1], in[2]))
		}},

		{"Sum", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return tp.Scale(tp.Sum(in[0]), 1.7)
		}},
		{"Mean", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return tp.Square(tp.Mean(in[0]))
		}},
		{"SumAxis/0", []*tensor.Dense[float64]{rn(2, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.SumAxis(in[0], 0)) }},
		{"SumAxis/1", []*tensor.Dense[float64]{rn(2, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.SumAxis(in[0], 1)) }},
		{"SumAxis/-1", []*tensor.Dense[float64]{rn(2, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.SumAxis(in[0], -1)) }},
		{"MeanAxis/1", []*tensor.Dense[float64]{rn(2, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.MeanAxis(in[0], 1)) }},
		{"LogSumExp/1", []*tensor.Dense[float64]{rn(2, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.LogSumExp(in[0], 1)) }},
		{"LogSumExp/-1", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.LogSumExp(in[0], -1)) }},
		{"Softmax/-1", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Softmax(in[0], -1)) }},
		{"Softmax/0", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Softmax(in[0], 0)) }},
		{"Softmax/3d-middle", []*tensor.Dense[float64]{rn(2, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Softmax(in[0], 1)) }},
		{"LogSoftmax/-1", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.LogSoftmax(in[0], -1)) }},
		{"LogSoftmax/0", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.LogSoftmax(in[0], 0)) }},

		{"Reshape", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Reshape(in[0], 2, -1, 3))
		}},
		{"Transpose/2d", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Transpose(in[0])) }},
		{"Transpose/3d", []*tensor.Dense[float64]{rn(2, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Transpose(in[0])) }},
		{"Slice/0", []*tensor.Dense[float64]{rn(5, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Slice(in[0], 0, 1, 4)) }},
		{"Slice/-1", []*tensor.Dense[float64]{rn(2, 3, 5)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return weigh(tp, tp.Slice(in[0], -1, 2, 5)) }},
		{"Concat/0", []*tensor.Dense[float64]{rn(2, 3), rn(4, 3)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Concat(0, in[0], in[1]))
		}},
		{"Concat/1-same-twice", []*tensor.Dense[float64]{rn(2, 3), rn(2, 1)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Concat(1, in[0], in[1], in[0]))
		}},

		{"MSE", []*tensor.Dense[float64]{rn(3, 4), rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] { return tp.MSE(in[0], in[1]) }},
		{"CrossEntropy", []*tensor.Dense[float64]{randT(r, -3, 3, 5, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return tp.CrossEntropy(in[0], []int{0, 3, 1, 1, 2})
		}},
		{"BCEWithLogits", []*tensor.Dense[float64]{randT(r, -3, 3, 3, 4), randT(r, 0, 1, 3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return tp.BCEWithLogits(in[0], in[1])
		}},

		// Compositions.
		{"used-twice", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			x := in[0]
			return weigh(tp, tp.Add(tp.Mul(x, x), tp.Tanh(x)))
		}},
		{"diamond", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			h := tp.Sigmoid(in[0])
			return weigh(tp, tp.Div(tp.Exp(h), tp.AddScalar(tp.Square(h), 1)))
		}},
		{"mlp", []*tensor.Dense[float64]{rn(6, 5), rn(7, 5), rn(7), rn(7, 3), rn(3)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			h := tp.Tanh(tp.Linear(in[0], in[1], in[2]))
			z := tp.Add(tp.MatMul(h, in[3]), in[4])
			return tp.CrossEntropy(z, []int{0, 1, 2, 2, 1, 0})
		}},
		{"attention-like", []*tensor.Dense[float64]{rn(4, 3), rn(4, 3), rn(4, 2)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			s := tp.Scale(tp.MatMulT(in[0], in[1], gemm.NoTrans, gemm.Trans), 0.5)
			p := tp.Softmax(s, -1)
			return weigh(tp, tp.MatMul(p, in[2]))
		}},
		{"transposed-into-activation", []*tensor.Dense[float64]{rn(3, 4), rn(3, 5)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			z := tp.MatMulT(in[0], in[1], gemm.Trans, gemm.NoTrans) // 4×5
			return weigh(tp, tp.Gelu(tp.Transpose(tp.Sigmoid(z))))
		}},
		{"norm", []*tensor.Dense[float64]{rn(3, 4)}, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			x := in[0]
			mu := tp.Reshape(tp.MeanAxis(x, 1), 3, 1)
			c := tp.Sub(x, mu)
			v := tp.Reshape(tp.MeanAxis(tp.Square(c), 1), 3, 1)
			return weigh(tp, tp.Div(c, tp.Sqrt(tp.AddScalar(v, 1e-2))))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, CheckGrad(c.f, c.inputs, CheckOptions{}))
		})
	}
}

// The checker itself must catch a wrong adjoint: feed it a function whose
// gradient path is cut by Detach on one of two paths.
func TestCheckGradCatchesWrongGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	x := randT(r, -1, 1, 2, 3)
	err := CheckGrad(func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
		return weigh(tp, tp.Mul(in[0], tp.Detach(in[0])))
	}, []*tensor.Dense[float64]{x}, CheckOptions{})
	require.ErrorIs(t, err, ErrGradCheck)
	require.Contains(t, err.Error(), "input 0")
	t.Log(err)
}
