package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveMatMul returns alpha·a·b + beta·c (c may be nil) for 2-D or 3-D
// operands with broadcast batch, as float64 in row-major order.
func naiveMatMul[T Float](alpha float64, a, b *Dense[T], beta float64, c *Dense[T]) []float64 {
	get := func(x *Dense[T], bi, i, j int) float64 {
		if x.Dims() == 2 {
			return float64(x.At(i, j))
		}
		if x.shape[0] == 1 {
			bi = 0
		}
		return float64(x.At(bi, i, j))
	}
	batch, m, k, n := 1, a.shape[a.Dims()-2], a.shape[a.Dims()-1], b.shape[b.Dims()-1]
	if a.Dims() == 3 {
		batch = max(batch, a.shape[0])
	}
	if b.Dims() == 3 {
		batch = max(batch, b.shape[0])
	}
	var out []float64
	for bi := range batch {
		for i := range m {
			for j := range n {
				s := 0.0
				for p := range k {
					s += get(a, bi, i, p) * get(b, bi, p, j)
				}
				v := alpha * s
				if c != nil && beta != 0 {
					v += beta * get(c, bi, i, j)
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// matView returns an r×c operand in one of several layouts: contiguous,
// a transposed view (gemm Trans), a row-sliced view with a leading
// dimension larger than the row, or a view with no unit stride (packed).
func matView[T Float](rng *rand.Rand, layout, r, c int) *Dense[T] {
	switch layout {
	case 0:
		return RandNormal[T](rng, 0, 1, r, c)
	case 1:
		return RandNormal[T](rng, 0, 1, c, r).T()
	case 2:
		return RandNormal[T](rng, 0, 1, r, c+3).Slice(1, 2, 2+c)
	default:
		// Every other column of a wider matrix, transposed: no unit stride.
		return RandNormal[T](rng, 0, 1, c, 2*r).Reshape(c, r, 2).Slice(2, 1, 2).Squeeze(2).T()
	}
}

func testMatMul[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	dims := []int{1, 2, 7, 33}
	for _, m := range dims {
		for _, k := range dims {
			for _, n := range dims {
				for la := range 4 {
					for lb := range 4 {
						a, b := matView[T](rng, la, m, k), matView[T](rng, lb, k, n)
						aCopy, bCopy := a.Clone(), b.Clone()
						name := fmt.Sprint("m ", m, " k ", k, " n ", n, " layouts ", la, lb)
						requireClose(t, MatMul(a, b), naiveMatMul(1, a, b, 0, nil), 4*tol[T](), name)
						c := RandNormal[T](rng, 0, 1, m, n+2).Slice(1, 1, 1+n)
						want := naiveMatMul(0.5, a, b, -2, c)
						c.Gemm(0.5, a, b, -2)
						requireClose(t, c, want, 4*tol[T](), name)
						// Inputs are unchanged.
						require.Equal(t, aCopy.Data(), a.Contiguous().Data())
						require.Equal(t, bCopy.Data(), b.Contiguous().Data())
					}
				}
			}
		}
	}
}

func TestMatMul(t *testing.T) { bothTypes(t, testMatMul[float32], testMatMul[float64]) }

func testBatchedMatMul[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	a := RandNormal[T](rng, 0, 1, 3, 4, 5)
	b := RandNormal[T](rng, 0, 1, 3, 5, 2)
	requireClose(t, MatMul(a, b), naiveMatMul(1, a, b, 0, nil), 4*tol[T]())
	b1 := RandNormal[T](rng, 0, 1, 1, 5, 2)
	requireClose(t, MatMul(a, b1), naiveMatMul(1, a, b1, 0, nil), 4*tol[T]())
	b2 := RandNormal[T](rng, 0, 1, 5, 2)
	got := MatMul(a, b2)
	require.Equal(t, []int{3, 4, 2}, got.Shape())
	requireClose(t, got, naiveMatMul(1, a, b2, 0, nil), 4*tol[T]())
	// Batched transposed views: [3, 2, 5] permuted to [3, 5, 2].
	bt := RandNormal[T](rng, 0, 1, 3, 2, 5).Permute(0, 2, 1)
	requireClose(t, MatMul(a, bt), naiveMatMul(1, a, bt, 0, nil), 4*tol[T]())
	// Batch dimension innermost in memory: no unit stride, packed.
	ap := RandNormal[T](rng, 0, 1, 4, 5, 3).Permute(2, 0, 1)
	requireClose(t, MatMul(ap, b), naiveMatMul(1, ap, b, 0, nil), 4*tol[T]())
	// Shared b: merged into one product when a and d stack row-major.
	for _, m := range []int{1, 4} {
		am := RandNormal[T](rng, 0, 1, 3, m, 5)
		requireClose(t, MatMul(am, b2), naiveMatMul(1, am, b2, 0, nil), 4*tol[T](), "m", m)
		// Rows padded (not mergeable into one matrix with the batch).
		ap := RandNormal[T](rng, 0, 1, 3, m, 7).Slice(2, 1, 6)
		requireClose(t, MatMul(ap, b2), naiveMatMul(1, ap, b2, 0, nil), 4*tol[T](), "m", m)
		// Batches apart (every other one of a larger stack).
		as := RandNormal[T](rng, 0, 1, 6, m, 5).Reshape(3, 2, m, 5).Slice(1, 0, 1).Squeeze(1)
		dd := RandNormal[T](rng, 0, 1, 3, m, 4).Slice(2, 1, 3)
		want := naiveMatMul(1, as, b2, 2, dd)
		dd.Gemm(1, as, b2, 2)
		requireClose(t, dd, want, 4*tol[T](), "m", m)
	}
	// Gemm accumulates into a batched destination.
	d := RandNormal[T](rng, 0, 1, 3, 4, 2)
	want := naiveMatMul(1, a, b, 1, d)
	d.Gemm(1, a, b, 1)
	requireClose(t, d, want, 4*tol[T]())
}

func TestBatchedMatMul(t *testing.T) {
	bothTypes(t, testBatchedMatMul[float32], testBatchedMatMul[float64])
}

func TestMatMulPanics(t *testing.T) {
	a, b := New[float32](2, 3), New[float32](4, 2)
	e := mustPanic(t, ErrShape, func() { MatMul(a, b) })
	require.Equal(t, "tensor: MatMul: shapes [2 3] and [4 2] do not multiply", e.Error())
	mustPanic(t, ErrShape, func() { New[float32](2, 3).MatMul(a, New[float32](3, 2)) })
	mustPanic(t, ErrNotContiguous, func() { New[float32](2, 2).T().MatMul(a, New[float32](3, 2)) })
	x := New[float32](4, 4)
	mustPanic(t, ErrOverlap, func() { x.Slice(0, 0, 2).MatMul(x.Slice(0, 1, 3), New[float32](4, 4)) })
	mustPanic(t, ErrShape, func() { MatMul(New[float32](2, 3, 4), New[float32](3, 4, 5)) })
	mustPanic(t, ErrShape, func() { MatMul(New[float32](3), New[float32](3, 1)) })
	// k = 0: the product is zero.
	requireClose(t, MatMul(New[float32](2, 0), New[float32](0, 3)), make([]float64, 6), 0)
}
