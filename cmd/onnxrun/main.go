// Command onnxrun loads an ONNX model, describes it, runs it on .npy inputs
// and times it.
//
//	onnxrun [-info] [-threads T] [-bench N] [-dim name=value ...] model.onnx [-in name=file.npy ...] [-out DIR]
//
// -info lists the opsets, inputs and outputs (with symbolic dimensions) and
// the op counts. A run writes each output as DIR/NAME.npy. -bench N runs N
// times (inputs not given are random, of the declared shapes, symbolic
// dimensions set with -dim) and prints the best and median latency. Any bad
// flag, file or input is a one-line error and exit status 1 (2 for usage).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/adjoint-go/adjoint/onnx"
	"github.com/adjoint-go/adjoint/parallel"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

type usageError struct{ error }

func main() {
	err := run(os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onnxrun:", strings.ReplaceAll(err.Error(), "\n", " "))
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("onnxrun", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	info := fs.Bool("info", false, "describe the model")
	threads := fs.Int("threads", 0, "worker threads (0: default)")
	bench := fs.Int("bench", 0, "run N times and print best and median latency")
	outDir := fs.String("out", "", "write each output as DIR/NAME.npy")
	seed := fs.Uint64("seed", 1, "seed for random inputs")
	var dims, ins multi
	fs.Var(&dims, "dim", "symbolic dimension name=value (repeatable)")
	fs.Var(&ins, "in", "input name=file.npy (repeatable)")
	usage := "usage: onnxrun [-info] [-threads T] [-bench N] [-dim name=value] model.onnx [-in name=file.npy ...] [-out DIR]"
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("%v; %s", err, usage)}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New(usage)}
	}
	model := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return usageError{fmt.Errorf("%v; %s", err, usage)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; %s", fs.Arg(0), usage)}
	}
	if *threads < 0 || *threads > 1024 {
		return usageError{fmt.Errorf("-threads %d out of range [0, 1024]", *threads)}
	}
	if *bench < 0 || *bench > 1_000_000 {
		return usageError{fmt.Errorf("-bench %d out of range [0, 1000000]", *bench)}
	}
	dimVals := map[string]int{}
	for _, d := range dims {
		name, v, ok := strings.Cut(d, "=")
		n, err := strconv.Atoi(v)
		if !ok || name == "" || err != nil || n < 0 || n > 1<<24 {
			return usageError{fmt.Errorf("-dim %q: want name=value with 0 <= value <= %d", d, 1<<24)}
		}
		dimVals[name] = n
	}
	if *threads > 0 {
		parallel.SetThreads(*threads)
	}
	if *info {
		// Describe the file as written (Load folds and fuses nodes), even
		// when an op is unsupported: Load's error then says which.
		im, err := onnx.Inspect(model)
		if err != nil {
			return err
		}
		describe(stdout, im)
	}
	m, err := onnx.Load(model)
	if err != nil {
		return err
	}
	if *info {
		fmt.Fprintf(stdout, "loaded: runs as %d nodes after constant folding and fusion\n", len(m.Graph.Nodes))
		if len(ins) == 0 && *bench == 0 && *outDir == "" {
			return nil
		}
	}
	feeds := map[string]*onnx.Tensor{}
	for _, s := range ins {
		name, path, ok := strings.Cut(s, "=")
		if !ok || name == "" || path == "" {
			return usageError{fmt.Errorf("-in %q: want name=file.npy", s)}
		}
		if _, dup := feeds[name]; dup {
			return fmt.Errorf("input %q given twice", name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		t, err := onnx.ReadNPY(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		feeds[name] = t
	}
	g := m.Graph
	for name := range feeds {
		if !isInput(g, name) {
			return fmt.Errorf("%q is not an input of the model (inputs: %s)", name, inputNames(g))
		}
	}
	rng := rand.New(rand.NewPCG(*seed, 2))
	for _, in := range g.Inputs {
		if _, ok := feeds[in.Name]; ok || isInitializer(g, in.Name) {
			continue
		}
		if *bench == 0 {
			return fmt.Errorf("missing input %q %v%s (give -in %s=file.npy)", in.Name, in.DType, in.ShapeString(), in.Name)
		}
		t, err := randomInput(in, dimVals, rng)
		if err != nil {
			return err
		}
		feeds[in.Name] = t
	}
	s := onnx.NewSession(m)
	outs, err := s.Run(feeds)
	if err != nil {
		return err
	}
	if *bench > 0 {
		times := make([]time.Duration, *bench)
		dst := map[string]*onnx.Tensor{}
		for k, v := range outs {
			dst[k] = v
		}
		for i := range times {
			t0 := time.Now()
			if err := s.RunInto(feeds, dst); err != nil {
				return err
			}
			times[i] = time.Since(t0)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		fmt.Fprintf(stdout, "%d runs, %d threads: best %.3f ms, median %.3f ms\n", *bench, parallel.Threads(),
			ms(times[0]), ms(times[len(times)/2]))
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
		for _, o := range g.Outputs {
			path := filepath.Join(*outDir, fileName(o.Name)+".npy")
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			err = onnx.WriteNPY(f, outs[o.Name])
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	if *bench == 0 && *outDir == "" {
		for _, o := range g.Outputs {
			fmt.Fprintf(stdout, "%s: %v\n", o.Name, outs[o.Name])
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fileName maps an output name to a safe file name.
func fileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		return "_" + string(b)
	}
	return string(b)
}

func isInput(g *onnx.Graph, name string) bool {
	for _, in := range g.Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

func isInitializer(g *onnx.Graph, name string) bool {
	for _, it := range g.Initializers {
		if it.Name == name {
			return true
		}
	}
	return false
}

func inputNames(g *onnx.Graph) string {
	var s []string
	for _, in := range g.Inputs {
		if !isInitializer(g, in.Name) {
			s = append(s, in.Name)
		}
	}
	return strings.Join(s, ", ")
}

func randomInput(in onnx.ValueInfo, dims map[string]int, rng *rand.Rand) (*onnx.Tensor, error) {
	if !in.HasShape {
		return nil, fmt.Errorf("input %q has no declared shape; give -in %s=file.npy", in.Name, in.Name)
	}
	shape := make([]int, len(in.Shape))
	n := 1
	for i, d := range in.Shape {
		switch {
		case d.Value >= 0:
			shape[i] = int(d.Value)
		default:
			v, ok := dims[d.Param]
			if !ok || d.Param == "" {
				return nil, fmt.Errorf("input %q dimension %d is symbolic (%s); set it with -dim %s=N", in.Name, i, d, d.Param)
			}
			shape[i] = v
		}
		if shape[i] != 0 && n > (1<<28)/shape[i] {
			return nil, fmt.Errorf("input %q shape %v is too large", in.Name, shape)
		}
		n *= shape[i]
	}
	if in.DType.Storage() == onnx.StoreNone || in.DType == onnx.String {
		return nil, fmt.Errorf("input %q of type %v: cannot make random data", in.Name, in.DType)
	}
	t := onnx.NewTensor(in.DType, shape...)
	for i := range n {
		switch in.DType.Storage() {
		case onnx.StoreF32:
			t.F32[i] = float32(rng.NormFloat64())
		case onnx.StoreF64:
			t.F64[i] = rng.NormFloat64()
		case onnx.StoreI64:
			t.I64[i] = int64(rng.IntN(2)) // safe for ids, masks and indices
		case onnx.StoreBool:
			t.B[i] = rng.IntN(2) == 1
		}
	}
	return t, nil
}

func describe(w io.Writer, m *onnx.Model) {
	g := m.Graph
	fmt.Fprintf(w, "producer: %s %s, IR version %d\n", m.ProducerName, m.ProducerVersion, m.IRVersion)
	var doms []string
	for d, v := range m.Opsets {
		if d == "" {
			d = "ai.onnx"
		}
		doms = append(doms, fmt.Sprintf("%s %d", d, v))
	}
	sort.Strings(doms)
	fmt.Fprintf(w, "opsets: %s\n", strings.Join(doms, ", "))
	fmt.Fprintln(w, "inputs:")
	for _, in := range g.Inputs {
		if isInitializer(g, in.Name) {
			continue
		}
		fmt.Fprintf(w, "  %s %v %s\n", in.Name, in.DType, in.ShapeString())
	}
	fmt.Fprintln(w, "outputs:")
	for _, o := range g.Outputs {
		fmt.Fprintf(w, "  %s %v %s\n", o.Name, o.DType, o.ShapeString())
	}
	counts := map[string]int{}
	var walk func(g *onnx.Graph)
	walk = func(g *onnx.Graph) {
		for _, n := range g.Nodes {
			counts[n.OpType]++
			for _, a := range n.Attrs {
				if a.G != nil {
					walk(a.G)
				}
				for _, sg := range a.Graphs {
					walk(sg)
				}
			}
		}
	}
	walk(g)
	var ops []string
	for op := range counts {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool {
		if counts[ops[i]] != counts[ops[j]] {
			return counts[ops[i]] > counts[ops[j]]
		}
		return ops[i] < ops[j]
	})
	fmt.Fprintf(w, "ops (%d nodes, %d initializers):\n", len(g.Nodes), len(g.Initializers))
	for _, op := range ops {
		fmt.Fprintf(w, "  %-24s %d\n", op, counts[op])
	}
}
