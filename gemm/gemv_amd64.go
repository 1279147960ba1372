//go:build amd64 && gc && !purego

package gemm

// The matrix-vector kernels, generated with the microkernels by
// /_asm/gemm/amd64 (gemv.go there) into gemm_amd64.s and declared in
// gemm_amd64_stubs.go. With n >= 1 and m >= 0 they are equivalent to
//
//	func gemvN(m, n int, a []T, lda int, x, y []T, alpha, beta T) {
//		for i := range m {
//			var s T
//			for j := range n {
//				s += a[i*lda+j] * x[j]
//			}
//			if beta == 0 {
//				y[i] = alpha * s // y is not read
//			} else {
//				y[i] = alpha*s + beta*y[i]
//			}
//		}
//	}
//
//	func gemvT(m, n int, a []T, lda int, x, y []T, alpha T) {
//		for i := range m {
//			t := alpha * x[i]
//			for j := range n {
//				y[j] += t * a[i*lda+j]
//			}
//		}
//	}
//
// up to rounding: gemvN sums each row in vector lanes and reduces them in a
// fixed tree; gemvT fuses each multiply-add and adds the rows in an order
// that depends only on m. Both read four rows at a time a quarter of the
// rows apart, so that A streams from memory as four long sequential runs,
// not as four short rows restarted every few KB (twice the bandwidth on
// SmolLM's 49152×576 head, Zen 3). Neither's result for a row
// (gemvN) or a column (gemvT) depends on the others, so the parallel split
// does not change a bit.

const haveGemvAsm = true
