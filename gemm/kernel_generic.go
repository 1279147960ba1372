package gemm

import "unsafe"

// Register tile of the generic Go kernel. Go's amd64 back end keeps scalars
// in 15 XMM registers, its SSE arithmetic is destructive (x*y overwrites an
// operand), and its scheduler issues all of a step's multiplies before the
// adds, so each product needs a register of its own until it is added. A
// 2×2 tile (4 accumulators, 4 products, 2+2 operands) is the largest that
// never spills: measured on Zen 4 in float64, 2×2 runs at 9.7 GFLOP/s, 2×4
// (which spills products) at 6.2 and 4×4 at 4.1.
const (
	mrGenS, nrGenS = 2, 2
	mrGenD, nrGenD = 2, 2
)

// kernelGeneric is the portable microkernel with the same contract as the
// assembly ones, for a 2×2 tile: k >= 1, a holds k groups of 2 values of
// op(A), b k groups of 2 values of op(B), c starts at C(0,0) with row stride
// ldc, and C = alpha·A·B + beta·C, C not read when beta == 0.
func kernelGeneric[T float32 | float64](k int, a, b, c []T, ldc int, alpha, beta T) {
	var c00, c01, c10, c11 T
	// The slice expressions check that a and b hold k groups; the loop then
	// reads them through pointers, free of per-element bounds checks.
	pa := unsafe.Pointer(&a[:2*k][0])
	pb := unsafe.Pointer(&b[:2*k][0])
	var z T
	step := 2 * unsafe.Sizeof(z)
	var x uintptr // an offset: a pointer stepped past the end is invalid
	for range k {
		aa := (*[2]T)(unsafe.Add(pa, x))
		bb := (*[2]T)(unsafe.Add(pb, x))
		a0, a1 := aa[0], aa[1]
		b0, b1 := bb[0], bb[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c10 += a1 * b0
		c11 += a1 * b1
		x += step
	}
	r0 := c[0:2:2]
	r1 := c[ldc : ldc+2 : ldc+2]
	if beta == 0 {
		r0[0], r0[1] = alpha*c00, alpha*c01
		r1[0], r1[1] = alpha*c10, alpha*c11
		return
	}
	r0[0], r0[1] = alpha*c00+beta*r0[0], alpha*c01+beta*r0[1]
	r1[0], r1[1] = alpha*c10+beta*r1[0], alpha*c11+beta*r1[1]
}
