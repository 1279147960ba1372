package gemm

import "unsafe"

// Register tile of the generic Go kernel. Go's register allocator keeps
// scalars in the 15 usable XMM registers on amd64 and its SSE arithmetic is
// destructive (x*y overwrites an operand), so 8 accumulators plus the 2+4
// operands of one k step is what fits without spilling: measured on Zen 4,
// 2×4 runs at 6.6 GFLOP/s (float32) against 4.1 for a spilling 4×4.
const (
	mrGenS, nrGenS = 2, 4
	mrGenD, nrGenD = 2, 4
)

// kernelGeneric is the portable microkernel with the same contract as the
// assembly ones, for a 2×4 tile: k >= 1, a holds k groups of 2 values of
// op(A), b k groups of 4 values of op(B), c starts at C(0,0) with row stride
// ldc, and C = alpha·A·B + beta·C, C not read when beta == 0.
func kernelGeneric[T float32 | float64](k int, a, b, c []T, ldc int, alpha, beta T) {
	var c00, c01, c02, c03, c10, c11, c12, c13 T
	// The slice expressions check that a and b hold k groups; the loop then
	// walks them with pointers, free of per-element bounds checks.
	pa := unsafe.Pointer(&a[:2*k][0])
	pb := unsafe.Pointer(&b[:4*k][0])
	var z T
	sz := unsafe.Sizeof(z)
	var xa, xb uintptr // offsets: a pointer stepped past the end is invalid
	for range k {
		aa := (*[2]T)(unsafe.Add(pa, xa))
		bb := (*[4]T)(unsafe.Add(pb, xb))
		a0, a1 := aa[0], aa[1]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		xa += 2 * sz
		xb += 4 * sz
	}
	r0 := c[0:4:4]
	r1 := c[ldc : ldc+4 : ldc+4]
	if beta == 0 {
		r0[0], r0[1], r0[2], r0[3] = alpha*c00, alpha*c01, alpha*c02, alpha*c03
		r1[0], r1[1], r1[2], r1[3] = alpha*c10, alpha*c11, alpha*c12, alpha*c13
		return
	}
	r0[0], r0[1], r0[2], r0[3] = alpha*c00+beta*r0[0], alpha*c01+beta*r0[1], alpha*c02+beta*r0[2], alpha*c03+beta*r0[3]
	r1[0], r1[1], r1[2], r1[3] = alpha*c10+beta*r1[0], alpha*c11+beta*r1[1], alpha*c12+beta*r1[2], alpha*c13+beta*r1[3]
}
