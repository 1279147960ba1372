//go:build amd64 && gc && !purego

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// asmKernel is one assembly microkernel under test, with the tile it computes.
type asmKernel[T float32 | float64] struct {
	impl   string
	ok     bool
	mr, nr int
	fn     func(k int, a, b, c *T, ldc int, alpha, beta T)
	peak   func(n int) // FMA probe of the same width and type
	chains int         // FMAs per peak iteration
}

func asmKernelsS() []asmKernel[float32] {
	return []asmKernel[float32]{
		{"avx512", hasAVX512, mrS512, nrS512, sgemmKernelAVX512, fmaPeakAVX512PS, 24},
		{"avx512Bld", hasAVX512, 8, 48, inPlaceB(48, sgemmKernelAVX512Bld), fmaPeakAVX512PS, 24},
		{"avx512Bldm4", hasAVX512, 4, 48, inPlaceB(48, sgemmKernelAVX512Bldm4), fmaPeakAVX512PS, 24},
		{"avx512Bldm2", hasAVX512, 2, 48, inPlaceB(48, sgemmKernelAVX512Bldm2), fmaPeakAVX512PS, 24},
		{"avx512Ind", hasAVX512, 8, 48, indirectB(48, sgemmKernelAVX512Ind), fmaPeakAVX512PS, 24},
		{"avx512Indm4", hasAVX512, 4, 48, indirectB(48, sgemmKernelAVX512Indm4), fmaPeakAVX512PS, 24},
		{"avx512Indm2", hasAVX512, 2, 48, indirectB(48, sgemmKernelAVX512Indm2), fmaPeakAVX512PS, 24},
		{"avx512x32", hasAVX512, mrS512, 32, sgemmKernelAVX512x32, fmaPeakAVX512PS, 24},
		{"avx512x16", hasAVX512, mrS512, 16, sgemmKernelAVX512x16, fmaPeakAVX512PS, 24},
		{"avx512m4x48", hasAVX512, 4, 48, sgemmKernelAVX512m4x48, fmaPeakAVX512PS, 24},
		{"avx512m4x32", hasAVX512, 4, 32, sgemmKernelAVX512m4x32, fmaPeakAVX512PS, 24},
		{"avx512m4x16", hasAVX512, 4, 16, sgemmKernelAVX512m4x16, fmaPeakAVX512PS, 24},
		{"avx512m2x48", hasAVX512, 2, 48, sgemmKernelAVX512m2x48, fmaPeakAVX512PS, 24},
		{"avx512m2x32", hasAVX512, 2, 32, sgemmKernelAVX512m2x32, fmaPeakAVX512PS, 24},
		{"avx512m2x16", hasAVX512, 2, 16, sgemmKernelAVX512m2x16, fmaPeakAVX512PS, 24},
		{"avx2", hasAVX2FMA, mrS256, nrS256, sgemmKernelAVX2, fmaPeakAVX2PS, 12},
		{"avx2Bld", hasAVX2FMA, mrS256, nrS256, inPlaceB(nrS256, sgemmKernelAVX2Bld), fmaPeakAVX2PS, 12},
	}
}

func asmKernelsD() []asmKernel[float64] {
	return []asmKernel[float64]{
		{"avx512", hasAVX512, mrD512, nrD512, dgemmKernelAVX512, fmaPeakAVX512PD, 24},
		{"avx512Bld", hasAVX512, 8, 24, inPlaceB(24, dgemmKernelAVX512Bld), fmaPeakAVX512PD, 24},
		{"avx512Bldm4", hasAVX512, 4, 24, inPlaceB(24, dgemmKernelAVX512Bldm4), fmaPeakAVX512PD, 24},
		{"avx512Bldm2", hasAVX512, 2, 24, inPlaceB(24, dgemmKernelAVX512Bldm2), fmaPeakAVX512PD, 24},
		{"avx512Ind", hasAVX512, 8, 24, indirectB(24, dgemmKernelAVX512Ind), fmaPeakAVX512PD, 24},
		{"avx512Indm4", hasAVX512, 4, 24, indirectB(24, dgemmKernelAVX512Indm4), fmaPeakAVX512PD, 24},
		{"avx512Indm2", hasAVX512, 2, 24, indirectB(24, dgemmKernelAVX512Indm2), fmaPeakAVX512PD, 24},
		{"avx512x16", hasAVX512, mrD512, 16, dgemmKernelAVX512x16, fmaPeakAVX512PD, 24},
		{"avx512x8", hasAVX512, mrD512, 8, dgemmKernelAVX512x8, fmaPeakAVX512PD, 24},
		{"avx512m4x24", hasAVX512, 4, 24, dgemmKernelAVX512m4x24, fmaPeakAVX512PD, 24},
		{"avx512m4x16", hasAVX512, 4, 16, dgemmKernelAVX512m4x16, fmaPeakAVX512PD, 24},
		{"avx512m4x8", hasAVX512, 4, 8, dgemmKernelAVX512m4x8, fmaPeakAVX512PD, 24},
		{"avx512m2x24", hasAVX512, 2, 24, dgemmKernelAVX512m2x24, fmaPeakAVX512PD, 24},
		{"avx512m2x16", hasAVX512, 2, 16, dgemmKernelAVX512m2x16, fmaPeakAVX512PD, 24},
		{"avx512m2x8", hasAVX512, 2, 8, dgemmKernelAVX512m2x8, fmaPeakAVX512PD, 24},
		{"avx2", hasAVX2FMA, mrD256, nrD256, dgemmKernelAVX2, fmaPeakAVX2PD, 12},
		{"avx2Bld", hasAVX2FMA, mrD256, nrD256, inPlaceB(nrD256, dgemmKernelAVX2Bld), fmaPeakAVX2PD, 12},
	}
}

