package onnx

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The Shape → Gather → Unsqueeze → Concat chain of a static input folds
// away, leaving one Reshape, and the folded graph computes what the
// unfolded one does.
func TestFoldShapeChain(t *testing.T) {
	i64 := func(name string, vals ...int64) pb {
		b := pb(nil)
		if name != "zero" { // "zero" is a scalar: no dims
			b = b.varint(1, int64(len(vals)))
		}
		b = b.varint(2, int64(Int64)).str(8, name)
		for _, v := range vals {
			b = b.varint(7, v)
		}
		return pb(nil).msg(5, b)
	}
	axis0 := pb(nil).str(1, "axis").varint(20, int64(AttrInt)).varint(3, 0)
	g := pb(nil).str(2, "g").
		msg(1, nodePB("Shape", []string{"x"}, []string{"s"})).
		msg(1, nodePB("Gather", []string{"s", "zero"}, []string{"d0"}, axis0)).
		msg(1, nodePB("Unsqueeze", []string{"d0", "axes"}, []string{"u"})).
		msg(1, nodePB("Concat", []string{"u", "minus1"}, []string{"shape"}, axis0)).
		msg(1, nodePB("Reshape", []string{"x", "shape"}, []string{"y"})).
		msg(11, valueInfoPB("x", Float, 2, 3, 2)).
		msg(12, valueInfoPB("y", Float, 2, 6))
	g = append(g, i64("zero", 0)...)
	g = append(g, i64("axes", 0)...)
	g = append(g, i64("minus1", -1)...)
	run := func(fold bool) (*Model, *Tensor) {
		prev := foldEnabled
		foldEnabled = fold
		defer func() { foldEnabled = prev }()
		m, err := Parse(modelPB(13, g), "")
		require.NoError(t, err)
		x := NewTensor(Float, 2, 3, 2)
		for i := range x.F32 {
			x.F32[i] = float32(i)
		}
		out, err := NewSession(m).Run(map[string]*Tensor{"x": x})
		require.NoError(t, err)
		return m, out["y"]
	}
	mf, yf := run(true)
	mu, yu := run(false)
	require.Len(t, mu.Graph.Nodes, 5)
	require.Len(t, mf.Graph.Nodes, 1)
	require.Equal(t, "Reshape", mf.Graph.Nodes[0].OpType)
	require.Equal(t, []int{2, 6}, yf.Shape)
	require.Equal(t, yu.String(), yf.String())
	require.Equal(t, yu.F32, yf.F32)
}
