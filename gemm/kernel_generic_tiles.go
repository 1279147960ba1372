package gemm

import "unsafe"

// The generic kernels for each register tile, unrolled by hand (see
// kernel_generic.go for why this shape of code). Each has the contract of
// kernelGeneric for its MR×NR tile. All of them compile on every platform,
// so the tests check each against the reference wherever they run; the
// tile constant picks the one the driver calls.
//
// Inside each k step the code loads B's NR values, then for each row one A
// value and its NR multiply-adds, in source order: Go's scheduler keeps
// that order for values used later in the same block, so every product is
// added to its accumulator before the next is formed, and a product needs
// one temporary register, not one each. The last step of the unrolled body
// is the exception (its sums feed only the loop's phis, so they sink to the
// block's end), which the unroll factor amortises.

func kernelGeneric2x2[T float32 | float64](k int, a, b, c []T, ldc int, alpha, beta T) {
	var c00, c01, c10, c11 T
	pa := unsafe.Pointer(&a[:2*k][0])
	pb := unsafe.Pointer(&b[:2*k][0])
	var z T
	sa, sb := 2*unsafe.Sizeof(z), 2*unsafe.Sizeof(z)
	var xa, xb uintptr // offsets: a pointer stepped past the end is invalid
	for range k / 8 {
		aa := (*[16]T)(unsafe.Add(pa, xa))
		bb := (*[16]T)(unsafe.Add(pb, xb))
		b0, b1 := bb[0], bb[1]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		b0, b1 = bb[2], bb[3]
		a0 = aa[2]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[3]
		c10 += a1 * b0
		c11 += a1 * b1
		b0, b1 = bb[4], bb[5]
		a0 = aa[4]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[5]
		c10 += a1 * b0
		c11 += a1 * b1
		b0, b1 = bb[6], bb[7]
		a0 = aa[6]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[7]
		c10 += a1 * b0
		c11 += a1 * b1
		b0, b1 = bb[8], bb[9]
		a0 = aa[8]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[9]
		c10 += a1 * b0
		c11 += a1 * b1
		b0, b1 = bb[10], bb[11]
		a0 = aa[10]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[11]
		c10 += a1 * b0
		c11 += a1 * b1
		b0, b1 = bb[12], bb[13]
		a0 = aa[12]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[13]
		c10 += a1 * b0
		c11 += a1 * b1
		b0, b1 = bb[14], bb[15]
		a0 = aa[14]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[15]
		c10 += a1 * b0
		c11 += a1 * b1
		xa += 8 * sa
		xb += 8 * sb
	}
	for range k % 8 {
		aa := (*[2]T)(unsafe.Add(pa, xa))
		bb := (*[2]T)(unsafe.Add(pb, xb))
		b0, b1 := bb[0], bb[1]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		xa += sa
		xb += sb
	}
	r0 := c[0*ldc : 0*ldc+2 : 0*ldc+2]
	r1 := c[1*ldc : 1*ldc+2 : 1*ldc+2]
	if beta == 0 {
		r0[0], r0[1] = alpha*c00, alpha*c01
		r1[0], r1[1] = alpha*c10, alpha*c11
		return
	}
	r0[0], r0[1] = alpha*c00+beta*r0[0], alpha*c01+beta*r0[1]
	r1[0], r1[1] = alpha*c10+beta*r1[0], alpha*c11+beta*r1[1]
}