// inPlaceB adapts a kernel that reads B rows ldb apart to the packed-panel
// signature, for the tests: the k×nr panel is copied into rows nr+5 apart
// with NaN in the gaps, which would reach C if the kernel read outside its
// columns.
func inPlaceB[T float32 | float64](nr int, fn func(k int, a, b, c *T, ldb, ldc int, alpha, beta T)) func(k int, a, b, c *T, ldc int, alpha, beta T) {
	return func(k int, a, b, c *T, ldc int, alpha, beta T) {
		ldb := nr + 5
		src := unsafe.Slice(b, k*nr)
		rows := make([]T, (k-1)*ldb+nr) // ends at the last element read
		for i := range rows {
			rows[i] = T(math.NaN())
		}
		for p := range k {
			copy(rows[p*ldb:p*ldb+nr], src[p*nr:(p+1)*nr])
		}
		fn(k, a, &rows[0], c, ldb, ldc, alpha, beta)
	}
}

// indirectB adapts a kernel that reads B rows through an offset table to
// the packed-panel signature, for the tests: the rows are stored in reverse
// order, unevenly spaced (row p at (k−1−p)·(nr+3) + p%3), with NaN in the
// gaps, which would reach C if the kernel read a wrong row or outside its
// columns.
func indirectB[T float32 | float64](nr int, fn func(k int, a, b *T, off *int, c *T, ldc int, alpha, beta T)) func(k int, a, b, c *T, ldc int, alpha, beta T) {
	return func(k int, a, b, c *T, ldc int, alpha, beta T) {
		src := unsafe.Slice(b, k*nr)
		off := make([]int, k+1) // one past k: the kernel must not need it
		rows := make([]T, k*(nr+3)+nr)
		for i := range rows {
			rows[i] = T(math.NaN())
		}
		for p := range k {
			off[p] = (k-1-p)*(nr+3) + p%3
			copy(rows[off[p]:off[p]+nr], src[p*nr:(p+1)*nr])
		}
		off[k] = -1 << 40
		fn(k, a, &rows[0], &off[0], c, ldc, alpha, beta)
	}
}

func TestKernelAsm(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) {
		for _, kern := range asmKernelsS() {
			t.Run("impl="+kern.impl, func(t *testing.T) { testAsmKernel(t, kern, 0x1p-24) })
		}
	})
	t.Run("type=f64", func(t *testing.T) {
		for _, kern := range asmKernelsD() {
			t.Run("impl="+kern.impl, func(t *testing.T) { testAsmKernel(t, kern, 0x1p-53) })
		}
	})
}

// testAsmKernel runs checkAsmKernel over the k values either side of the
// unroll factor (4) and the alpha/beta pairs that take distinct paths.
func testAsmKernel[T float32 | float64](t *testing.T, kern asmKernel[T], u float64) {
	if !kern.ok {
		t.Skipf("CPU lacks %s (AVX-512F %v, AVX2+FMA %v)", kern.impl, hasAVX512, hasAVX2FMA)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 31, 256, 257} {
		for _, alpha := range []T{0, 1, -1, 0.5} {
			for _, beta := range []T{0, 1, -1, 0.5} {
				if err := checkAsmKernel(kern, u, k, alpha, beta, 3, rng); err != nil {
					t.Fatalf("k=%d/alpha=%v/beta=%v: %v", k, alpha, beta, err)
				}
			}
		}
	}
}

