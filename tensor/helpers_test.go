package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// randView returns a tensor of the given shape that is, at random, either
// contiguous or a permuted, sliced view of a larger base tensor, filled
// with normal samples. Elements outside the view are NaN, so a read outside
// it shows.
func randView[T Float](rng *rand.Rand, shape ...int) *Dense[T] {
	r := len(shape)
	if r == 0 || rng.IntN(3) == 0 {
		return RandNormal[T](rng, 0, 1, shape...)
	}
	perm := rng.Perm(r)
	base := make([]int, r)
	pads := make([]int, r)
	for i := range r {
		pads[i] = rng.IntN(3)
		base[i] = shape[perm[i]] + pads[i]
	}
	b := Full(T(math.NaN()), base...)
	v := b
	for i := range r {
		lo := rng.IntN(pads[i] + 1)
		v = v.Slice(i, lo, lo+shape[perm[i]])
	}
	inv := make([]int, r)
	for i, p := range perm {
		inv[p] = i
	}
	v = v.Permute(inv...)
	fillNormal(rng, v)
	return v
}

func fillNormal[T Float](rng *rand.Rand, t *Dense[T]) {
	forEach(t.shape, func(idx []int) { t.Set(T(rng.NormFloat64()), idx...) })
}

// forEach calls f with every multi-index of shape in row-major order.
func forEach(shape []int, f func(idx []int)) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	idx := make([]int, len(shape))
	for range n {
		f(idx)
		next(idx, shape)
	}
}

// bcastAt reads t at idx of a (broadcast) result shape.
func bcastAt[T Float](t *Dense[T], idx []int) T {
	lead := len(idx) - len(t.shape)
	j := make([]int, len(t.shape))
	for i := range j {
		if t.shape[i] != 1 {
			j[i] = idx[i+lead]
		}
	}
	return t.At(j...)
}

// randShape returns a random shape of rank 0..maxR with dimensions 1..maxD.
func randShape(rng *rand.Rand, maxR, maxD int) []int {
	s := make([]int, rng.IntN(maxR+1))
	for i := range s {
		s[i] = 1 + rng.IntN(maxD)
	}
	return s
}

// randBroadcastPair returns two shapes that broadcast: the result shape with
// some dimensions set to 1 or dropped on each side.
func randBroadcastPair(rng *rand.Rand) (out, a, b []int) {
	out = randShape(rng, 4, 4)
	mk := func() []int {
		s := slices.Clone(out)
		for i := range s {
			if rng.IntN(3) == 0 {
				s[i] = 1
			}
		}
		return s[rng.IntN(len(s)+1):]
	}
	return out, mk(), mk()
}

// tol returns the tolerance for comparing a result of element type T with
// a float64 reference.
func tol[T Float]() float64 {
	if is32T[T]() {
		return 2e-6
	}
	return 1e-13
}

func is32T[T Float]() bool {
	var z T
	switch any(z).(type) {
	case float32:
		return true
	}
	return false
}

func close64(got, want, rel float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= rel*(1+math.Abs(want))
}

// requireClose checks got against want elementwise (want in row-major
// order of got's shape).
func requireClose[T Float](t *testing.T, got *Dense[T], want []float64, rel float64, msg ...any) {
	t.Helper()
	require.Equal(t, len(want), got.Size(), msg...)
	k := 0
	forEach(got.shape, func(idx []int) {
		g := float64(got.At(idx...))
		if !close64(g, want[k], rel) {
			require.Failf(t, "mismatch", "at %v: got %v want %v (%v)", idx, g, want[k], msg)
		}
		k++
	})
}

// both runs f as float32 and float64 subtests.
func bothTypes(t *testing.T, f32 func(t *testing.T), f64 func(t *testing.T)) {
	t.Run("type=float32", f32)
	t.Run("type=float64", f64)
}

// mustPanic runs f and returns the recovered *Error, failing if f does not
// panic with one wrapping sentinel.
func mustPanic(t *testing.T, sentinel error, f func()) (e *Error) {
	t.Helper()
	defer func() {
		t.Helper()
		p := recover()
		require.NotNil(t, p, "no panic")
		var ok bool
		e, ok = p.(*Error)
		require.True(t, ok, "panic value %T %v", p, p)
		require.ErrorIs(t, e, sentinel)
	}()
	f()
	return nil
}
