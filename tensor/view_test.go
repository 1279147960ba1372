package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func testViews[T Float](t *testing.T) {
	base := Arange[T](0, 24, 1)
	r := base.Reshape(2, -1, 4) // [2 3 4]
	require.Equal(t, []int{2, 3, 4}, r.Shape())
	require.Equal(t, T(1*12+2*4+3), r.At(1, 2, 3))

	// A transposed slice of a reshaped tensor reads and writes the right
	// elements of the original storage.
	m := base.Reshape(4, 6)
	v := m.Slice(1, 1, 5).T() // [4 4]: v[i][j] = m[j][1+i]
	require.Equal(t, []int{4, 4}, v.Shape())
	for i := range 4 {
		for j := range 4 {
			require.Equal(t, T(j*6+1+i), v.At(i, j))
		}
	}
	v.Set(-1, 2, 3) // m[3][3]
	require.Equal(t, T(-1), base.At(3*6+3))
	v.Slice(0, 0, 1).Fill(100) // m[:, 1]
	for j := range 4 {
		require.Equal(t, T(100), base.At(j*6+1))
	}
	require.False(t, v.IsContiguous())
	mustPanic(t, ErrNotContiguous, func() { v.Reshape(16) })
	require.Equal(t, []int{16}, v.Contiguous().Reshape(16).Shape())

	p := r.Permute(2, 0, 1) // [4 2 3]
	require.Equal(t, []int{4, 2, 3}, p.Shape())
	require.Equal(t, r.At(1, 2, 3), p.At(3, 1, 2))
	u := r.Unsqueeze(1)
	require.Equal(t, []int{2, 1, 3, 4}, u.Shape())
	require.Equal(t, r.At(1, 0, 2), u.At(1, 0, 0, 2))
	require.Equal(t, []int{2, 3, 4, 1}, r.Unsqueeze(-1).Shape())
	require.Equal(t, []int{2, 3, 4}, u.Squeeze(1).Shape())
	require.True(t, u.IsContiguous())
	mustPanic(t, ErrShape, func() { r.Squeeze(0) })

	row := FromSlice([]T{1, 2, 3}, 3)
	bv := row.BroadcastTo(2, 3)
	require.Equal(t, []int{0, 1}, bv.Strides())
	require.Equal(t, T(3), bv.At(1, 2))
	e := mustPanic(t, ErrShape, func() { row.BroadcastTo(2, 4) })
	require.Equal(t, "tensor: BroadcastTo: shape [3] does not broadcast to [2 4]", e.Error())
	mustPanic(t, ErrShape, func() { base.Reshape(5, -1) })
	mustPanic(t, ErrIndex, func() { r.Slice(1, 2, 4) })
	mustPanic(t, ErrIndex, func() { r.Permute(0, 0, 1) })
	mustPanic(t, ErrShape, func() { r.T() })

	// Views compose with arithmetic: writing through a view of a view.
	x := New[T](3, 4)
	x.T().Slice(0, 1, 3).Add(x.T().Slice(0, 1, 3), Full[T](1, 2, 3))
	requireClose(t, x, []float64{0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0}, 0)
}

func TestViews(t *testing.T) { bothTypes(t, testViews[float32], testViews[float64]) }

func TestConstructors(t *testing.T) {
	requireClose(t, Arange(0.0, 1.0, 0.25), []float64{0, 0.25, 0.5, 0.75}, 0)
	requireClose(t, Arange[float32](5, 0, -2), []float64{5, 3, 1}, 0)
	require.Equal(t, 0, Arange(1.0, 0, 1).Size())
	mustPanic(t, ErrShape, func() { Arange(0.0, 1, 0) })
	requireClose(t, Eye[float64](3), []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, 0)
	requireClose(t, Ones[float32](2), []float64{1, 1}, 0)
	require.Equal(t, 0, Scalar(2.0).Dims())
	require.Equal(t, 2.0, Scalar(2.0).At())
	e := mustPanic(t, ErrShape, func() { FromSlice([]float64{1, 2, 3}, 2, 2) })
	require.Equal(t, "tensor: FromSlice: 3 elements for shape [2 2] (needs 4)", e.Error())
	mustPanic(t, ErrShape, func() { New[float32](2, -1) })

	rng := rand.New(rand.NewPCG(1, 1))
	n := RandNormal[float64](rng, 2, 3, 100, 100)
	require.InDelta(t, 2, MeanAll(n), 0.1)
	sd := Sqrt(MeanAxis(Square(AddScalar(n, -2).Reshape(-1)), 0, false)).At()
	require.InDelta(t, 3, sd, 0.1)
	u := RandUniform[float32](rng, -1, 3, 10000)
	require.GreaterOrEqual(t, MinAll(u), float32(-1))
	require.Less(t, MaxAll(u), float32(3))
	require.InDelta(t, 1, MeanAll(u), 0.05)
	// Seeded: the same stream gives the same tensor.
	a := RandNormal[float32](rand.New(rand.NewPCG(5, 5)), 0, 1, 4)
	b := RandNormal[float32](rand.New(rand.NewPCG(5, 5)), 0, 1, 4)
	require.Equal(t, a.Data(), b.Data())
}

func TestString(t *testing.T) {
	require.Equal(t, "[[0 1 2]\n [3 4 5]]", Arange(0.0, 6, 1).Reshape(2, 3).String())
	require.Equal(t, "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]", Arange(0.0, 8, 1).Reshape(2, 2, 2).String())
	require.Equal(t, "2.5", Scalar(2.5).String())
	require.Equal(t, "[0.1 0.2]", FromSlice([]float32{0.1, 0.2}, 2).String())
	require.Equal(t, "[]", New[float64](0).String())
	big := Arange(0.0, 2000, 1).Reshape(40, 50)
	want := "[[0 1 2 ... 47 48 49]\n [50 51 52 ... 97 98 99]\n [100 101 102 ... 147 148 149]\n ...\n" +
		" [1850 1851 1852 ... 1897 1898 1899]\n [1900 1901 1902 ... 1947 1948 1949]\n [1950 1951 1952 ... 1997 1998 1999]]"
	require.Equal(t, want, big.String())
}

type myFloat float32

// A named float type runs through the same kernels as its underlying type.
func TestNamedFloatType(t *testing.T) {
	a := FromSlice([]myFloat{1, 2, 3, 4, 5, 6}, 2, 3)
	b := FromSlice([]myFloat{10, 20, 30}, 3)
	requireClose(t, Add(a, b), []float64{11, 22, 33, 14, 25, 36}, 0)
	requireClose(t, MatMul(a, a.T()), []float64{14, 32, 32, 77}, 0)
	requireClose(t, SumAxis(a, 0, false), []float64{5, 7, 9}, 0)
	require.Equal(t, myFloat(21), SumAll(a))
	e := Exp(a)
	want := make([]float64, 6)
	for i := range want {
		want[i] = math.Exp(float64(i + 1))
	}
	requireClose(t, e, want, 1e-6)
	require.Equal(t, "[[1 2 3]\n [4 5 6]]", a.String())
	require.Equal(t, "[0.1]", FromSlice([]myFloat{0.1}, 1).String())
}
