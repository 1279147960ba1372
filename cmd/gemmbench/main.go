// Command gemmbench compares GEMM implementations on this machine and
// prints a table of GFLOP/s with the percentage of this CPU's FMA peak, and
// writes a plot of GFLOP/s against matrix size.
//
// Implementations: naive loops (sizes up to 256), adjoint's kernels
// (generic, avx2, avx512: those this CPU can run), gonum's pure-Go BLAS, and
// OpenBLAS when built with -tags openblas (cgo, Debian libopenblas-dev).
//
//	go run ./cmd/gemmbench                      # full run, about 2 minutes
//	go run ./cmd/gemmbench -quick               # seconds
//	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE go run -tags openblas ./cmd/gemmbench -plot docs/gemm.png
//
// The FMA peak is measured in the same run by an assembly loop of
// independent vector FMAs (generated with avo by /_asm/gemmbench/amd64), on as many threads
// as the row uses; the best of several timings is kept.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/adjoint-go/adjoint/bench"
	"github.com/adjoint-go/adjoint/gemm"
)

func main() {
	var (
		sizes    = flag.String("sizes", "64,128,256,512,1024,2048", "square NN sizes, comma separated")
		threads  = flag.String("threads", "1,2", "thread counts, comma separated")
		quick    = flag.Bool("quick", false, "short timings, sizes up to 1024, one thread, no extra shapes")
		extra    = flag.Bool("extra", true, "also NT/TN at 1024 and the MLP shapes")
		plotFile = flag.String("plot", "gemm.png", "write a PNG plot of GFLOP/s against size here (empty: no plot)")
		tableMD  = flag.String("md", "", "also write the report (header and table, markdown) to this file")
		maxCall  = flag.Duration("maxcall", 1500*time.Millisecond, "skip a product whose single call would take longer than this, predicted from the same implementation's speed at the previous shape")
		implsArg = flag.String("impls", "", "only these implementations, comma separated (default all)")
		minTime  = flag.Duration("mintime", 100*time.Millisecond, "time spent per measurement")
		isolate  = flag.Bool("isolate", true, "time OpenBLAS on 2+ threads in a child process (its idle threads spin after each call and would slow whatever runs next in the same process)")
		emit     = flag.Bool("emit", false, "internal: only time, and print raw results for a parent gemmbench")
	)
	flag.Parse()
	cfg := config{minTime: *minTime, batches: 8, maxCall: *maxCall, extra: *extra, isolate: *isolate && !*emit}
	var err error
	if cfg.sizes, err = ints(*sizes); err != nil {
		fatalf("-sizes: %v", err)
	}
	if cfg.threads, err = ints(*threads); err != nil {
		fatalf("-threads: %v", err)
	}
	if *quick {
		setBy := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { setBy[f.Name] = true })
		if !setBy["sizes"] {
			cfg.sizes = slices.DeleteFunc(cfg.sizes, func(n int) bool { return n > 1024 })
		}
		if !setBy["threads"] {
			cfg.threads = []int{1}
		}
		if !setBy["extra"] {
			cfg.extra = false
		}
		if !setBy["mintime"] {
			cfg.minTime = 30 * time.Millisecond
		}
		cfg.batches = 4
	}
	for _, im := range bench.Impls() {
		if *implsArg == "" || slices.Contains(strings.Split(*implsArg, ","), im.Name) {
			cfg.impls = append(cfg.impls, im)
		}
	}

	if *emit {
		emitResults(os.Stdout, cfg, run(cfg))
		return
	}

	start := time.Now()
	loadBefore := loadAvg()
	// The peak is the best of many short timings, before and after the
	// GEMMs: on a shared machine a short window is likelier to run
	// undisturbed, and other work can only slow a timing down.
	pk := measurePeaks(cfg.threads, 40, 2*time.Millisecond)
	res := run(cfg)
	pk.merge(measurePeaks(cfg.threads, 40, 2*time.Millisecond))

	var out io.Writer = os.Stdout
	var md *os.File
	if *tableMD != "" {
		if md, err = os.Create(*tableMD); err != nil {
			fatalf("%v", err)
		}
		out = io.MultiWriter(os.Stdout, md)
	}
	report(out, cfg, pk, res, time.Since(start), loadBefore, loadAvg())
	if md != nil {
		if err := md.Close(); err != nil {
			fatalf("%v", err)
		}
	}
	if *plotFile != "" {
		if err := writePlot(*plotFile, cfg, pk, res); err != nil {
			fatalf("plot: %v", err)
		}
		fmt.Fprintf(os.Stderr, "gemmbench: wrote %s\n", *plotFile)
	}
}

