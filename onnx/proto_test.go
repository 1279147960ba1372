package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// A tiny protobuf writer for crafted models (independent of the reader).

type pb []byte

func (b pb) str(num protowire.Number, s string) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}
func (b pb) msg(num protowire.Number, m pb) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}
func (b pb) varint(num protowire.Number, v int64) pb {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}
func (b pb) f32(num protowire.Number, v float32) pb {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

func nodePB(op string, ins, outs []string, attrs ...pb) pb {
	var n pb
	for _, i := range ins {
		n = n.str(1, i)
	}
	for _, o := range outs {
		n = n.str(2, o)
	}
	n = n.str(4, op)
	for _, a := range attrs {
		n = n.msg(5, a)
	}
	return n
}

func valueInfoPB(name string, dt DataType, dims ...int64) pb {
	var shape pb
	for _, d := range dims {
		shape = shape.msg(1, pb(nil).varint(1, d))
	}
	tt := pb(nil).varint(1, int64(dt)).msg(2, shape)
	return pb(nil).str(1, name).msg(2, pb(nil).msg(1, tt))
}

func floatTensorPB(name string, dims []int64, vals []float32) pb {
	t := pb(nil)
	for _, d := range dims {
		t = t.varint(1, d)
	}
	t = t.varint(2, int64(Float)).str(8, name)
	for _, v := range vals {
		t = t.f32(4, v)
	}
	return t
}

func modelPB(opset int64, graph pb) []byte {
	m := pb(nil).varint(1, 8).msg(8, pb(nil).str(1, "").varint(2, opset)).msg(7, graph)
	return m
}

// graphPB: nodes, then inputs "x" float [2], output "y".
func graphPB(nodes []pb, extra ...pb) pb {
	g := pb(nil).str(2, "g")
	for _, n := range nodes {
		g = g.msg(1, n)
	}
	g = g.msg(11, valueInfoPB("x", Float, 2))
	g = g.msg(12, valueInfoPB("y", Float, 2))
	for _, e := range extra {
		g = append(g, e...)
	}
	return g
}

func TestParseSimpleModel(t *testing.T) {
	g := graphPB([]pb{
		nodePB("Add", []string{"x", "w"}, []string{"t"}),
		nodePB("Neg", []string{"t"}, []string{"y"}),
	}, pb(nil).msg(5, floatTensorPB("w", []int64{2}, []float32{10, 20})))
	m, err := Parse(modelPB(13, g), "")
	require.NoError(t, err)
	require.Equal(t, 13, m.Opsets[""])
	out, err := NewSession(m).Run(map[string]*Tensor{"x": {DType: Float, Shape: []int{2}, F32: []float32{1, 2}}})
	require.NoError(t, err)
	require.Equal(t, []float32{-11, -22}, out["y"].F32)
}

func TestParseNodesOutOfOrder(t *testing.T) {
	g := graphPB([]pb{
		nodePB("Neg", []string{"t"}, []string{"y"}),
		nodePB("Abs", []string{"x"}, []string{"t"}),
	})
	m, err := Parse(modelPB(13, g), "")
	require.NoError(t, err)
	out, err := NewSession(m).Run(map[string]*Tensor{"x": {DType: Float, Shape: []int{2}, F32: []float32{-1, 2}}})
	require.NoError(t, err)
	require.Equal(t, []float32{-1, -2}, out["y"].F32)
}

func TestParseRejects(t *testing.T) {
	valid := modelPB(13, graphPB([]pb{nodePB("Neg", []string{"x"}, []string{"y"})}))
	cases := map[string]struct {
		b    []byte
		want string
	}{
		"lying graph length": {append(pb(nil).varint(1, 8), 0x3a, 0xff, 0xff, 0x03, 1, 2), "malformed"},
		"truncated":          {valid[:len(valid)-3], "malformed"},
		"cycle": {modelPB(13, graphPB([]pb{
			nodePB("Neg", []string{"b"}, []string{"a"}),
			nodePB("Neg", []string{"a"}, []string{"b"}),
			nodePB("Neg", []string{"x"}, []string{"y"}),
		})), "cycle"},
		"missing input": {modelPB(13, graphPB([]pb{nodePB("Add", []string{"x", "nowhere"}, []string{"y"})})), `"nowhere"`},
		"defined twice": {modelPB(13, graphPB([]pb{
			nodePB("Neg", []string{"x"}, []string{"y"}),
			nodePB("Abs", []string{"x"}, []string{"y"}),
		})), "defined twice"},
		"unsupported op": {modelPB(13, graphPB([]pb{nodePB("FrobnicateV9", []string{"x"}, []string{"y"})})), "op FrobnicateV9 (domain ai.onnx, opset 13)"},
		"unimported domain": {modelPB(13, graphPB([]pb{
			append(nodePB("Foo", []string{"x"}, []string{"y"}), pb(nil).str(7, "com.example")...),
		})), `domain "com.example"`},
		"undefined output": {modelPB(13, graphPB([]pb{nodePB("Neg", []string{"x"}, []string{"z"})})), `output "y"`},
		"lying tensor dims": {modelPB(13, graphPB([]pb{nodePB("Add", []string{"x", "w"}, []string{"y"})},
			pb(nil).msg(5, floatTensorPB("w", []int64{1 << 30, 1 << 30}, []float32{1})))), `tensor "w"`},
		"lying raw_data": {modelPB(13, graphPB([]pb{nodePB("Add", []string{"x", "w"}, []string{"y"})},
			pb(nil).msg(5, pb(nil).varint(1, 1000).varint(2, int64(Float)).str(8, "w").msg(9, pb("abcd"))))), "raw_data"},
		"negative dim": {modelPB(13, graphPB([]pb{nodePB("Add", []string{"x", "w"}, []string{"y"})},
			pb(nil).msg(5, pb(nil).varint(1, -5).varint(2, int64(Float)).str(8, "w")))), "dimension"},
		"wrong wire type": {pb(nil).varint(7, 3), "wire type"},
		"bad attribute type": {modelPB(13, graphPB([]pb{nodePB("Transpose", []string{"x"}, []string{"y"},
			pb(nil).str(1, "perm").varint(20, int64(AttrFloat)).f32(2, 1))})), "perm"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(c.b, "")
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
	_, err := Parse(cases["unsupported op"].b, "")
	require.True(t, errors.Is(err, ErrUnsupported))
}

func TestParseDeepNesting(t *testing.T) {
	// If nodes nested 100 deep through then/else branches.
	var g pb = pb(nil).msg(1, nodePB("Identity", []string{"x"}, []string{"y"})).msg(12, valueInfoPB("y", Float))
	for i := 0; i < 100; i++ {
		branch := pb(nil).str(1, "then_branch").varint(20, int64(AttrGraph)).msg(6, g)
		g = pb(nil).msg(1, nodePB("If", []string{"c"}, []string{"y"}, branch)).msg(12, valueInfoPB("y", Float))
	}
	_, err := Parse(modelPB(13, g.msg(11, valueInfoPB("c", Bool))), "")
	require.Error(t, err)
	require.Contains(t, err.Error(), "nested")
}

func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "w.bin"), []byte{0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40}, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.bin"), make([]byte, 8), 0o644))
	ext := func(loc string, kv ...string) pb {
		t := pb(nil).varint(1, 2).varint(2, int64(Float)).str(8, "w").varint(14, 1)
		t = t.msg(13, pb(nil).str(1, "location").str(2, loc))
		for i := 0; i+1 < len(kv); i += 2 {
			t = t.msg(13, pb(nil).str(1, kv[i]).str(2, kv[i+1]))
		}
		return modelPB(13, graphPB([]pb{nodePB("Add", []string{"x", "w"}, []string{"y"})}, pb(nil).msg(5, t)))
	}
	m, err := Parse(ext("w.bin", "offset", "4", "length", "8"), dir)
	require.NoError(t, err)
	out, err := NewSession(m).Run(map[string]*Tensor{"x": {DType: Float, Shape: []int{2}, F32: []float32{1, 1}}})
	require.NoError(t, err)
	require.Equal(t, []float32{2, 3}, out["y"].F32)

	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"escapes":       {ext("../secret.bin"), "outside"},
		"absolute":      {ext(filepath.Join(filepath.Dir(dir), "secret.bin")), "outside"},
		"past end":      {ext("w.bin", "offset", "8", "length", "8"), "past"},
		"wrong length":  {ext("w.bin", "offset", "0", "length", "12"), "needs 8"},
		"missing file":  {ext("nope.bin"), "external data"},
		"bad offset":    {ext("w.bin", "offset", "-1"), "offset"},
		"huge offset":   {ext("w.bin", "offset", "99999999999999999999"), "offset"},
		"no dir (Read)": {ext("w.bin", "offset", "4"), ""},
	} {
		t.Run(name, func(t *testing.T) {
			d := dir
			if name == "no dir (Read)" {
				d = ""
			}
			_, err := Parse(c.b, d)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
	if runtime.GOOS != "windows" {
		// A symlink inside the folder that points outside it.
		require.NoError(t, os.Symlink(filepath.Join(filepath.Dir(dir), "secret.bin"), filepath.Join(dir, "link.bin")))
		_, err := Parse(ext("link.bin"), dir)
		require.Error(t, err)
	}
}

func TestManyNodes(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 10_000
	}
	// A chain x -> Neg -> Neg -> ... -> y.
	var nodes pb
	prev := "x"
	for i := range n {
		out := fmt.Sprintf("v%d", i)
		if i == n-1 {
			out = "y"
		}
		nodes = nodes.msg(1, nodePB("Neg", []string{prev}, []string{out}))
		prev = out
	}
	g := append(pb(nil).str(2, "chain"), nodes...)
	g = g.msg(11, valueInfoPB("x", Float, 2)).msg(12, valueInfoPB("y", Float, 2))
	m, err := Parse(modelPB(13, g), "")
	require.NoError(t, err)
	require.Len(t, m.Graph.Nodes, n)
	if testing.Short() {
		out, err := NewSession(m).Run(map[string]*Tensor{"x": {DType: Float, Shape: []int{2}, F32: []float32{1, -2}}})
		require.NoError(t, err)
		require.Equal(t, []float32{1, -2}, out["y"].F32) // an even number of negations
	}
}

func TestRunInputChecks(t *testing.T) {
	m, err := Parse(modelPB(13, graphPB([]pb{nodePB("Neg", []string{"x"}, []string{"y"})})), "")
	require.NoError(t, err)
	s := NewSession(m)
	for name, c := range map[string]struct {
		in   map[string]*Tensor
		want string
	}{
		"missing": {map[string]*Tensor{}, `missing input "x"`},
		"extra":   {map[string]*Tensor{"x": {DType: Float, Shape: []int{2}, F32: []float32{1, 2}}, "z": {}}, `"z" is not an input`},
		"shape":   {map[string]*Tensor{"x": {DType: Float, Shape: []int{3}, F32: []float32{1, 2, 3}}}, "model wants [2]"},
		"dtype":   {map[string]*Tensor{"x": {DType: Double, Shape: []int{2}, F64: []float64{1, 2}}}, "float64"},
		"short":   {map[string]*Tensor{"x": {DType: Float, Shape: []int{2}, F32: []float32{1}}}, "needs 2 elements"},
	} {
		_, err := s.Run(c.in)
		require.Error(t, err, name)
		require.Contains(t, err.Error(), c.want, name)
		require.False(t, strings.Contains(err.Error(), "\n"), name)
	}
}

// A value of the top graph read two subgraph levels down (If inside If)
// reaches the inner branch through both nodes' implicit inputs.
func TestNestedSubgraphCaptures(t *testing.T) {
	branch := func(name string, g pb) pb {
		return pb(nil).str(1, name).varint(20, int64(AttrGraph)).msg(6, g)
	}
	out := func(name string) pb { return pb(nil).msg(12, valueInfoPB(name, Float)) }
	inner := func(op, res string) pb { // reads x from the top graph
		return append(pb(nil).str(2, "leaf").msg(1, nodePB(op, []string{"x"}, []string{res})), out(res)...)
	}
	mid := func(res string) pb {
		g := pb(nil).str(2, "mid").msg(1, nodePB("If", []string{"c2"}, []string{res},
			branch("then_branch", inner("Neg", "n"+res)), branch("else_branch", inner("Abs", "a"+res))))
		return append(g, out(res)...)
	}
	g := pb(nil).str(2, "top").
		msg(1, nodePB("If", []string{"c1"}, []string{"y"}, branch("then_branch", mid("t")), branch("else_branch", mid("e")))).
		msg(11, valueInfoPB("x", Float, 2)).
		msg(11, valueInfoPB("c1", Bool)).
		msg(11, valueInfoPB("c2", Bool)).
		msg(12, valueInfoPB("y", Float, 2))
	m, err := Parse(modelPB(13, g), "")
	require.NoError(t, err)
	require.Equal(t, []string{"c2", "x"}, m.Graph.Nodes[0].Implicit)
	s := NewSession(m)
	x := f32([]int{2}, -1, 2)
	for _, c := range []struct {
		c2   bool
		want []float32
	}{{true, []float32{1, -2}}, {false, []float32{1, 2}}} {
		got, err := s.Run(map[string]*Tensor{"x": x,
			"c1": {DType: Bool, Shape: []int{}, B: []bool{true}},
			"c2": {DType: Bool, Shape: []int{}, B: []bool{c.c2}}})
		require.NoError(t, err)
		require.Equal(t, c.want, got["y"].F32)
	}
}

// A model written by ONNX's own Python writer with its weights as external
// data (testdata/external/gen_external.py).
func TestExternalDataFromONNXWriter(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "external", "model.onnx"))
	require.NoError(t, err)
	out, err := NewSession(m).Run(map[string]*Tensor{"x": f32([]int{2, 4}, 1, 1, 1, 1, 1, 1, 1, 1)})
	require.NoError(t, err)
	require.Equal(t, []float32{1, 2, 3, 4, 5, 6, 7, 8}, out["y"].F32)
}
