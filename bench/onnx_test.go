package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/adjoint-go/adjoint/onnx"
	"github.com/adjoint-go/adjoint/parallel"
)

// ONNX models against ONNX Runtime. The models live outside git, in
// $ADJOINT_ONNX_MODELS (bench/onnx_fixtures.sh big DIR exports the anchor
// models and unpacks the real ones); without it the benchmark skips.
// Inputs are made as shared/anchors/ort_bench.js and bench/onnx_ort_bench.js
// make them (float i ↦ 0.5·sin(0.37·i), int64 i ↦ 7919·i mod 30000), with
// the declared shapes and onnxModelDims for symbolic dimensions, so both
// runtimes time the same work. Compare, alternating:
//
//	go test -run '^$' -bench ONNX -benchtime 15x ./bench
//	NODE_PATH=... node bench/onnx_ort_bench.js 1 $ADJOINT_ONNX_MODELS/resnet18.onnx ...
//
// (bench/onnx_compare.sh runs both in turn, alternating, and prints each result).

// onnxModels are the models benchmarked, with the sizes of their symbolic
// dimensions (batch 1; PaddleOCR's classifier at its 3×48×192 crop).
var onnxModels = []struct {
	name string
	dims []int // for the first input, where the model leaves them symbolic
}{
	{"resnet18", nil},
	{"mobilenet_v2", nil},
	{"minilm_l6", nil},
	{"embedding_model", []int{1, 76, 32, 1}},
	{"ch_ppocr_mobile_v2.0_cls_infer", []int{1, 3, 48, 192}},
}

// onnxInputs makes the benchmark's inputs for m.
func onnxInputs(m *onnx.Model, dims []int) (map[string]*onnx.Tensor, error) {
	in := map[string]*onnx.Tensor{}
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializers {
		inits[t.Name] = true
	}
	for k, v := range m.Graph.Inputs {
		if inits[v.Name] {
			continue
		}
		shape := make([]int, len(v.Shape))
		for i, d := range v.Shape {
			switch {
			case d.Value >= 0:
				shape[i] = int(d.Value)
			case k == 0 && i < len(dims):
				shape[i] = dims[i]
			default:
				shape[i] = 1
			}
		}
		t := onnx.NewTensor(v.DType, shape...)
		switch v.DType {
		case onnx.Float:
			for i := range t.F32 {
				t.F32[i] = float32(math.Sin(float64(i)*0.37) * 0.5)
			}
		case onnx.Int64:
			for i := range t.I64 {
				t.I64[i] = int64(i*7919) % 30000
			}
		default:
			return nil, fmt.Errorf("input %s: type %v", v.Name, v.DType)
		}
		in[v.Name] = t
	}
	return in, nil
}

// BenchmarkONNX runs each model at 1 and 2 threads, reporting ms/run (the
// mean over b.N runs) and, for a comparison with ort_bench.js's
// best-of-15, the best single run as best-ms.
func BenchmarkONNX(b *testing.B) {
	dir := os.Getenv("ADJOINT_ONNX_MODELS")
	if dir == "" {
		b.Skip("ADJOINT_ONNX_MODELS not set (bench/onnx_fixtures.sh big DIR)")
	}
	for _, mc := range onnxModels {
		path := filepath.Join(dir, mc.name+".onnx")
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("model=%s/threads=%d", mc.name, th), func(b *testing.B) {
				if _, err := os.Stat(path); err != nil {
					b.Skipf("%s not present", path)
				}
				m, err := onnx.Load(path)
				if err != nil {
					b.Fatal(err)
				}
				in, err := onnxInputs(m, mc.dims)
				if err != nil {
					b.Fatal(err)
				}
				prev := parallel.SetThreads(th)
				defer parallel.SetThreads(prev)
				s := onnx.NewSession(m)
				out := map[string]*onnx.Tensor{}
				for _, o := range m.Graph.Outputs {
					out[o.Name] = &onnx.Tensor{}
				}
				for range 3 { // warm-up, as ort_bench.js
					if err := s.RunInto(in, out); err != nil {
						b.Fatal(err)
					}
				}
				var ts []time.Duration
				b.ReportAllocs()
				c0 := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					t0 := time.Now()
					if err := s.RunInto(in, out); err != nil {
						b.Fatal(err)
					}
					ts = append(ts, time.Since(t0))
				}
				b.StopTimer()
				if c := cpuTime() - c0; c > 0 {
					// CPU time per run: on a loaded machine, closer to the
					// work than wall time (at 1 thread).
					b.ReportMetric(float64(c.Microseconds())/1e3/float64(b.N), "cpu-ms/run")
				}
				sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/run")
				b.ReportMetric(float64(ts[0].Microseconds())/1e3, "best-ms")
				b.ReportMetric(float64(ts[len(ts)/2].Microseconds())/1e3, "median-ms")
			})
		}
	}
}