type config struct {
	sizes, threads []int
	impls          []bench.Impl
	minTime        time.Duration
	batches        int
	maxCall        time.Duration
	extra          bool
	isolate        bool // time spinning implementations on 2+ threads in a child process
}

func (c config) shapes() []bench.Shape {
	var ss []bench.Shape
	for _, n := range c.sizes {
		ss = append(ss, bench.Square(n))
	}
	if c.extra {
		for _, s := range bench.Shapes() {
			if s.Note != "" {
				ss = append(ss, s)
			}
		}
	}
	return ss
}

// result is one measurement; key fields identify the table cell.
type result struct {
	double  bool
	shape   bench.Shape
	impl    string
	threads int
	gflops  float64
}

func run(cfg config) []result {
	var res []result
	shapes := cfg.shapes()
	// last speed of each implementation, type and thread count, to predict
	// the time of the next call.
	type speedKey struct {
		double  bool
		impl    string
		threads int
	}
	last := map[speedKey]float64{}
	for _, double := range []bool{false, true} {
		for _, s := range shapes {
			fmt.Fprintf(os.Stderr, "gemmbench: %s %v\n", typeName(double), s)
			for _, im := range cfg.impls {
				if im.MaxDim > 0 && s.MaxDim() > im.MaxDim {
					continue
				}
				for _, th := range cfg.threads {
					if im.SingleThread && th > 1 || cfg.isolate && spinsAfter(im) && th > 1 {
						continue
					}
					sk := speedKey{double, im.Name, th}
					if g := last[sk]; g > 0 && s.Flops()/g/1e9 > cfg.maxCall.Seconds() {
						continue
					}
					restore := im.Use(th)
					var sec float64
					if double {
						sec = timeGemm(im.Dgemm, s, cfg)
					} else {
						sec = timeGemm(im.Sgemm, s, cfg)
					}
					restore()
					last[sk] = s.Flops() / sec / 1e9
					res = append(res, result{double, s, im.Name, th, last[sk]})
				}
			}
		}
	}
	if cfg.isolate {
		res = append(res, runIsolated(cfg)...)
	}
	return res
}

// spinsAfter reports whether an implementation's worker threads may keep
// spinning after a multi-threaded call returns, taking cores from whatever
// runs next in the process. OpenBLAS's can (OPENBLAS_THREAD_TIMEOUT): on one
// VM ours at two threads fell from 224 to 144 GFLOP/s on 256×512×512 right
// after OpenBLAS had run on two. (Debian's 0.3.21 pthread build used no CPU
// after its calls on the Zen 5 VM, sampled every 2 ms; isolating costs
// nothing either way.)
func spinsAfter(im bench.Impl) bool { return im.Name == "openblas" }

// runIsolated times the spinning implementations on 2+ threads in a child
// process running this same program with -emit, after everything else, so
// that their spinning threads slow nothing but themselves.
func runIsolated(cfg config) []result {
	var names []string
	for _, im := range cfg.impls {
		if spinsAfter(im) && !im.SingleThread {
			names = append(names, im.Name)
		}
	}
	var ths []string
	for _, th := range cfg.threads {
		if th > 1 {
			ths = append(ths, strconv.Itoa(th))
		}
	}
	if len(names) == 0 || len(ths) == 0 {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		fatalf("isolate: %v", err)
	}
	var sizes []string
	for _, n := range cfg.sizes {
		sizes = append(sizes, strconv.Itoa(n))
	}
	cmd := exec.Command(exe, "-emit", "-impls", strings.Join(names, ","), "-threads", strings.Join(ths, ","),
		"-sizes", strings.Join(sizes, ","), "-extra="+strconv.FormatBool(cfg.extra),
		"-mintime", cfg.minTime.String(), "-maxcall", cfg.maxCall.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fatalf("isolate: %s: %v", strings.Join(cmd.Args, " "), err)
	}
	res, err := parseResults(out, cfg.shapes())
	if err != nil {
		fatalf("isolate: %v", err)
	}
	return res
}

