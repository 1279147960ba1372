package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// conformanceDir holds ONNX's backend test data (Debian package
// libonnx-testdata). Each case is a folder with model.onnx and
// test_data_set_*/{input,output}_*.pb.
const conformanceDir = "/usr/share/libonnx-testdata/data/node"

// TestConformance runs every node case whose ops are all registered and
// compares with the expected outputs at the conformance data's tolerances
// (rtol 1e-3, atol 1e-7). Under -short it runs every 8th case (it runs under
// qemu in CI). ONNX_CONFORMANCE=substr runs only the cases whose folder name
// contains substr and logs each failure in full.
func TestConformance(t *testing.T) {
	entries, err := os.ReadDir(conformanceDir)
	if err != nil {
		t.Skipf("conformance data not installed (apt-get install libonnx-testdata): %v", err)
	}
	filter := os.Getenv("ONNX_CONFORMANCE")
	var pass, fail, unsupported, skipped, random int
	var failures, unsupportedOps []string
	opsMissing := map[string]int{}
	for i, e := range entries {
		name := e.Name()
		if !e.IsDir() || (filter != "" && !strings.Contains(name, filter)) {
			continue
		}
		if testing.Short() && filter == "" && i%8 != 0 {
			continue
		}
		if reason, ok := conformanceSkip[name]; ok {
			skipped++
			if filter != "" {
				t.Logf("%s: skipped: %s", name, reason)
			}
			continue
		}
		err := runConformanceCase(filepath.Join(conformanceDir, name))
		switch {
		case err == nil && conformanceRandom[name]:
			random++
		case err == nil:
			pass++
		case errors.Is(err, ErrUnsupported):
			unsupported++
			unsupportedOps = append(unsupportedOps, name)
			opsMissing[unsupportedOp(err)]++
			if filter != "" {
				t.Logf("%s: unsupported: %v", name, err)
			}
		default:
			fail++
			failures = append(failures, name)
			t.Errorf("%s: %v", name, err)
		}
	}
	t.Logf("conformance: %d passed, %d failed, %d unsupported, %d skipped (listed), %d random (type and shape checked)", pass, fail, unsupported, skipped, random)
	if os.Getenv("ONNX_CONFORMANCE_MISSING") != "" {
		var ms []string
		for k, v := range opsMissing {
			ms = append(ms, fmt.Sprintf("%4d %s", v, k))
		}
		sort.Strings(ms)
		t.Logf("missing:\n%s", strings.Join(ms, "\n"))
	}
}

func unsupportedOp(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": op "); i >= 0 {
		s = s[i+5:]
		if j := strings.Index(s, " "); j >= 0 {
			return s[:j]
		}
	}
	if len(s) > 80 {
		s = s[len(s)-80:]
	}
	return s
}

func runConformanceCase(dir string) error {
	m, err := Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return errors.New("no test data sets")
	}
	s := NewSession(m)
	var feeds []ValueInfo
	for _, in := range m.Graph.Inputs {
		if _, init := m.Graph.consts[in.Name]; !init {
			feeds = append(feeds, in)
		}
	}
	for _, set := range sets {
		inputs := map[string]*Tensor{}
		for i, in := range feeds {
			t, err := readPB(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)), in.Kind)
			if err != nil {
				if os.IsNotExist(errors.Unwrap(err)) {
					continue // optional input left out
				}
				return fmt.Errorf("%s input %d: %w", filepath.Base(set), i, err)
			}
			inputs[in.Name] = asDeclared(t, in.DType)
		}
		got, err := s.Run(inputs)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(set), err)
		}
		for i, o := range m.Graph.Outputs {
			want, err := readPB(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)), o.Kind)
			if err != nil {
				return fmt.Errorf("%s output %d: %w", filepath.Base(set), i, err)
			}
			g := got[o.Name]
			if conformanceRandom[filepath.Base(dir)] && g != nil {
				// Random outputs: check type, shape and range only.
				if g.DType != want.DType || !sameShape(g.Shape, want.Shape) {
					return fmt.Errorf("%s output %q: %v%v, want %v%v", filepath.Base(set), o.Name, g.DType, g.Shape, want.DType, want.Shape)
				}
				for j := range g.Size() {
					if v := g.Float64At(j); v != 0 && v != 1 {
						return fmt.Errorf("%s output %q: Bernoulli value %v", filepath.Base(set), o.Name, v)
					}
				}
				continue
			}
			if err := compareTensors(g, asDeclared(want, o.DType)); err != nil {
				return fmt.Errorf("%s output %q: %w", filepath.Base(set), o.Name, err)
			}
		}
	}
	return nil
}

func readPB(path string, kind Kind) (*Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	t, err := ParseValue(b, kind)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrUnsupported)
	}
	return t, nil
}

func compareTensors(got, want *Tensor) error {
	if got == nil {
		return errors.New("no value")
	}
	if got.DType != want.DType {
		return fmt.Errorf("dtype %v, want %v", got.DType, want.DType)
	}
	if want.DType.Storage() == StoreSeq {
		if len(got.Seq) != len(want.Seq) {
			return fmt.Errorf("%v of %d values, want %d", got.DType, len(got.Seq), len(want.Seq))
		}
		for i := range want.Seq {
			if err := compareTensors(got.Seq[i], want.Seq[i]); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	}
	if len(got.Shape) != len(want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i := range got.Shape {
		if got.Shape[i] != want.Shape[i] {
			return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
		}
	}
	n := want.Size()
	bad, first := 0, -1
	for i := 0; i < n; i++ {
		ok := true
		switch want.DType.Storage() {
		case StoreF32, StoreF64:
			g, w := got.Float64At(i), want.Float64At(i)
			switch {
			case math.IsNaN(w):
				ok = math.IsNaN(g)
			case math.IsInf(w, 0):
				ok = g == w
			default:
				ok = math.Abs(g-w) <= 1e-7+1e-3*math.Abs(w)
			}
		case StoreI64:
			ok = got.I64[i] == want.I64[i]
		case StoreBool:
			ok = got.B[i] == want.B[i]
		case StoreStr:
			ok = got.S[i] == want.S[i]
		}
		if !ok {
			if first < 0 {
				first = i
			}
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d elements differ; first at %d: got %v, want %v (got %v)", bad, n, first, elemString(got, first), elemString(want, first), got)
	}
	return nil
}

func elemString(t *Tensor, i int) string {
	switch t.DType.Storage() {
	case StoreStr:
		return fmt.Sprintf("%q", t.S[i])
	case StoreI64:
		return fmt.Sprint(t.I64[i])
	}
	return fmt.Sprint(t.Float64At(i))
}

// asDeclared fixes a quirk of the conformance data: numpy has no bfloat16,
// so bfloat16 values are stored as uint16 bit patterns.
func asDeclared(t *Tensor, dt DataType) *Tensor {
	if dt == BFloat16 && t.DType == Uint16 {
		c := &Tensor{DType: BFloat16, Shape: t.Shape, F32: make([]float32, len(t.I64))}
		for i, v := range t.I64 {
			c.F32[i] = BFloat16ToFloat32(uint16(v))
		}
		return c
	}
	return t
}