func kernelGeneric4x2[T float32 | float64](k int, a, b, c []T, ldc int, alpha, beta T) {
	var c00, c01, c10, c11, c20, c21, c30, c31 T
	pa := unsafe.Pointer(&a[:4*k][0])
	pb := unsafe.Pointer(&b[:2*k][0])
	var z T
	sa, sb := 4*unsafe.Sizeof(z), 2*unsafe.Sizeof(z)
	var xa, xb uintptr // offsets: a pointer stepped past the end is invalid
	for range k / 4 {
		aa := (*[16]T)(unsafe.Add(pa, xa))
		bb := (*[8]T)(unsafe.Add(pb, xb))
		b0, b1 := bb[0], bb[1]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 := aa[2]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 := aa[3]
		c30 += a3 * b0
		c31 += a3 * b1
		b0, b1 = bb[2], bb[3]
		a0 = aa[4]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[5]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 = aa[6]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 = aa[7]
		c30 += a3 * b0
		c31 += a3 * b1
		b0, b1 = bb[4], bb[5]
		a0 = aa[8]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[9]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 = aa[10]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 = aa[11]
		c30 += a3 * b0
		c31 += a3 * b1
		b0, b1 = bb[6], bb[7]
		a0 = aa[12]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = aa[13]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 = aa[14]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 = aa[15]
		c30 += a3 * b0
		c31 += a3 * b1
		xa += 4 * sa
		xb += 4 * sb
	}
	for range k % 4 {
		aa := (*[4]T)(unsafe.Add(pa, xa))
		bb := (*[2]T)(unsafe.Add(pb, xb))
		b0, b1 := bb[0], bb[1]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 := aa[2]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 := aa[3]
		c30 += a3 * b0
		c31 += a3 * b1
		xa += sa
		xb += sb
	}
	r0 := c[0*ldc : 0*ldc+2 : 0*ldc+2]
	r1 := c[1*ldc : 1*ldc+2 : 1*ldc+2]
	r2 := c[2*ldc : 2*ldc+2 : 2*ldc+2]
	r3 := c[3*ldc : 3*ldc+2 : 3*ldc+2]
	if beta == 0 {
		r0[0], r0[1] = alpha*c00, alpha*c01
		r1[0], r1[1] = alpha*c10, alpha*c11
		r2[0], r2[1] = alpha*c20, alpha*c21
		r3[0], r3[1] = alpha*c30, alpha*c31
		return
	}
	r0[0], r0[1] = alpha*c00+beta*r0[0], alpha*c01+beta*r0[1]
	r1[0], r1[1] = alpha*c10+beta*r1[0], alpha*c11+beta*r1[1]
	r2[0], r2[1] = alpha*c20+beta*r2[0], alpha*c21+beta*r2[1]
	r3[0], r3[1] = alpha*c30+beta*r3[0], alpha*c31+beta*r3[1]
}

func kernelGeneric4x4[T float32 | float64](k int, a, b, c []T, ldc int, alpha, beta T) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 T
	pa := unsafe.Pointer(&a[:4*k][0])
	pb := unsafe.Pointer(&b[:4*k][0])
	var z T
	sa, sb := 4*unsafe.Sizeof(z), 4*unsafe.Sizeof(z)
	var xa, xb uintptr // offsets: a pointer stepped past the end is invalid
	for range k / 4 {
		aa := (*[16]T)(unsafe.Add(pa, xa))
		bb := (*[16]T)(unsafe.Add(pb, xb))
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := aa[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := aa[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		b0, b1, b2, b3 = bb[4], bb[5], bb[6], bb[7]
		a0 = aa[4]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 = aa[5]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 = aa[6]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 = aa[7]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		b0, b1, b2, b3 = bb[8], bb[9], bb[10], bb[11]
		a0 = aa[8]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 = aa[9]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 = aa[10]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 = aa[11]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		b0, b1, b2, b3 = bb[12], bb[13], bb[14], bb[15]
		a0 = aa[12]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 = aa[13]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 = aa[14]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 = aa[15]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		xa += 4 * sa
		xb += 4 * sb
	}
	for range k % 4 {
		aa := (*[4]T)(unsafe.Add(pa, xa))
		bb := (*[4]T)(unsafe.Add(pb, xb))
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := aa[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := aa[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		xa += sa
		xb += sb
	}
	r0 := c[0*ldc : 0*ldc+4 : 0*ldc+4]
	r1 := c[1*ldc : 1*ldc+4 : 1*ldc+4]
	r2 := c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := c[3*ldc : 3*ldc+4 : 3*ldc+4]
	if beta == 0 {
		r0[0], r0[1], r0[2], r0[3] = alpha*c00, alpha*c01, alpha*c02, alpha*c03
		r1[0], r1[1], r1[2], r1[3] = alpha*c10, alpha*c11, alpha*c12, alpha*c13
		r2[0], r2[1], r2[2], r2[3] = alpha*c20, alpha*c21, alpha*c22, alpha*c23
		r3[0], r3[1], r3[2], r3[3] = alpha*c30, alpha*c31, alpha*c32, alpha*c33
		return
	}
	r0[0], r0[1], r0[2], r0[3] = alpha*c00+beta*r0[0], alpha*c01+beta*r0[1], alpha*c02+beta*r0[2], alpha*c03+beta*r0[3]
	r1[0], r1[1], r1[2], r1[3] = alpha*c10+beta*r1[0], alpha*c11+beta*r1[1], alpha*c12+beta*r1[2], alpha*c13+beta*r1[3]
	r2[0], r2[1], r2[2], r2[3] = alpha*c20+beta*r2[0], alpha*c21+beta*r2[1], alpha*c22+beta*r2[2], alpha*c23+beta*r2[3]
	r3[0], r3[1], r3[2], r3[3] = alpha*c30+beta*r3[0], alpha*c31+beta*r3[1], alpha*c32+beta*r3[2], alpha*c33+beta*r3[3]
}