// emitResults prints res for a parent gemmbench, one line each: type
// (f32/f64), shape index in cfg.shapes(), implementation, threads, GFLOP/s.
func emitResults(w io.Writer, cfg config, res []result) {
	shapes := cfg.shapes()
	for _, r := range res {
		fmt.Fprintf(w, "%s %d %s %d %g\n", typeName(r.double), slices.Index(shapes, r.shape), r.impl, r.threads, r.gflops)
	}
}

// parseResults reads emitResults' lines back.
func parseResults(out []byte, shapes []bench.Shape) ([]result, error) {
	var res []result
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var typ, impl string
		var si, th int
		var g float64
		if _, err := fmt.Sscanf(line, "%s %d %s %d %g", &typ, &si, &impl, &th, &g); err != nil || si < 0 || si >= len(shapes) {
			return nil, fmt.Errorf("bad result line %q", line)
		}
		res = append(res, result{typ == "f64", shapes[si], impl, th, g})
	}
	return res, nil
}

// timeGemm returns the seconds per call of C = A·B for s: one warm-up call
// (page faults, pack buffers), then the best of cfg.batches batches, each of
// about cfg.minTime/cfg.batches (at least one call). A call slower than
// cfg.minTime is timed once more and the faster of the two kept.
func timeGemm[T float32 | float64](f func(tA, tB gemm.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int), s bench.Shape, cfg config) float64 {
	a, lda, b, ldb, c, ldc := bench.Operands[T](s)
	call := func() { f(s.TA, s.TB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, ldc) }
	t := time.Now()
	call()
	per := time.Since(t)
	if per > cfg.minTime {
		t := time.Now()
		call()
		return min(per, time.Since(t)).Seconds()
	}
	calls := max(1, int(cfg.minTime/time.Duration(cfg.batches)/max(per, time.Microsecond)))
	best := math.Inf(1)
	for range cfg.batches {
		t := time.Now()
		for range calls {
			call()
		}
		best = min(best, time.Since(t).Seconds()/float64(calls))
	}
	return best
}

// loadAvg returns the one-minute load average from /proc/loadavg, or "?"
// where there is none: on a shared machine it says how much else was running.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func report(w io.Writer, cfg config, pk peaks, res []result, took time.Duration, loadBefore, loadAfter string) {
	fmt.Fprintf(w, "## GEMM on %s\n\n", cpuName())
	tags := ""
	if bench.OpenBLASCore() != "" {
		tags = "-tags openblas "
	}
	fmt.Fprintf(w, "- Command: `go run %s./cmd/gemmbench %s`\n", tags, strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "- %s, %d logical CPUs, GOMAXPROCS %d, %s %s/%s; L1d %s, L2 %s, L3 %s per cpuid\n",
		cpuid.CPU.BrandName, cpuid.CPU.LogicalCores, runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		kib(cpuid.CPU.Cache.L1D), kib(cpuid.CPU.Cache.L2), kib(cpuid.CPU.Cache.L3))
	fmt.Fprintf(w, "- adjoint kernels this CPU runs: %s (default %s)\n", strings.Join(gemm.Kernels(), ", "), gemm.Kernel())
	if core := bench.OpenBLASCore(); core != "" {
		fmt.Fprintf(w, "- OpenBLAS core: %s", core)
		for _, v := range []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} {
			if s, ok := os.LookupEnv(v); ok {
				fmt.Fprintf(w, " (warning: %s=%s is set and may force an older kernel)", v, s)
			}
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "- OpenBLAS: not built in (go run -tags openblas ./cmd/gemmbench, needs cgo and libopenblas-dev)")
	}
	fmt.Fprintln(w, "- FMA peak, measured in this run by an assembly loop of 96 independent vector FMAs per iteration, one copy per thread, best of 40 timings of 2 ms before and 40 after the GEMMs (for 2+ threads: the higher of the concurrent copies and threads × the one-thread figure):")
	for _, double := range []bool{false, true} {
		for _, th := range cfg.threads {
			k := peakKey{double, th}
			if len(pk.all[k]) == 0 {
				continue
			}
			var parts []string
			for _, name := range []string{"avx512 zmm", "avx2 ymm"} {
				if g, ok := pk.all[k][name]; ok {
					parts = append(parts, fmt.Sprintf("%s %.1f", name, g))
				}
			}
			fmt.Fprintf(w, "  %s, %d thread(s): %s GFLOP/s (percentages below use %s)\n", typeName(double), th, strings.Join(parts, ", "), pk.which[k])
		}
	}
	if len(pk.best) == 0 {
		fmt.Fprintln(w, "  (no FMA loop for this CPU or build: no percentages)")
	}
	fmt.Fprintf(w, "- Each cell: GFLOP/s (2·M·N·K per second) of C = op(A)·op(B), best of %d batches of about %v each after a warm-up call, and %% of that FMA peak. Run took %.0f s; one-minute load average %s before, %s after (other work on the machine lowers the figures, two-thread ones most).\n\n",
		cfg.batches, cfg.minTime/time.Duration(cfg.batches), took.Seconds(), loadBefore, loadAfter)

	var names []string
	for _, im := range cfg.impls {
		names = append(names, im.Name)
	}
	fmt.Fprintf(w, "| type | M×N×K | op | note | threads | %s |\n", strings.Join(names, " | "))
	fmt.Fprintf(w, "|---|---|---|---|---|%s\n", strings.Repeat("---|", len(names)))
	cell := map[string]float64{}
	key := func(double bool, s bench.Shape, impl string, th int) string {
		return fmt.Sprint(double, s, impl, th)
	}
	for _, r := range res {
		cell[key(r.double, r.shape, r.impl, r.threads)] = r.gflops
	}
	for _, double := range []bool{false, true} {
		for _, s := range cfg.shapes() {
			for _, th := range cfg.threads {
				fmt.Fprintf(w, "| %s | %d×%d×%d | %c%c | %s | %d |", typeName(double), s.M, s.N, s.K, s.TA, s.TB, s.Note, th)
				for _, name := range names {
					g, ok := cell[key(double, s, name, th)]
					switch {
					case !ok:
						fmt.Fprint(w, " – |")
					case pk.best[peakKey{double, th}] > 0:
						fmt.Fprintf(w, " %.1f (%.0f%%) |", g, 100*g/pk.best[peakKey{double, th}])
					default:
						fmt.Fprintf(w, " %.1f |", g)
					}
				}
				fmt.Fprintln(w)
			}
		}
	}
	summary(w, cfg, cell, key)
	fmt.Fprintf(w, "\n– : not timed (naive: single-threaded and only up to 256; any product predicted to take over -maxcall %v per call from the same implementation's previous speed).\n", cfg.maxCall)
}

