//go:build arm64 && gc && !purego

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// neonKernel is one NEON microkernel under test, with its tile and FMA probe.
type neonKernel[T float32 | float64] struct {
	mr, nr int
	fn     func(k int, a, b, c *T, ldc int, alpha, beta T)
	peak   func(n int)
	lanes  int
}

var (
	neonS = neonKernel[float32]{mrSNEON, nrSNEON, sgemmKernelNEON, fmaPeakNEONS, 4}
	neonD = neonKernel[float64]{mrDNEON, nrDNEON, dgemmKernelNEON, fmaPeakNEOND, 2}
)

// TestKernelNEON runs each NEON kernel alone against a float64 triple loop
// over the same packed panels, for k either side of the unroll factor (4)
// and the alpha/beta pairs that take distinct paths, with row strides wider
// than the tile.
func TestKernelNEON(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { testNEON(t, neonS, 0x1p-24) })
	t.Run("type=f64", func(t *testing.T) { testNEON(t, neonD, 0x1p-53) })
}

func testNEON[T float32 | float64](t *testing.T, kern neonKernel[T], u float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 31, 256, 257} {
		for _, alpha := range []T{0, 1, -1, 0.5} {
			for _, beta := range []T{0, 1, -1, 0.5} {
				for _, pad := range []int{0, 3} {
					if err := checkNEON(kern, u, k, alpha, beta, pad, rng); err != nil {
						t.Fatalf("k=%d/alpha=%v/beta=%v/pad=%d: %v", k, alpha, beta, pad, err)
					}
				}
			}
		}
	}
}

// checkNEON runs kern once on random panels and compares with the exact
// product within the standard error bound of a k-term dot product plus the
// alpha/beta update, (k+3)·u·(|alpha|·Σ|a·b| + |beta·c|). The tile sits in
// a NaN frame (a guard row above and below, two guard columns left, pad
// right: ldc = nr+2+pad) that must stay untouched; with beta == 0 the tile
// itself starts as NaN and must be overwritten, never read. a and b must be
// unchanged.
func checkNEON[T float32 | float64](kern neonKernel[T], u float64, k int, alpha, beta T, pad int, rng *rand.Rand) error {
	mr, nr := kern.mr, kern.nr
	a := make([]T, k*mr)
	b := make([]T, k*nr)
	for i := range a {
		a[i] = T(rng.Float64()*2 - 1)
	}
	for i := range b {
		b[i] = T(rng.Float64()*2 - 1)
	}
	a0, b0 := append([]T(nil), a...), append([]T(nil), b...)
	ldc := nr + 2 + pad
	buf := make([]T, (mr+2)*ldc)
	for i := range buf {
		buf[i] = T(math.NaN())
	}
	off := ldc + 2
	c0 := make([]T, mr*nr)
	if beta != 0 {
		for i := range mr {
			for j := range nr {
				c0[i*nr+j] = T(rng.Float64()*2 - 1)
				buf[off+i*ldc+j] = c0[i*nr+j]
			}
		}
	}
	kern.fn(k, &a[0], &b[0], &buf[off], ldc, alpha, beta)
	for i := range mr {
		for j := range nr {
			var s, mag float64
			for p := range k {
				x, y := float64(a[p*mr+i]), float64(b[p*nr+j])
				s += x * y
				mag += math.Abs(x * y)
			}
			want := float64(alpha) * s
			bound := math.Abs(float64(alpha)) * mag
			if beta != 0 {
				want += float64(beta) * float64(c0[i*nr+j])
				bound += math.Abs(float64(beta) * float64(c0[i*nr+j]))
			}
			bound *= float64(k+3) * u
			if got := float64(buf[off+i*ldc+j]); !(math.Abs(got-want) <= bound) {
				return fmt.Errorf("C(%d,%d) = %v, want %v (error bound %g)", i, j, got, want, bound)
			}
		}
	}
	for x, v := range buf {
		r, col := x/ldc, x%ldc-2
		inTile := r >= 1 && r <= mr && col >= 0 && col < nr
		if !inTile && v == v {
			return fmt.Errorf("wrote %v outside the tile at row %d, column %d (ldc %d)", v, r-1, col, ldc)
		}
	}
	for i := range a {
		if a[i] != a0[i] {
			return fmt.Errorf("a[%d] changed", i)
		}
	}
	for i := range b {
		if b[i] != b0[i] {
			return fmt.Errorf("b[%d] changed", i)
		}
	}
	return nil
}

// TestKernelNEONNaN checks that a NaN in A and an Inf in B reach exactly the
// entries of C they feed: a NaN in row ri of A makes row ri NaN, an Inf in
// column cj of B makes column cj Inf elsewhere, every other entry is k. The
// Inf sits at p = 8, in the single-step tail after two unrolled iterations.
func TestKernelNEONNaN(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { testNEONNaN(t, neonS) })
	t.Run("type=f64", func(t *testing.T) { testNEONNaN(t, neonD) })
}

func testNEONNaN[T float32 | float64](t *testing.T, kern neonKernel[T]) {
	mr, nr, k := kern.mr, kern.nr, 9
	for _, ri := range []int{0, mr - 1} {
		for _, cj := range []int{0, 5, nr - 1} {
			a := make([]T, k*mr)
			b := make([]T, k*nr)
			fill(a, 1)
			fill(b, 1)
			a[6*mr+ri] = T(math.NaN())
			b[8*nr+cj] = T(math.Inf(1))
			c := make([]T, mr*nr)
			kern.fn(k, &a[0], &b[0], &c[0], nr, 1, 0)
			for i := range mr {
				for j := range nr {
					v := float64(c[i*nr+j])
					switch {
					case i == ri && !math.IsNaN(v):
						t.Fatalf("ri=%d cj=%d: C(%d,%d) = %v, want NaN", ri, cj, i, j, v)
					case i != ri && j == cj && !math.IsInf(v, 1):
						t.Fatalf("ri=%d cj=%d: C(%d,%d) = %v, want +Inf", ri, cj, i, j, v)
					case i != ri && j != cj && v != float64(k):
						t.Fatalf("ri=%d cj=%d: C(%d,%d) = %v, want %d", ri, cj, i, j, v, k)
					}
				}
			}
		}
	}
}

// TestFMAPeakNEON runs the FMA probes (they are otherwise only benchmarked).
func TestFMAPeakNEON(t *testing.T) {
	fmaPeakNEONS(0)
	fmaPeakNEONS(3)
	fmaPeakNEOND(0)
	fmaPeakNEOND(3)
}

func fill[T float32 | float64](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}

// BenchmarkKernelNEON times each NEON kernel alone, panels in L1 (k = 64,
// 256), and reports GFLOP/s and the percentage of the FMA peak measured by
// the matching probe in the same run (best of 40 alternating chunks of about
// 0.2 ms each). Meaningful only on real arm64 hardware, not under qemu.
func BenchmarkKernelNEON(b *testing.B) {
	benchNEON(b, neonS, "f32")
	benchNEON(b, neonD, "f64")
}

func benchNEON[T float32 | float64](b *testing.B, kern neonKernel[T], typ string) {
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
			fill(pa, 1)
			fill(pb, 1)
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
