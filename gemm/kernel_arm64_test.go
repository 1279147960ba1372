//go:build arm64 && gc && !purego

package gemm

import (
	"fmt"
	"testing"
	"time"
)

// The NEON microkernels under test, with their tiles and FMA probes.
var (
	neonS = tileKernel[float32]{mrSNEON, nrSNEON, sgemmKernelNEON, fmaPeakNEONS, 4}
	neonD = tileKernel[float64]{mrDNEON, nrDNEON, dgemmKernelNEON, fmaPeakNEOND, 2}
)

// TestKernelNEON runs each NEON kernel alone against a float64 triple loop
// over the same packed panels, for k either side of the unroll factor (4)
// and the alpha/beta pairs that take distinct paths, with row strides wider
// than the tile.
func TestKernelNEON(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { testTile(t, neonS, 0x1p-24) })
	t.Run("type=f64", func(t *testing.T) { testTile(t, neonD, 0x1p-53) })
}

// TestKernelNEONNaN checks that NaN and Inf in A and B reach exactly the
// entries of C they feed (see testTileNaN).
func TestKernelNEONNaN(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { testTileNaN(t, neonS) })
	t.Run("type=f64", func(t *testing.T) { testTileNaN(t, neonD) })
}

// TestFMAPeakNEON runs the FMA probes (they are otherwise only benchmarked).
func TestFMAPeakNEON(t *testing.T) {
	fmaPeakNEONS(0)
	fmaPeakNEONS(3)
	fmaPeakNEOND(0)
	fmaPeakNEOND(3)
}

// BenchmarkKernelNEON times each NEON kernel alone, panels in L1 (k = 64,
// 256), and reports GFLOP/s and the percentage of the FMA peak measured by
// the matching probe in the same run (best of 40 alternating chunks of about
// 0.2 ms each). Meaningful only on real arm64 hardware, not under qemu.
func BenchmarkKernelNEON(b *testing.B) {
	benchNEON(b, neonS, "f32")
	benchNEON(b, neonD, "f64")
}

func benchNEON[T float32 | float64](b *testing.B, kern tileKernel[T], typ string) {
	peakFlops := float64(2 * 24 * kern.lanes) // per probe iteration
	prefix := "impl=neon/type=" + typ + "/"
	b.Run(prefix+"k=fmapeak", func(b *testing.B) {
		const n = 1 << 16
		run := func() { kern.peak(n) }
		for b.Loop() {
			run()
		}
		reportNEON(b, run, peakFlops*n, kern.peak, peakFlops)
	})
	for _, k := range []int{64, 256} {
		b.Run(prefix+fmt.Sprintf("k=%d", k), func(b *testing.B) {
			pa, pb := make([]T, k*kern.mr), make([]T, k*kern.nr)
			c := make([]T, kern.mr*kern.nr)
			fillTile(pa, 1)
			fillTile(pb, 1)
			run := func() { kern.fn(k, &pa[0], &pb[0], &c[0], kern.nr, 1, 1) }
			for b.Loop() {
				run()
			}
			reportNEON(b, run, float64(2*kern.mr*kern.nr*k), kern.peak, peakFlops)
		})
	}
}

func reportNEON(b *testing.B, run func(), flopsPerRun float64, probe func(int), flopsPerIter float64) {
	b.ReportMetric(flopsPerRun*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	const chunk = 200 * time.Microsecond
	runs := 1
	for t0 := time.Now(); time.Since(t0) < chunk; runs++ {
		run()
	}
	iters := 1 << 10
	for t0 := time.Now(); time.Since(t0) < chunk; iters *= 2 {
		t0 = time.Now()
		probe(iters)
	}
	var bestK, bestP float64
	for range 40 {
		t0 := time.Now()
		for range runs {
			run()
		}
		bestK = max(bestK, flopsPerRun*float64(runs)/time.Since(t0).Seconds()/1e9)
		t0 = time.Now()
		probe(iters)
		bestP = max(bestP, flopsPerIter*float64(iters)/time.Since(t0).Seconds()/1e9)
	}
	b.ReportMetric(bestK, "best-GFLOP/s")
	b.ReportMetric(100*bestK/bestP, "%peak")
}