// cpuName is the brand string with the CPUID family and model, which
// identify the microarchitecture when a VM shortens the brand (e.g. "AMD
// EPYC", family 25 model 17: Zen 4).
func cpuName() string {
	n := strings.TrimSpace(cpuid.CPU.BrandName)
	if n == "" {
		n = runtime.GOARCH + " CPU"
	}
	if cpuid.CPU.Family > 0 {
		n += fmt.Sprintf(" (family %d, model %d)", cpuid.CPU.Family, cpuid.CPU.Model)
	}
	return n
}

func kib(bytes int) string {
	if bytes <= 0 {
		return "?"
	}
	if bytes >= 1<<20 {
		return fmt.Sprintf("%d MiB", bytes>>20)
	}
	return fmt.Sprintf("%d KiB", bytes>>10)
}

func typeName(double bool) string {
	if double {
		return "f64"
	}
	return "f32"
}

func ints(s string) ([]int, error) {
	var xs []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		xs = append(xs, n)
	}
	return xs, nil
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gemmbench: "+format+"\n", args...)
	os.Exit(1)
}

// summary prints, for the largest square size measured with each thread
// count, the default kernel against gonum and OpenBLAS as ratios.
func summary(w io.Writer, cfg config, cell map[string]float64, key func(bool, bench.Shape, string, int) string) {
	if len(cfg.sizes) == 0 {
		return
	}
	ours := gemm.Kernel()
	fmt.Fprintf(w, "\nDefault kernel (%s) against the others, square NN, same run:\n\n", ours)
	for _, double := range []bool{false, true} {
		for _, th := range cfg.threads {
			for _, n := range []int{256, 1024, 2048} {
				if !slices.Contains(cfg.sizes, n) {
					continue
				}
				s := bench.Square(n)
				g, ok := cell[key(double, s, ours, th)]
				if !ok {
					continue
				}
				line := fmt.Sprintf("- %s %d³, %d thread(s): %s %.1f GFLOP/s", typeName(double), n, th, ours, g)
				for _, other := range []string{"gonum", "openblas"} {
					if o, ok := cell[key(double, s, other, th)]; ok {
						line += fmt.Sprintf("; %s %.1f (ours %.2f×)", other, o, g/o)
					}
				}
				fmt.Fprintln(w, line)
			}
		}
	}
}
