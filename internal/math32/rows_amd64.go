//go:build amd64 && gc && !purego

package math32

// The row kernels' shims: each runs its AVX2 kernel over a slice whose
// length is a positive multiple of 8 and reports whether it did.

func maxVec(x []float32) (float32, bool) {
	if !useAVX2 {
		return 0, false
	}
	return maxAVX2(&x[0], len(x)), true
}

func sumVec(x []float32) (float32, bool) {
	if !useAVX2 {
		return 0, false
	}
	return sumAVX2(&x[0], len(x)), true
}

func sumSqDiffVec(x []float32, c float32) (float32, bool) {
	if !useAVX2 {
		return 0, false
	}
	return sumSqDiffAVX2(&x[0], len(x), c), true
}

func expShiftSumVec(dst, src []float32, shift float32) (float32, bool) {
	if !useAVX2 {
		return 0, false
	}
	return expShiftSumAVX2(&dst[0], &src[0], len(src), shift), true
}

// normAffineVec runs the kernel over the first len(x)&^7 elements (all the
// slices at least len(x) long) and returns how many it did.
func normAffineVec(dst, x, s, b []float32, mu, inv float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	normAffineAVX2(&dst[0], &x[0], &s[0], &b[0], n, mu, inv)
	return n
}

// scaleVec runs the kernel over the first len(x)&^7 elements (dst at least
// len(x) long) and returns how many it did.
func scaleVec(dst, x []float32, a float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	scaleAVX2(&dst[0], &x[0], n, a)
	return n
}