// checkAsmKernel runs kern once on random panels and checks it against a
// float64 triple loop over the same packed panels. The tolerance is the
// standard bound for a k-term dot product plus the final alpha/beta update,
// (k+3)·u·(|alpha|·Σ|a·b| + |beta·c|) with u the unit roundoff; any indexing
// error is far above it. The tile sits inside a NaN frame (one guard row
// above and below, two guard columns left, pad right, so ldc = nr+2+pad)
// that must stay untouched; with beta == 0 the tile itself starts as NaN and
// must be overwritten. a and b must be unchanged.
func checkAsmKernel[T float32 | float64](kern asmKernel[T], u float64, k int, alpha, beta T, pad int, rng *rand.Rand) error {
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
			got := float64(buf[off+i*ldc+j])
			if !(math.Abs(got-want) <= bound) {
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

// FuzzKernelAsm drives every assembly kernel this CPU runs with fuzzed k,
// alpha, beta and row stride, against the float64 reference.
func FuzzKernelAsm(f *testing.F) {
	f.Add(uint16(1), 1.0, 0.0, uint8(0), uint64(1))
	f.Add(uint16(257), -1.0, 0.5, uint8(7), uint64(2))
	f.Add(uint16(6), 0.0, -0.0, uint8(64), uint64(3))
	f.Fuzz(func(t *testing.T, k16 uint16, alpha, beta float64, pad uint8, seed uint64) {
		k := 1 + int(k16)%600
		if math.IsNaN(alpha) || math.IsInf(alpha, 0) || math.IsNaN(beta) || math.IsInf(beta, 0) ||
			math.Abs(alpha) > 1e6 || math.Abs(beta) > 1e6 {
			t.Skip("alpha, beta must be finite and moderate for the error bound")
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		for _, kern := range asmKernelsS() {
			if kern.ok {
				if err := checkAsmKernel(kern, 0x1p-24, k, float32(alpha), float32(beta), int(pad), rng); err != nil {
					t.Fatalf("f32 %s k=%d alpha=%v beta=%v pad=%d: %v", kern.impl, k, alpha, beta, pad, err)
				}
			}
		}
		for _, kern := range asmKernelsD() {
			if kern.ok {
				if err := checkAsmKernel(kern, 0x1p-53, k, alpha, beta, int(pad), rng); err != nil {
					t.Fatalf("f64 %s k=%d alpha=%v beta=%v pad=%d: %v", kern.impl, k, alpha, beta, pad, err)
				}
			}
		}
	})
}

// TestKernelAsmNaN checks that a NaN or Inf in A or B reaches exactly the
// entries of C it feeds (an FMA kernel must not lose or smear them).
func TestKernelAsmNaN(t *testing.T) {
	for _, kern := range asmKernelsS() {
		t.Run("type=f32/impl="+kern.impl, func(t *testing.T) { testAsmKernelNaN(t, kern) })
	}
	for _, kern := range asmKernelsD() {
		t.Run("type=f64/impl="+kern.impl, func(t *testing.T) { testAsmKernelNaN(t, kern) })
	}
}

func testAsmKernelNaN[T float32 | float64](t *testing.T, kern asmKernel[T]) {
	if !kern.ok {
		t.Skipf("CPU lacks %s", kern.impl)
	}
	mr, nr, k := kern.mr, kern.nr, 9
	a := make([]T, k*mr)
	b := make([]T, k*nr)
	for i := range a {
		a[i] = 1
	}
	for i := range b {
		b[i] = 1
	}
	ri, cj := min(2, mr-1), 5   // NaN in row ri of A, +Inf in column cj of B
	a[6*mr+ri] = T(math.NaN())  // p = 6
	b[8*nr+cj] = T(math.Inf(1)) // p = 8, the remainder-loop step
	c := make([]T, mr*nr)
	kern.fn(k, &a[0], &b[0], &c[0], nr, 1, 0)
	for i := range mr {
		for j := range nr {
			v := float64(c[i*nr+j])
			switch {
			case i == ri && !math.IsNaN(v):
				t.Fatalf("C(%d,%d) = %v, want NaN", i, j, v)
			case i != ri && j == cj && !math.IsInf(v, 1):
				t.Fatalf("C(%d,%d) = %v, want +Inf", i, j, v)
			case i != ri && j != cj && v != float64(k):
				t.Fatalf("C(%d,%d) = %v, want %d", i, j, v, k)
			}
		}
	}
}

// alignedSlice returns n zeroed elements starting on a 64-byte boundary, as
// the packing code provides.
func alignedSlice[T float32 | float64](n int) []T {
	var z T
	es := int(unsafe.Sizeof(z))
	buf := make([]T, n+64/es)
	skip := (64 - int(uintptr(unsafe.Pointer(&buf[0]))%64)) % 64 / es
	return buf[skip : skip+n]
}

// BenchmarkKernel times each microkernel alone on panels that stay in L1/L2
// (k = 256: 8 KiB of A, 48 KiB of B for the f32 AVX-512 tile) and reports
// GFLOP/s and the percentage of the FMA peak measured by the matching
// fmaPeak probe in the same run. The k=fmapeak entries report the probe
// itself. Target: >= 90% of peak.
func BenchmarkKernel(b *testing.B) {
	for _, kern := range asmKernelsS() {
		benchAsmKernel(b, kern, "f32")
	}
	for _, kern := range asmKernelsD() {
		benchAsmKernel(b, kern, "f64")
	}
}

func benchAsmKernel[T float32 | float64](b *testing.B, kern asmKernel[T], typ string) {
	var z T
	lanes := 64 / int(unsafe.Sizeof(z)) // zmm lanes
	// The avx512 variants (narrow ones included) all use zmm.
	if strings.HasPrefix(kern.impl, "avx2") {
		lanes /= 2
	}
	if strings.Contains(kern.impl, "Bld") || strings.Contains(kern.impl, "Ind") {
		return // the test adapter copies B on every call
	}
	prefix := fmt.Sprintf("impl=%s/type=%s/", kern.impl, typ)
	peakFlops := float64(2 * kern.chains * lanes) // per probe iteration
	b.Run(prefix+"k=fmapeak", func(b *testing.B) {
		if !kern.ok {
			b.Skipf("CPU lacks %s", kern.impl)
		}
		const n = 1 << 16
		run := func() { kern.peak(n) }
		for b.Loop() {
			run()
		}
		reportKernel(b, run, peakFlops*n, kern.peak, peakFlops) // %peak ≈ 100: a check of the method
	})
	for _, k := range []int{64, 256} {
		b.Run(prefix+fmt.Sprintf("k=%d/panels=l1", k), func(b *testing.B) {
			if !kern.ok {
				b.Skipf("CPU lacks %s", kern.impl)
			}
			pa, pb := alignedSlice[T](k*kern.mr), alignedSlice[T](k*kern.nr)
			c := alignedSlice[T](kern.mr * kern.nr)
			fill(pa, 1)
			fill(pb, 1)
			run := func() { kern.fn(k, &pa[0], &pb[0], &c[0], kern.nr, 1, 1) }
			for b.Loop() {
				run()
			}
			reportKernel(b, run, float64(2*kern.mr*kern.nr*k), kern.peak, peakFlops)
		})
	}
	// The macro-kernel's access pattern: for each B micro-panel (reused from
	// L1/L2), sweep 24 A micro-panels streamed from L2, updating a
	// 24·MR × 4·NR block of C that is either compact (ldc = 4·NR) or part of
	// a 1024-column matrix (ldc = 1024: rows 4 or 8 KiB apart, the
	// cache-set aliasing a real GEMM of that size sees). This is where
	// prefetching and the C loads and stores show.
	const nA, nB = 24, 4
	for _, k := range []int{128, 256} {
		for _, ldc := range []int{nB * kern.nr, 1024} {
			b.Run(prefix+fmt.Sprintf("k=%d/panels=l2/ldc=%d", k, ldc), func(b *testing.B) {
				if !kern.ok {
					b.Skipf("CPU lacks %s", kern.impl)
				}
				mr, nr := kern.mr, kern.nr
				pa, pb := alignedSlice[T](nA*k*mr), alignedSlice[T](nB*k*nr)
				c := alignedSlice[T](nA * mr * ldc)
				fill(pa, 1)
				fill(pb, 1)
				run := func() {
					for jr := range nB {
						for ir := range nA {
							kern.fn(k, &pa[ir*k*mr], &pb[jr*k*nr], &c[ir*mr*ldc+jr*nr], ldc, 1, 1)
						}
					}
				}
				for b.Loop() {
					run()
				}
				reportKernel(b, run, float64(2*nA*mr*nB*nr*k), kern.peak, peakFlops)
			})
		}
	}
}

func fill[T float32 | float64](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}

// reportKernel reports the benchmark's mean GFLOP/s, then measures the
// kernel and the FMA probe again in alternating chunks of about 0.2 ms and
// reports the best chunk of each (best-GFLOP/s) and their ratio (%peak). On
// a machine shared with other work the mean drops whenever the thread is
// descheduled; the best uninterrupted chunks, sampled over the same moments
// for both, still compare the kernel with the peak fairly.
func reportKernel(b *testing.B, run func(), flopsPerRun float64, probe func(int), flopsPerIter float64) {
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
