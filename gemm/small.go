package gemm

import "unsafe"

// isSmall reports whether kernel kern's call of m·n·k is at most the
// family's small-matrix cut-off (kernelDesc.smallMax³): then it is computed
// directly from the caller's strided operands, with no packing and no
// pools, whose fixed cost (pools, packing and padding to a whole tile)
// would exceed the arithmetic.
func isSmall(kern, m, n, k int) bool {
	sm := kernels[kern].smallMax
	// In float64: m·n·k can overflow a 32-bit int.
	return float64(m)*float64(n)*float64(k) <= float64(sm*sm*sm)
}

// gemmSmall computes C = alpha·op(A)·op(B) + beta·C straight from A and B
// (alpha != 0, k >= 1): 2×2 blocks of C accumulate in registers (as in the
// generic kernel, the largest block Go keeps out of memory), edges one
// element at a time. Every element is one dot product summed in p order.
func gemmSmall[T float32 | float64](tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	// Strides of op(A) along i and p, and of op(B) along p and j.
	ai, ap := lda, 1
	if tA == Trans {
		ai, ap = 1, lda
	}
	bp, bj := ldb, 1
	if tB == Trans {
		bp, bj = 1, ldb
	}
	var z T
	sz := unsafe.Sizeof(z)
	i := 0
	for ; i+2 <= m; i += 2 {
		j := 0
		for ; j+2 <= n; j += 2 {
			var s00, s01, s10, s11 T
			// Every index below was validated by check (op(A) rows i, i+1
			// and op(B) columns j, j+1 exist for all p < k), so the loop
			// reads through pointers instead of paying four bounds checks a
			// step; offsets, not moving pointers, since a pointer stepped
			// past the last element would point outside the allocation.
			pa := unsafe.Pointer(&a[i*ai])
			pb := unsafe.Pointer(&b[j*bj])
			oa, ob := uintptr(ai)*sz, uintptr(bj)*sz
			sa, sb := uintptr(ap)*sz, uintptr(bp)*sz
			var xa, xb uintptr
			for range k {
				qa, qb := unsafe.Add(pa, xa), unsafe.Add(pb, xb)
				a0, a1 := *(*T)(qa), *(*T)(unsafe.Add(qa, oa))
				b0, b1 := *(*T)(qb), *(*T)(unsafe.Add(qb, ob))
				s00 += a0 * b0
				s01 += a0 * b1
				s10 += a1 * b0
				s11 += a1 * b1
				xa += sa
				xb += sb
			}
			r0 := c[i*ldc+j : i*ldc+j+2 : i*ldc+j+2]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+2 : (i+1)*ldc+j+2]
			if beta == 0 {
				r0[0], r0[1] = alpha*s00, alpha*s01
				r1[0], r1[1] = alpha*s10, alpha*s11
			} else {
				r0[0], r0[1] = alpha*s00+beta*r0[0], alpha*s01+beta*r0[1]
				r1[0], r1[1] = alpha*s10+beta*r1[0], alpha*s11+beta*r1[1]
			}
		}
		smallDots(i, i+2, j, n, ai, ap, bp, bj, k, alpha, a, b, beta, c, ldc)
	}
	smallDots(i, m, 0, n, ai, ap, bp, bj, k, alpha, a, b, beta, c, ldc)
}

// smallDots computes C[i0:i1, j0:j1] one dot product at a time.
func smallDots[T float32 | float64](i0, i1, j0, j1, ai, ap, bp, bj, k int, alpha T, a, b []T, beta T, c []T, ldc int) {
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			var s T
			ia, ib := i*ai, j*bj
			for range k {
				s += a[ia] * b[ib]
				ia += ap
				ib += bp
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}
