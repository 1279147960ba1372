package onnx

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadFused loads path with the rewrites on or off.
func loadFused(t *testing.T, path string, on bool) *Model {
	t.Helper()
	prev := fuseEnabled
	fuseEnabled = on
	defer func() { fuseEnabled = prev }()
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func opCount(m *Model) map[string]int {
	c := map[string]int{}
	for _, n := range m.Graph.Nodes {
		c[n.OpType]++
	}
	return c
}

// TestFusedMatchesUnfused runs each model with and without the rewrites
// on the same inputs: the rewrites must remove the nodes they fuse and
// give the unfused graph's outputs (to float32 rounding: folding BN into
// the weights rounds differently).
func TestFusedMatchesUnfused(t *testing.T) {
	files, _ := filepath.Glob("testdata/models/*.onnx")
	type mc struct{ path, ref, name string }
	var cases []mc
	for _, f := range files {
		cases = append(cases, mc{f, "testdata/models", strings.TrimSuffix(filepath.Base(f), ".onnx")})
	}
	if d := os.Getenv("ADJOINT_ONNX_MODELS"); d != "" {
		for _, n := range []string{"embedding_model", "ch_ppocr_mobile_v2.0_cls_infer"} {
			if _, err := os.Stat(filepath.Join(d, n+".onnx")); err == nil {
				cases = append(cases, mc{filepath.Join(d, n+".onnx"), "testdata/real", n})
			}
		}
	}
	fusedSomething := false
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plain, fused := loadFused(t, c.path, false), loadFused(t, c.path, true)
			pc, fc := opCount(plain), opCount(fused)
			removed := len(plain.Graph.Nodes) - len(fused.Graph.Nodes)
			if fc["BatchNormalization"] > 0 && pc["Conv"] > 0 && fc["BatchNormalization"] == pc["BatchNormalization"] {
				t.Errorf("no BatchNormalization folded (%d before and after)", pc["BatchNormalization"])
			}
			if pc["ReduceMean"] > 0 && pc["Sqrt"] > 0 && fc["LayerNormalization"] == 0 {
				t.Errorf("no LayerNorm pattern fused (%d ReduceMean)", pc["ReduceMean"])
			}
			if pc["Erf"] > 0 && fc["Erf"] == pc["Erf"] {
				t.Errorf("no GELU pattern fused (%d Erf)", pc["Erf"])
			}
			if c.name == "ch_ppocr_mobile_v2.0_cls_infer" && fc["Div"] >= pc["Div"] {
				t.Errorf("no HardSwish pattern fused (%d Div)", pc["Div"])
			}
			if removed > 0 {
				fusedSomething = true
			}
			t.Logf("nodes %d -> %d (BN %d->%d, Relu %d->%d, Clip %d->%d, Add %d->%d, Div %d->%d, Erf %d->%d, LayerNormalization %d->%d)",
				len(plain.Graph.Nodes), len(fused.Graph.Nodes), pc["BatchNormalization"], fc["BatchNormalization"],
				pc["Relu"], fc["Relu"], pc["Clip"], fc["Clip"], pc["Add"], fc["Add"], pc["Div"], fc["Div"], pc["Erf"], fc["Erf"],
				pc["LayerNormalization"], fc["LayerNormalization"])
			in := map[string]*Tensor{}
			for _, v := range plain.Graph.Inputs {
				x, err := readNpyTensor(filepath.Join(c.ref, c.name+".in."+npySafe.ReplaceAllString(v.Name, "_")+".npy"))
				if err != nil {
					t.Fatal(err)
				}
				in[v.Name] = x
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
				y := b[name]
				if !eqInts(x.Shape, y.Shape) {
					t.Fatalf("output %s: shapes %v and %v", name, x.Shape, y.Shape)
				}
				scale := 0.0
				for i := range x.Size() {
					scale = math.Max(scale, math.Abs(x.Float64At(i)))
				}
				worst := 0.0
				for i := range x.Size() {
					worst = math.Max(worst, math.Abs(x.Float64At(i)-y.Float64At(i))/math.Max(scale, 1e-30))
				}
				t.Logf("output %s: fused vs unfused max error relative to scale %.2e", name, worst)
				if worst > 1e-5 || math.IsNaN(worst) {
					t.Errorf("output %s: fused differs from unfused by %.3g of its scale", name, worst)
				}
			}
		})
	}
	if !fusedSomething {
		t.Error("no model had anything fused")
	}
}

