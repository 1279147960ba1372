//go:build adjoint_tune && amd64 && gc && !purego

package gemm

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/adjoint-go/adjoint/parallel"
)

// TestTune times products for tuning, with the best of 40 interleaved
// rounds of each variant measured in thread CPU time (or wall time with
// WALL=1), so that other processes on a shared machine distort it less:
//
//	ADJOINT_TUNE=1 SHAPES=1024x1024x1024,512x784x256NT TYPE=f32 KERN=avx512 \
//	VARIANTS='default,kc=256;mc32=768,threads=2' \
//	go test -tags adjoint_tune -run 'TestTune$' -v ./gemm
//
// A variant is a ;-separated list of overrides: kc, kc32, kc64, mc32, mc64,
// nc32, nc64, small, par, noswap, swaptiles (swap by tile count only), nonarrow (full-width kernel on the last
// column panel), directb=N (B read in place up to N rows), nomedge (full-height kernel on the last row panel), nopackasm (Go transposing pack), and threads=N (default 1).
func TestTune(t *testing.T) {
	if os.Getenv("ADJOINT_TUNE") == "" {
		t.Skip()
	}
	shapes := strings.Split(os.Getenv("SHAPES"), ",")
	defer parallel.SetThreads(parallel.Threads())
	if k := os.Getenv("KERN"); k != "" {
		prev := Kernel()
		if err := SetKernel(k); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = SetKernel(prev) }()
	}
	variants := strings.Split(os.Getenv("VARIANTS"), ",")
	for _, sh := range shapes {
		var m, n, k int
		var op string
		fmt.Sscanf(sh, "%dx%dx%d%s", &m, &n, &k, &op)
		tA, tB := NoTrans, NoTrans
		if len(op) == 2 {
			tA, tB = Transpose(op[0]), Transpose(op[1])
		}
		for _, typ := range []string{"f32", "f64"} {
			if os.Getenv("TYPE") != "" && os.Getenv("TYPE") != typ {
				continue
			}
			a32, b32, c32 := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
			a64, b64, c64 := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
			for i := range a32 {
				a32[i], a64[i] = float32(i%7), float64(i%7)
			}
			for i := range b32 {
				b32[i], b64[i] = float32(i%5), float64(i%5)
			}
			lda, ldb := k, n
			if tA == Trans {
				lda = m
			}
			if tB == Trans {
				ldb = k
			}
			best := make([]time.Duration, len(variants))
			reps := max(1, int(3e7/float64(2*m*n*k+1000)))
			if os.Getenv("WALL") == "" {
				// Thread CPU time needs the goroutine on one thread; it
				// also slows every hand-off to the pool, so parallel
				// variants want WALL=1.
				runtime.LockOSThread()
			}
			for round := 0; round < 40; round++ {
				for vi, v := range variants {
					apply(v)
					t0 := now()
					for range reps {
						if typ == "f32" {
							Sgemm(tA, tB, m, n, k, 1, a32, lda, b32, ldb, 0, c32, n)
						} else {
							Dgemm(tA, tB, m, n, k, 1, a64, lda, b64, ldb, 0, c64, n)
						}
					}
					d := (now() - t0) / time.Duration(reps)
					if best[vi] == 0 || d < best[vi] {
						best[vi] = d
					}
				}
			}
			for vi, v := range variants {
				fmt.Printf("%s %s %-20s %10v %8.1f GFLOP/s\n", sh, typ, v, best[vi], 2*float64(m*n*k)/best[vi].Seconds()/1e9)
			}
		}
	}
	apply("default")
}

var saved = map[string]any{}

func apply(v string) {
	if len(saved) == 0 {
		saved["swap"] = swapEdges
		saved["kernels"] = kernels
		saved["blocks"] = blocks
		saved["packasm"] = packAsm
		saved["waitspin"] = waitSpin
	}
	swapEdges = saved["swap"].(bool)
	swapByArea = true
	kernels = saved["kernels"].([numKernels]kernelDesc)
	packAsm = saved["packasm"].(bool)
	packBRows = true
	parallel.SetThreads(1)
	blocks = saved["blocks"].([numKernels][2]blocking)
	waitSpin = saved["waitspin"].(time.Duration)
	for _, kv := range strings.Split(v, ";") {
		var key string
		var val int
		parts := strings.SplitN(kv, "=", 2)
		key = parts[0]
		if len(parts) == 2 {
			val, _ = strconv.Atoi(parts[1])
		}
		kern := current.Load()
		switch key {
		case "bcols":
			packBRows = false
		case "noalias":
			for i := range kernels {
				kernels[i].packAliased = false
			}
		case "alias":
			for i := range kernels {
				kernels[i].packAliased = true
			}
		case "noswap":
			swapEdges = false
		case "swaptiles":
			swapByArea = false

		case "nopackasm":
			packAsm = false
		case "directb":
			kernels[kern].directBRows = [2]int{val, val}
		case "nomedge":
			blocks[kern][0].mrEdge, blocks[kern][1].mrEdge = [2]int{}, [2]int{}
		case "nonarrow":
			blocks[kern][0].nrEdge, blocks[kern][1].nrEdge = [2]int{}, [2]int{}
		case "kc":
			blocks[kern][0].kc, blocks[kern][1].kc = val, val
		case "kc32":
			blocks[kern][0].kc = val
		case "kc64":
			blocks[kern][1].kc = val
		case "mc32":
			blocks[kern][0].mc = val
		case "mc64":
			blocks[kern][1].mc = val
		case "nc32":
			blocks[kern][0].nc = val
		case "nc64":
			blocks[kern][1].nc = val
		case "small":
			kernels[kern].smallMax = val
		case "threads":
			parallel.SetThreads(val)
		case "par":
			kernels[kern].parMinFlops = val
		case "waitspin": // microseconds
			waitSpin = time.Duration(val) * time.Microsecond
		}
	}
}

func cpuNow() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// TestTunePeak measures the AVX-512 FMA peak and the float32 kernel on
// L1-resident panels in thread CPU time, the yardstick for TestTune.
func TestTunePeak(t *testing.T) {
	if os.Getenv("ADJOINT_TUNE") == "" {
		t.Skip()
	}
	runtime.LockOSThread()
	const n = 1 << 16
	best, bestW := time.Duration(1<<62), time.Duration(1<<62)
	for range 50 {
		t0, w0 := cpuNow(), time.Now()
		fmaPeakAVX512PS(n)
		best = min(best, cpuNow()-t0)
		bestW = min(bestW, time.Since(w0))
	}
	fmt.Printf("fma peak f32 avx512: cpu %.1f GFLOP/s, wall %.1f\n", 24*32*n/best.Seconds()/1e9, 24*32*n/bestW.Seconds()/1e9)
	a := make([]float32, 8*256)
	b := make([]float32, 48*256)
	c := make([]float32, 8*48)
	best = 1 << 62
	for range 50 {
		t0 := cpuNow()
		for range 1000 {
			sgemmKernelAVX512(256, &a[0], &b[0], &c[0], 48, 1, 0)
		}
		best = min(best, cpuNow()-t0)
	}
	fmt.Printf("kernel f32 avx512 k=256: cpu %.1f GFLOP/s\n", 1000*2*8*48*256/best.Seconds()/1e9)
}

func now() time.Duration {
	if os.Getenv("WALL") != "" {
		return time.Duration(time.Now().UnixNano())
	}
	return cpuNow()
}
