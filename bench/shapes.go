package bench

import (
	"fmt"

	"github.com/adjoint-go/adjoint/gemm"
)

// Shape is one GEMM problem: op(A) is M×K, op(B) is K×N.
type Shape struct {
	M, N, K int
	TA, TB  gemm.Transpose
	Note    string // what the shape stands for, e.g. "MLP fwd 784→512"
}

// String is the benchmark name fragment, "shape=MxNxK/trans=NN".
func (s Shape) String() string {
	return fmt.Sprintf("shape=%dx%dx%d/trans=%c%c", s.M, s.N, s.K, s.TA, s.TB)
}

// Flops is the floating-point operation count 2·M·N·K.
func (s Shape) Flops() float64 { return 2 * float64(s.M) * float64(s.N) * float64(s.K) }

// MaxDim is the largest of M, N and K.
func (s Shape) MaxDim() int { return max(s.M, s.N, s.K) }

// Square returns the NN square problem of size n.
func Square(n int) Shape { return Shape{M: n, N: n, K: n, TA: gemm.NoTrans, TB: gemm.NoTrans} }

// SquareSizes are the square NN sizes benchmarked.
var SquareSizes = []int{64, 128, 256, 512, 1024, 2048}

// Shapes returns the benchmarked problems: the square NN sizes, NT and TN at
// 1024, and the products of a 784-512-512-10 MLP at batch 256 (forward
// layers, and the two backward products of the first layer: weight gradient
// Xᵀ·Z̄ as TN and input gradient Z̄·Wᵀ as NT).
func Shapes() []Shape {
	var ss []Shape
	for _, n := range SquareSizes {
		ss = append(ss, Square(n))
	}
	N, T := gemm.NoTrans, gemm.Trans
	return append(ss,
		Shape{1024, 1024, 1024, N, T, "NT"},
		Shape{1024, 1024, 1024, T, N, "TN"},
		Shape{256, 512, 784, N, N, "MLP fwd 256x784·784x512"},
		Shape{256, 512, 512, N, N, "MLP fwd 256x512·512x512"},
		Shape{256, 10, 512, N, N, "MLP fwd 256x512·512x10"},
		Shape{784, 512, 256, T, N, "MLP bwd TN 784x256·256x512 (dW)"},
		Shape{256, 784, 512, N, T, "MLP bwd NT 256x512·512x784 (dX)"},
	)
}

// Operands returns A, B and C for s, filled with values in [-1, 1) from a
// fixed sequence, with tight leading dimensions: lda, ldb, ldc.
func Operands[T float32 | float64](s Shape) (a []T, lda int, b []T, ldb int, c []T, ldc int) {
	ar, ac := s.M, s.K
	if s.TA == gemm.Trans {
		ar, ac = s.K, s.M
	}
	br, bc := s.K, s.N
	if s.TB == gemm.Trans {
		br, bc = s.N, s.K
	}
	return fill[T](ar*ac, 1), ac, fill[T](br*bc, 2), bc, fill[T](s.M*s.N, 3), s.N
}

// fill returns n pseudo-random values in [-1, 1) (a small LCG: the values
// only need to be ordinary numbers, not NaN, denormals or zeros).
func fill[T float32 | float64](n int, seed uint64) []T {
	x := make([]T, n)
	st := seed*0x9E3779B97F4A7C15 + 1
	for i := range x {
		st = st*6364136223846793005 + 1442695040888963407
		x[i] = T(int64(st>>40)-(1<<23)) / (1 << 23)
	}
	return x
}