// TestFuseKeepsSharedValues checks that a value read twice is not fused:
// a Conv whose output feeds both a Relu and a graph output keeps both.
func TestFuseKeepsSharedValues(t *testing.T) {
	w := NewTensor(Float, 1, 1, 1, 1)
	w.F32[0] = -2
	g := &Graph{
		Inputs:       []ValueInfo{{Name: "x", Kind: KindTensor, DType: Float}},
		Outputs:      []ValueInfo{{Name: "c", Kind: KindTensor, DType: Float}, {Name: "r", Kind: KindTensor, DType: Float}},
		Initializers: []NamedTensor{{Name: "w", T: w}},
		Nodes: []*Node{
			{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
		},
	}
	m := &Model{Opsets: map[string]int{"": 13}, Graph: g}
	if err := m.compile(g, nil, 0); err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 2 {
		t.Fatalf("%d nodes after rewrites, want 2 (the Conv's output is a graph output)", len(g.Nodes))
	}
	x := NewTensor(Float, 1, 1, 1, 2)
	x.F32[0], x.F32[1] = 1, -1
	out, err := NewSession(m).Run(map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	if c, r := out["c"].F32, out["r"].F32; c[0] != -2 || c[1] != 2 || r[0] != 0 || r[1] != 2 {
		t.Errorf("c = %v, r = %v; want [-2 2] and [0 2]", c, r)
	}
}

// Paddle's HardSwish, x·Clip(x + 3, 0, 6)/6 after a convolution, becomes
// the convolution's epilogue and gives the four nodes' result.
func TestFuseHardSwish(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	w := make([]float32, 4*2*3*3)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	g := pb(nil).str(2, "g").
		msg(1, nodePB("Conv", []string{"x", "w"}, []string{"c"}, pb(nil).str(1, "pads").varint(20, int64(AttrInts)).varint(8, 1).varint(8, 1).varint(8, 1).varint(8, 1))).
		msg(1, nodePB("Add", []string{"c", "three"}, []string{"a"})).
		msg(1, nodePB("Clip", []string{"a", "zero", "six"}, []string{"k"})).
		msg(1, nodePB("Mul", []string{"c", "k"}, []string{"m"})).
		msg(1, nodePB("Div", []string{"m", "six"}, []string{"y"})).
		msg(11, valueInfoPB("x", Float, 1, 2, 5, 6)).
		msg(12, valueInfoPB("y", Float, 1, 4, 5, 6))
	g = append(g, pb(nil).msg(5, floatTensorPB("w", []int64{4, 2, 3, 3}, w))...)
	for name, v := range map[string]float32{"three": 3, "zero": 0, "six": 6} {
		g = append(g, pb(nil).msg(5, floatTensorPB(name, nil, []float32{v}))...)
	}
	load := func(on bool) *Model {
		prev := fuseEnabled
		fuseEnabled = on
		defer func() { fuseEnabled = prev }()
		m, err := Parse(modelPB(13, g), "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain, fused := load(false), load(true)
	if len(fused.Graph.Nodes) != 1 || len(plain.Graph.Nodes) != 5 {
		t.Fatalf("nodes: %d unfused, %d fused; want 5 and 1", len(plain.Graph.Nodes), len(fused.Graph.Nodes))
	}
	x := randTensor(r, 1, 2, 5, 6)
	for i := range x.F32 {
		x.F32[i] *= 3 // reach both sides of the clip
	}
	a, err := NewSession(plain).Run(map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSession(fused).Run(map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range a["y"].F32 {
		if d := math.Abs(float64(v - b["y"].F32[i])); d > 1e-6*(1+math.Abs(float64(v))) {
			t.Fatalf("element %d: fused %g, unfused %g", i, b["y"].F32[i], v)
		}
	}
}
