package gemm

// smallMax is the small-matrix cut-off: when m·n·k <= smallMax³ the product
// is computed directly from the caller's strided operands, since packing and
// padding to the kernel's tile would cost more than the arithmetic.
const smallMax = 16

func isSmall(m, n, k int) bool { return m*n*k <= smallMax*smallMax*smallMax }

// gemmSmall computes C = alpha·op(A)·op(B) + beta·C with one dot product per
// element, read straight from A and B (alpha != 0, k >= 1).
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
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			var s T
			ia, ib := i*ai, j*bj
			for range k {
				s += a[ia] * b[ib]
				ia += ap
				ib += bp
			}
			if beta == 0 {
				row[j] = alpha * s
			} else {
				row[j] = alpha*s + beta*row[j]
			}
		}
	}
}
