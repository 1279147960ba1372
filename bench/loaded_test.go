package bench

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/parallel"
)

// EnvHog, set in the environment of this test binary, makes it spin on one
// core for that many seconds (or until killed) instead of running tests:
// the competing process of BenchmarkLoaded.
const envHog = "ADJOINT_BENCH_HOG"

func TestMain(m *testing.M) {
	if s := os.Getenv(envHog); s != "" {
		var secs int
		fmt.Sscan(s, &secs)
		end := time.Now().Add(time.Duration(secs) * time.Second)
		for x := 0; time.Now().Before(end); x++ {
			for range 1 << 20 {
				x = x*1664525 + 1013904223
			}
			if x == 42 {
				println()
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startHog starts a copy of this binary that keeps one core busy until the
// benchmark ends (at most 10 minutes), and skips the benchmark if it
// cannot.
func startHog(b *testing.B) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHog+"=600")
	if err := cmd.Start(); err != nil {
		b.Skipf("cannot start the competing process: %v", err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	time.Sleep(20 * time.Millisecond) // let it reach its loop
}

// BenchmarkLoaded times work at one and two threads while another process
// keeps one core busy: a machine shared with a build or another job, where
// the OS thread of a goroutine that has claimed part of a product can lose
// its CPU for milliseconds. Two threads must not be slower than one there;
// with one competing process on two cores they can at best share 4/3 of a
// core. It reports ms/op for
//
//   - gemm: Sgemm 256×512×512 (the MLP's second layer);
//   - mlpstep: BenchmarkMLPStep's training step.
//
// Each sub-benchmark starts its own competing process, so the thread
// counts see the same load; compare them within one run, and repeat it
// (-count), since the OS's placement of the three threads varies.
func BenchmarkLoaded(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("gemm=256x512x512/threads=%d", threads), func(b *testing.B) {
			prev := parallel.SetThreads(threads)
			defer parallel.SetThreads(prev)
			const m, n, k = 256, 512, 512
			x, y, z := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
			for i := range x {
				x[i] = float32(i%7) - 3
			}
			for i := range y {
				y[i] = float32(i%5) - 2
			}
			startHog(b)
			gemm.Sgemm(gemm.NoTrans, gemm.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
			for b.Loop() {
				gemm.Sgemm(gemm.NoTrans, gemm.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
		})
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("mlpstep/threads=%d", threads), func(b *testing.B) {
			prev := parallel.SetThreads(threads)
			defer parallel.SetThreads(prev)
			mb := newMLPBench(1)
			mb.step()
			startHog(b)
			mb.step()
			for b.Loop() {
				mb.step()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
		})
	}
}
