package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkPack measures the packing routines on a 1024×1024 operand, one
// KC-deep block at a time, in elements per nanosecond.
func BenchmarkPack(b *testing.B) {
	for _, tc := range []struct {
		name   string
		mr, kc int
	}{{"f32avx512", 8, 128}, {"f32avx2", 6, 128}, {"f32generic", 4, 128}, {"f32avx512nr", 48, 128}} {
		const n = 1024
		src := make([]float32, n*n)
		dst := make([]float32, (n+64)*tc.kc)
		for _, tr := range []Transpose{NoTrans, Trans} {
			b.Run(fmt.Sprintf("op=A%c/w=%d/kc=%d", tr, tc.mr, tc.kc), func(b *testing.B) {
				for b.Loop() {
					packA(dst, tr, src, n, 0, 0, n, tc.kc, tc.mr, tc.mr)
				}
				b.ReportMetric(float64(n*tc.kc)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
			})
			b.Run(fmt.Sprintf("op=B%c/w=%d/kc=%d", tr, tc.mr, tc.kc), func(b *testing.B) {
				q := ceilDiv(n, tc.mr)
				for b.Loop() {
					packB(dst, tr, src, n, 0, 0, n, tc.kc, tc.mr, tc.mr, 0, q)
				}
				b.ReportMetric(float64(n*tc.kc)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
			})
		}
	}
}
