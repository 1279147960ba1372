package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadModelCase loads testdata/models/NAME.onnx and its committed inputs
// (NAME.in.INPUT.npy, made by onnxops' export script).
func loadModelCase(t testing.TB, name string) (*Model, map[string]*Tensor) {
	m, err := Load(filepath.Join("testdata", "models", name+".onnx"))
	require.NoError(t, err)
	in := map[string]*Tensor{}
	for _, v := range m.Graph.Inputs {
		b, err := os.ReadFile(filepath.Join("testdata", "models", name+".in."+v.Name+".npy"))
		require.NoError(t, err)
		x, err := ReadNPY(b)
		require.NoError(t, err)
		in[v.Name] = x
	}
	return m, in
}

var sessionModels = []string{"tiny_cnn_op17", "tiny_transformer_op17", "tiny_decoder_op13", "tiny_mlp_op13", "tiny_dwconv_op17"}

// Concurrent Run calls on one session give the serial result.
func TestSessionConcurrentRuns(t *testing.T) {
	for _, name := range sessionModels {
		t.Run(name, func(t *testing.T) {
			m, in := loadModelCase(t, name)
			s := NewSession(m)
			want, err := s.Run(in)
			require.NoError(t, err)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 3 {
						got, err := s.Run(in)
						if err != nil {
							errs <- err
							return
						}
						for k, w := range want {
							if got[k].String() != w.String() || !equalF32(got[k].F32, w.F32) {
								errs <- os.ErrInvalid
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
		})
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// Repeated RunInto with fixed shapes reuses every buffer.
func TestSessionSteadyStateAllocs(t *testing.T) {
	for _, name := range sessionModels {
		t.Run(name, func(t *testing.T) {
			m, in := loadModelCase(t, name)
			s := NewSession(m)
			out, err := s.Run(in)
			require.NoError(t, err)
			allocs := testing.AllocsPerRun(5, func() {
				if err := s.RunInto(in, out); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%s: %.0f allocations per run", name, allocs)
		})
	}
}

// A graph of shape and elementwise ops runs without allocating once warm.
func TestSessionZeroAllocs(t *testing.T) {
	i64 := func(name string, vals ...int64) pb {
		b := pb(nil).varint(1, int64(len(vals))).varint(2, int64(Int64)).str(8, name)
		for _, v := range vals {
			b = b.varint(7, v)
		}
		return pb(nil).msg(5, b)
	}
	perm := pb(nil).str(1, "perm").varint(20, int64(AttrInts)).varint(8, 1).varint(8, 0)
	axis := pb(nil).str(1, "axis").varint(20, int64(AttrInt)).varint(3, 0)
	axis1 := pb(nil).str(1, "axis").varint(20, int64(AttrInt)).varint(3, 1)
	g := pb(nil).str(2, "g").
		msg(1, nodePB("Add", []string{"x", "w"}, []string{"a"})).          // [2 3] + [3]
		msg(1, nodePB("Transpose", []string{"a"}, []string{"t"}, perm)).   // [3 2]
		msg(1, nodePB("Reshape", []string{"t", "shape"}, []string{"r"})).  // [6]
		msg(1, nodePB("Unsqueeze", []string{"r", "axes"}, []string{"u"})). // [1 6]
		msg(1, nodePB("Greater", []string{"u", "w0"}, []string{"c"})).     // [1 6]
		msg(1, nodePB("Where", []string{"c", "u", "w0"}, []string{"m"})).  // [1 6]
		msg(1, nodePB("Split", []string{"m", "split"}, []string{"s1", "s2"}, axis1)).
		msg(1, nodePB("Concat", []string{"s2", "s1"}, []string{"k"}, axis1)). // [1 6]
		msg(1, nodePB("Gather", []string{"k", "idx"}, []string{"y"}, axis)).  // [2 6]
		msg(1, nodePB("Expand", []string{"w0", "shape"}, []string{"e"})).
		msg(1, nodePB("Slice", []string{"e", "st", "en"}, []string{"z"})).
		msg(11, valueInfoPB("x", Float, 2, 3)).
		msg(12, valueInfoPB("y", Float, 2, 6)).
		msg(12, valueInfoPB("z", Float, 4))
	g = append(g, pb(nil).msg(5, floatTensorPB("w", []int64{3}, []float32{1, -2, 3}))...)
	g = append(g, pb(nil).msg(5, floatTensorPB("w0", []int64{1}, []float32{0}))...)
	g = append(g, i64("shape", 6)...)
	g = append(g, i64("axes", 0)...)
	g = append(g, i64("split", 2, 4)...)
	g = append(g, i64("idx", 0, 0)...)
	g = append(g, i64("st", 1)...)
	g = append(g, i64("en", 5)...)
	m, err := Parse(modelPB(13, g), "")
	require.NoError(t, err)
	s := NewSession(m)
	in := map[string]*Tensor{"x": {DType: Float, Shape: []int{2, 3}, F32: []float32{0, 1, 2, 3, 4, 5}}}
	out, err := s.Run(in)
	require.NoError(t, err)
	// a = [[1 -1 5] [4 2 8]]; t = [[1 4] [-1 2] [5 8]]; r = [1 4 -1 2 5 8];
	// m = max(r, 0); split 2|4 swapped: [0 2 5 8 1 4]; two rows of it.
	require.Equal(t, []int{2, 6}, out["y"].Shape)
	require.Equal(t, []float32{0, 2, 5, 8, 1, 4, 0, 2, 5, 8, 1, 4}, out["y"].F32)
	require.Equal(t, []float32{0, 0, 0, 0}, out["z"].F32)
	allocs := testing.AllocsPerRun(10, func() {
		if err := s.RunInto(in, out); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

// Lifetime planning: a chain needs two buffers, whatever its length; a
// value read later keeps its buffer until then.
func TestPlanBuffers(t *testing.T) {
	var nodes []pb
	prev := "x"
	for i := range 10 {
		out := fmt.Sprintf("v%d", i)
		nodes = append(nodes, nodePB("Neg", []string{prev}, []string{out}))
		prev = out
	}
	// y = v9 + v0: v0 stays live across the chain.
	nodes = append(nodes, nodePB("Add", []string{"v9", "v0"}, []string{"y"}))
	m, err := Parse(modelPB(13, graphPB(nodes)), "")
	require.NoError(t, err)
	require.Equal(t, 3, m.Graph.plan.nbufs)
	out, err := NewSession(m).Run(map[string]*Tensor{"x": f32([]int{2}, 1, 2)})
	require.NoError(t, err)
	// v0 = -x, v9 = (-1)^10 x = x, so y = x - x = 0.
	require.Equal(t, []float32{0, 0}, out["y"].F32)
}

// BenchmarkSessionRun times steady-state RunInto on the small committed
// models and reports allocations per run.
func BenchmarkSessionRun(b *testing.B) {
	for _, name := range sessionModels {
		b.Run("model="+name, func(b *testing.B) {
			m, in := loadModelCase(b, name)
			s := NewSession(m)
			out, err := s.Run(in)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.RunInto(in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Run's outputs belong to the caller: a later run does not change them,
// and the inputs are left as they were.
func TestRunOutputsAreOwned(t *testing.T) {
	m, err := Parse(modelPB(13, graphPB([]pb{nodePB("Neg", []string{"x"}, []string{"t"}), nodePB("Abs", []string{"t"}, []string{"y"})})), "")
	require.NoError(t, err)
	s := NewSession(m)
	x1 := f32([]int{2}, -1, 2)
	y1, err := s.Run(map[string]*Tensor{"x": x1})
	require.NoError(t, err)
	_, err = s.Run(map[string]*Tensor{"x": f32([]int{2}, 5, -6)})
	require.NoError(t, err)
	require.Equal(t, []float32{1, 2}, y1["y"].F32)
	require.Equal(t, []float32{-1, 2}, x1.F32)
}
