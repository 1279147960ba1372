package onnx

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHeadViewsFused: on the transformers (the committed tiny ones and, with
// ADJOINT_ONNX_MODELS, the MiniLM-shaped encoder) the head splits feeding
// MatMul are fused away (fewer Transpose and Reshape nodes) and the outputs
// equal the unfused graph's to 1e-6 of their scale.
func TestHeadViewsFused(t *testing.T) {
	paths := []string{"testdata/models/tiny_transformer_op13.onnx", "testdata/models/tiny_transformer_op17.onnx"}
	if d := os.Getenv("ADJOINT_ONNX_MODELS"); d != "" {
		if p := filepath.Join(d, "minilm_l6.onnx"); fileExists(p) {
			paths = append(paths, p)
		}
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			plain, fused := loadFused(t, p, false), loadFused(t, p, true)
			heads := 0
			for _, n := range fused.Graph.Nodes {
				if _, ok := n.kernel.(*headMatMul); ok {
					heads++
				}
			}
			if heads == 0 {
				t.Fatal("no MatMul reads its heads in place")
			}
			in, err := testInputs(plain)
			if err != nil {
				t.Fatal(err)
			}
			a, err := NewSession(plain).Run(in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := NewSession(fused).Run(in)
			if err != nil {
				t.Fatal(err)
			}
			for name, x := range a {
				requireCloseScaled(t, name, x, b[name], 1e-6)
			}
			if pc, fc := opCount(plain), opCount(fused); fc["Transpose"] >= pc["Transpose"] || fc["Reshape"] >= pc["Reshape"] {
				t.Errorf("Transpose %d -> %d, Reshape %d -> %d", pc["Transpose"], fc["Transpose"], pc["Reshape"], fc["Reshape"])
			}
			merged := 0
			for _, n := range fused.Graph.Nodes {
				if h, ok := n.kernel.(*headMatMul); ok && h.outT {
					merged++
				}
			}
			if strings.HasPrefix(filepath.Base(p), "minilm") && merged == 0 {
				t.Error("no MatMul writes its heads merged (outT)")
			}
			t.Logf("%d MatMuls read heads in place, %d write them merged", heads, merged)
		})
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// testInputs makes deterministic inputs for m's graph inputs (symbolic
// dimensions 1, int64 ids small).
func testInputs(m *Model) (map[string]*Tensor, error) {
	in := map[string]*Tensor{}
	for _, v := range m.Graph.Inputs {
		shape := make([]int, len(v.Shape))
		for i, d := range v.Shape {
			shape[i] = int(max(d.Value, 1))
		}
		x := NewTensor(v.DType, shape...)
		for i := range x.F32 {
			x.F32[i] = float32(math.Sin(float64(i) * 0.37))
		}
		for i := range x.I64 {
			x.I64[i] = int64(i*7) % 50
		}
		for i := range x.B {
			x.B[i] = i%5 != 0
		}
		in[v.Name] = x
	}
	return in, nil
}

// requireCloseScaled fails unless y has x's shape and every element within
// tol of x's largest magnitude.
func requireCloseScaled(t *testing.T, name string, x, y *Tensor, tol float64) {
	t.Helper()
	if y == nil || !eqInts(x.Shape, y.Shape) {
		t.Fatalf("output %s: shape %v, want %v", name, y, x.Shape)
	}
	scale := 0.0
	for i := range x.Size() {
		scale = math.Max(scale, math.Abs(x.Float64At(i)))
	}
	for i := range x.Size() {
		if d := math.Abs(x.Float64At(i) - y.Float64At(i)); d > tol*math.Max(scale, 1e-30) || math.IsNaN(d) {
			t.Fatalf("output %s[%d]: %v, unfused %v (scale %g)", name, i, y.Float64At(i), x.Float64At(i), scale)
		}
	}
}

// TestHeadMatMulMaterialises: shapes the strided path does not cover (a
// 2-D input, heads that do not divide) give the Reshape-Transpose-MatMul
// result through the fallback.
func TestHeadMatMulMaterialises(t *testing.T) {
	k := &headMatMul{mm: &matMulKernel{}, views: [2]*headView{{shape: []int64{2, 3, 2, 2}}, nil}}
	x := NewTensor(Float, 6, 4) // 2-D: not the [B, T, H·D] case
	for i := range x.F32 {
		x.F32[i] = float32(i) * 0.5
	}
	w := NewTensor(Float, 2, 2, 2, 3)
	for i := range w.F32 {
		w.F32[i] = float32(i%7) - 3
	}
	got := &Tensor{}
	if err := k.Run([]*Tensor{x, w}, []*Tensor{got}); err != nil {
		t.Fatal(err)
	}
	// The reference: reshape, transpose [0,2,1,3], naive batched product.
	want := make([]float32, 2*2*3*3)
	for b := range 2 {
		for h := range 2 {
			for i := range 3 {
				for j := range 3 {
					var s float32
					for d := range 2 {
						s += x.F32[((b*3+i)*2+h)*2+d] * w.F32[((b*2+h)*2+d)*3+j]
					}
					want[((b*2+h)*3+i)*3+j] = s
				}
			}
		}
	}
	if !eqInts(got.Shape, []int{2, 2, 3, 3}) {
		t.Fatalf("shape %v", got.Shape)
	}
	for i := range want {
		if got.F32[i] != want[i] {
			t.Fatalf("element %d: %v, want %v", i, got.F32[i], want[i])
		}
	}
}

// TestHeadMatMulOutT: with the head merge fused (outT) the product is
// written as [B, T, H, N], on the strided path ([B, T, H·D] input) and the
// fallback (a 2-D input), against a naive loop.
func TestHeadMatMulOutT(t *testing.T) {
	for _, shape := range [][]int{{2, 3, 4}, {6, 4}} {
		k := &headMatMul{mm: &matMulKernel{}, views: [2]*headView{{shape: []int64{2, 3, 2, 2}}, nil}, outT: true}
		x := NewTensor(Float, shape...)
		for i := range x.F32 {
			x.F32[i] = float32(i%11)*0.5 - 2
		}
		w := NewTensor(Float, 2, 2, 2, 3)
		for i := range w.F32 {
			w.F32[i] = float32(i%7) - 3
		}
		got := &Tensor{}
		for range 2 { // the second run reuses the kernel's scratch
			if err := k.Run([]*Tensor{x, w}, []*Tensor{got}); err != nil {
				t.Fatal(err)
			}
		}
		want := make([]float32, 2*3*2*3) // [b, i, h, j]
		for b := range 2 {
			for h := range 2 {
				for i := range 3 {
					for j := range 3 {
						var s float32
						for d := range 2 {
							s += x.F32[((b*3+i)*2+h)*2+d] * w.F32[((b*2+h)*2+d)*3+j]
						}
						want[((b*3+i)*2+h)*3+j] = s
					}
				}
			}
		}
		if !eqInts(got.Shape, []int{2, 3, 2, 3}) {
			t.Fatalf("input %v: shape %v", shape, got.Shape)
		}
		for i := range want {
			if got.F32[i] != want[i] {
				t.Fatalf("input %v: element %d: %v, want %v", shape, i, got.F32[i], want[i])
			}
		}
	}
}
