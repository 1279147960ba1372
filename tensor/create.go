package tensor

import (
	"math"
	"math/rand/v2"
)

// Full returns a contiguous tensor of the given shape with every element v.
func Full[T Float](v T, shape ...int) *Dense[T] { return New[T](shape...).Fill(v) }

// Ones returns a contiguous tensor of the given shape filled with 1.
func Ones[T Float](shape ...int) *Dense[T] { return Full(T(1), shape...) }

// Scalar returns a 0-dimensional tensor holding v.
func Scalar[T Float](v T) *Dense[T] { return FromSlice([]T{v}) }

// Arange returns the 1-D tensor start, start+step, ... of the values below
// stop (above stop for a negative step), as NumPy's arange. It panics with
// ErrShape if step is 0 or not finite, start or stop is not finite, or the
// count exceeds MaxElements (Arange(0, 1e30, 1) used to return an empty
// tensor after an out-of-range float-to-int conversion).
func Arange[T Float](start, stop, step T) *Dense[T] {
	if step == 0 || !finite(step) || !finite(start) || !finite(stop) {
		fail(ErrShape, "Arange: start %v, stop %v, step %v (need finite values and a non-zero step)", start, stop, step)
	}
	c := math.Ceil((float64(stop) - float64(start)) / float64(step))
	if c > float64(MaxElements[T]()) {
		fail(ErrShape, "Arange(%v, %v, %v): %g elements exceeds %d", start, stop, step, c, MaxElements[T]())
	}
	n := 0
	if c > 0 { // int(c) of a huge negative c is not defined on every GOARCH
		n = int(c)
	}
	t := New[T](n)
	for i := range t.data {
		t.data[i] = start + T(i)*step
	}
	return t
}

// finite reports whether v is neither NaN nor ±Inf.
func finite[T Float](v T) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// Eye returns the n×n identity matrix.
func Eye[T Float](n int) *Dense[T] {
	t := New[T](n, n)
	for i := range n {
		t.data[i*n+i] = 1
	}
	return t
}

// RandNormal returns a tensor of the given shape with independent normal
// samples of the given mean and standard deviation drawn from rng (seed it
// for reproducible results).
func RandNormal[T Float](rng *rand.Rand, mean, std T, shape ...int) *Dense[T] {
	t := New[T](shape...)
	for i := range t.data {
		t.data[i] = mean + std*T(rng.NormFloat64())
	}
	return t
}

// RandUniform returns a tensor of the given shape with independent samples
// uniform on [lo, hi) drawn from rng.
func RandUniform[T Float](rng *rand.Rand, lo, hi T, shape ...int) *Dense[T] {
	t := New[T](shape...)
	for i := range t.data {
		v := lo + (hi-lo)*T(rng.Float64())
		for v >= hi && hi > lo {
			// Rounding to T reached hi: draw again, keeping [lo, hi).
			v = lo + (hi-lo)*T(rng.Float64())
		}
		t.data[i] = v
	}
	return t
}
