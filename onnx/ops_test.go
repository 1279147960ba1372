package onnx

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Per-op edge cases the conformance data misses. Expected values are worked
// out by hand (NumPy semantics) in the comments.

func f32(shape []int, v ...float32) *Tensor {
	return &Tensor{DType: Float, Shape: shape, F32: v}
}

func i64t(shape []int, v ...int64) *Tensor {
	return &Tensor{DType: Int64, Shape: shape, I64: v}
}

func aInt(name string, v int64) *Attribute { return &Attribute{Name: name, Type: AttrInt, I: v} }
func aInts(name string, v ...int64) *Attribute {
	return &Attribute{Name: name, Type: AttrInts, Ints: v}
}
func aStr(name, v string) *Attribute { return &Attribute{Name: name, Type: AttrString, S: v} }

// runOp builds op at opset with attrs and runs it on in, with nout outputs.
func runOp(t *testing.T, op string, opset, nout int, attrs []*Attribute, in ...*Tensor) ([]*Tensor, error) {
	t.Helper()
	n := &Node{OpType: op, Opset: opset, Attrs: attrs}
	for i, x := range in {
		if x == nil {
			n.Inputs = append(n.Inputs, "")
		} else {
			n.Inputs = append(n.Inputs, string(rune('a'+i)))
		}
	}
	out := make([]*Tensor, nout)
	for i := range out {
		n.Outputs = append(n.Outputs, string(rune('p'+i)))
		out[i] = &Tensor{}
	}
	ctor := lookup("", op, opset)
	require.NotNil(t, ctor, "%s at opset %d", op, opset)
	k, err := ctor(n)
	if err == nil {
		err = n.Err()
	}
	if err != nil {
		return nil, err
	}
	if err := runKernel(k, in, out); err != nil {
		return nil, err
	}
	for _, o := range out {
		o.normalize()
	}
	return out, nil
}

func TestOpsEdgeCases(t *testing.T) {
	type tc struct {
		name  string
		op    string
		opset int
		attrs []*Attribute
		in    []*Tensor
		want  []*Tensor
	}
	empty23 := f32([]int{0, 3})
	cases := []tc{
		// [2,1,3] + [4,1] -> [2,4,3]: out[i][j][k] = a[i][0][k] + b[j][0]
		{"Add broadcast both ways", "Add", 14, nil,
			[]*Tensor{f32([]int{2, 1, 3}, 0, 1, 2, 3, 4, 5), f32([]int{4, 1}, 0, 10, 20, 30)},
			[]*Tensor{f32([]int{2, 4, 3}, 0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32, 3, 4, 5, 13, 14, 15, 23, 24, 25, 33, 34, 35)}},
		{"Add empty", "Add", 14, nil, []*Tensor{empty23, f32([]int{3}, 1, 2, 3)}, []*Tensor{f32([]int{0, 3})}},
		{"Div int truncates", "Div", 14, nil, []*Tensor{i64t([]int{3}, 7, -7, 7), i64t([]int{3}, 2, 2, -2)}, []*Tensor{i64t([]int{3}, 3, -3, -3)}},
		{"Mod int sign of divisor", "Mod", 13, nil, []*Tensor{i64t([]int{3}, 7, -7, 7), i64t([]int{3}, 3, 3, -3)}, []*Tensor{i64t([]int{3}, 1, 2, -2)}},
		{"Concat with empty", "Concat", 13, []*Attribute{aInt("axis", -2)},
			[]*Tensor{empty23, f32([]int{1, 3}, 1, 2, 3)}, []*Tensor{f32([]int{1, 3}, 1, 2, 3)}},
		// x = 0..9; x[8:1:-3] = 8, 5, 2
		{"Slice negative step", "Slice", 13, nil,
			[]*Tensor{f32([]int{10}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), i64t([]int{1}, -2), i64t([]int{1}, 1), i64t([]int{1}, -1), i64t([]int{1}, -3)},
			[]*Tensor{f32([]int{3}, 8, 5, 2)}},
		{"Slice clamps and empties", "Slice", 13, nil,
			[]*Tensor{f32([]int{2, 2}, 1, 2, 3, 4), i64t([]int{2}, 5, 0), i64t([]int{2}, 9, 1000), nil, nil},
			[]*Tensor{f32([]int{0, 2})}},
		{"Gather negative index", "Gather", 13, []*Attribute{aInt("axis", 1)},
			[]*Tensor{f32([]int{2, 3}, 1, 2, 3, 4, 5, 6), i64t([]int{2}, -1, 0)}, []*Tensor{f32([]int{2, 2}, 3, 1, 6, 4)}},
		{"Gather scalar index", "Gather", 13, nil,
			[]*Tensor{f32([]int{2, 3}, 1, 2, 3, 4, 5, 6), i64t([]int{}, 1)}, []*Tensor{f32([]int{3}, 4, 5, 6)}},
		{"Reshape 0 and -1", "Reshape", 14, nil,
			[]*Tensor{f32([]int{2, 3, 1}, 1, 2, 3, 4, 5, 6), i64t([]int{2}, 0, -1)}, []*Tensor{f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)}},
		{"Reshape allowzero empty", "Reshape", 14, []*Attribute{aInt("allowzero", 1)},
			[]*Tensor{empty23, i64t([]int{3}, 3, 0, 7)}, []*Tensor{f32([]int{3, 0, 7})}},
		{"Squeeze opset 11 attribute", "Squeeze", 11, []*Attribute{aInts("axes", -1)},
			[]*Tensor{f32([]int{2, 1}, 1, 2)}, []*Tensor{f32([]int{2}, 1, 2)}},
		{"Squeeze opset 13 input", "Squeeze", 13, nil,
			[]*Tensor{f32([]int{1, 2, 1}, 1, 2), i64t([]int{1}, 0)}, []*Tensor{f32([]int{2, 1}, 1, 2)}},
		{"Unsqueeze negative axes", "Unsqueeze", 13, nil,
			[]*Tensor{f32([]int{2}, 1, 2), i64t([]int{2}, -1, 0)}, []*Tensor{f32([]int{1, 2, 1}, 1, 2)}},
		{"ReduceSum noop_with_empty_axes", "ReduceSum", 13, []*Attribute{aInt("noop_with_empty_axes", 1)},
			[]*Tensor{f32([]int{2}, 1, 2)}, []*Tensor{f32([]int{2}, 1, 2)}},
		{"ReduceSum empty input", "ReduceSum", 13, []*Attribute{aInt("keepdims", 0)},
			[]*Tensor{empty23, i64t([]int{1}, 0)}, []*Tensor{f32([]int{3}, 0, 0, 0)}},
		{"ReduceMean negative axis attr", "ReduceMean", 13, []*Attribute{aInts("axes", -1)},
			[]*Tensor{f32([]int{2, 2}, 1, 2, 3, 5)}, []*Tensor{f32([]int{2, 1}, 1.5, 4)}},
		{"ReduceMax int64", "ReduceMax", 18, []*Attribute{aInt("keepdims", 0)},
			[]*Tensor{i64t([]int{2, 2}, -5, 2, 7, -1), i64t([]int{1}, 0)}, []*Tensor{i64t([]int{2}, 7, 2)}},
		{"Where broadcast", "Where", 16, nil,
			[]*Tensor{{DType: Bool, Shape: []int{2, 1}, B: []bool{true, false}}, f32([]int{3}, 1, 2, 3), f32([]int{}, -1)},
			[]*Tensor{f32([]int{2, 3}, 1, 2, 3, -1, -1, -1)}},
		{"Transpose scalar", "Transpose", 13, nil, []*Tensor{f32([]int{}, 7)}, []*Tensor{f32([]int{}, 7)}},
		{"Transpose default reverses", "Transpose", 13, nil,
			[]*Tensor{f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, []*Tensor{f32([]int{3, 2}, 1, 4, 2, 5, 3, 6)}},
		{"Cast float to int truncates", "Cast", 13, []*Attribute{aInt("to", int64(Int64))},
			[]*Tensor{f32([]int{3}, 2.7, -2.7, 0.5)}, []*Tensor{i64t([]int{3}, 2, -2, 0)}},
		{"Cast int64 to int32 wraps", "Cast", 13, []*Attribute{aInt("to", int64(Int32))},
			[]*Tensor{i64t([]int{2}, 3_000_000_000, -1)}, []*Tensor{{DType: Int32, Shape: []int{2}, I64: []int64{3_000_000_000 - 1<<32, -1}}}},
		{"Cast to float16 rounds", "Cast", 13, []*Attribute{aInt("to", int64(Float16))},
			[]*Tensor{f32([]int{2}, 1+1.0/4096, 65520)}, []*Tensor{{DType: Float16, Shape: []int{2}, F32: []float32{1, float32(inf())}}}},
		{"Expand lower rank shape", "Expand", 13, nil,
			[]*Tensor{f32([]int{2, 1}, 1, 2), i64t([]int{1}, 3)}, []*Tensor{f32([]int{2, 3}, 1, 1, 1, 2, 2, 2)}},
		{"Range negative delta", "Range", 11, nil,
			[]*Tensor{i64t([]int{}, 10), i64t([]int{}, 4), i64t([]int{}, -3)}, []*Tensor{i64t([]int{2}, 10, 7)}},
		{"Range empty", "Range", 11, nil,
			[]*Tensor{f32([]int{}, 1), f32([]int{}, 1), f32([]int{}, 0.5)}, []*Tensor{f32([]int{0})}},
		// reflect pads [1 2 3] by 2 left, 1 right: 3 2 | 1 2 3 | 2
		{"Pad reflect", "Pad", 13, []*Attribute{aStr("mode", "reflect")},
			[]*Tensor{f32([]int{3}, 1, 2, 3), i64t([]int{2}, 2, 1)}, []*Tensor{f32([]int{6}, 3, 2, 1, 2, 3, 2)}},
		{"Pad edge", "Pad", 13, []*Attribute{aStr("mode", "edge")},
			[]*Tensor{f32([]int{2}, 1, 2), i64t([]int{2}, 1, 2)}, []*Tensor{f32([]int{5}, 1, 1, 2, 2, 2)}},
		{"Pad negative crops", "Pad", 13, nil,
			[]*Tensor{f32([]int{4}, 1, 2, 3, 4), i64t([]int{2}, -1, 1), f32([]int{}, 9)}, []*Tensor{f32([]int{4}, 2, 3, 4, 9)}},
		{"Split opset 18 uneven num_outputs", "Split", 18, []*Attribute{aInt("num_outputs", 2)},
			[]*Tensor{f32([]int{3}, 1, 2, 3)}, []*Tensor{f32([]int{2}, 1, 2), f32([]int{1}, 3)}},
		{"Split opset 11 attribute", "Split", 11, []*Attribute{aInts("split", 1, 2)},
			[]*Tensor{f32([]int{3}, 1, 2, 3)}, []*Tensor{f32([]int{1}, 1), f32([]int{2}, 2, 3)}},
		{"Shape start end", "Shape", 15, []*Attribute{aInt("start", -2), aInt("end", 10)},
			[]*Tensor{f32([]int{2, 3, 4})}, []*Tensor{i64t([]int{2}, 3, 4)}},
		{"Equal strings", "Equal", 19, nil,
			[]*Tensor{{DType: String, Shape: []int{2}, S: []string{"a", "b"}}, {DType: String, Shape: []int{}, S: []string{"b"}}},
			[]*Tensor{{DType: Bool, Shape: []int{2}, B: []bool{false, true}}}},
		{"Max propagates NaN", "Max", 13, nil,
			[]*Tensor{f32([]int{2}, float32(nan()), 1), f32([]int{2}, 0, 2)}, []*Tensor{f32([]int{2}, float32(nan()), 2)}},
		{"CumSum reverse exclusive", "CumSum", 14, []*Attribute{aInt("reverse", 1), aInt("exclusive", 1)},
			[]*Tensor{f32([]int{3}, 1, 2, 3), i64t([]int{}, 0)}, []*Tensor{f32([]int{3}, 5, 3, 0)}},
		{"Trilu lower k=-1", "Trilu", 14, []*Attribute{aInt("upper", 0)},
			[]*Tensor{f32([]int{2, 2}, 1, 2, 3, 4), i64t([]int{}, -1)}, []*Tensor{f32([]int{2, 2}, 0, 0, 3, 0)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := runOp(t, c.op, c.opset, len(c.want), c.attrs, c.in...)
			require.NoError(t, err)
			for i, w := range c.want {
				require.NoError(t, compareTensors(got[i], w), "output %d: %v", i, got[i])
			}
		})
	}
}

func TestOpsErrors(t *testing.T) {
	cases := []struct {
		name  string
		op    string
		opset int
		attrs []*Attribute
		in    []*Tensor
	}{
		{"Add shapes do not broadcast", "Add", 14, nil, []*Tensor{f32([]int{2}, 1, 2), f32([]int{3}, 1, 2, 3)}},
		{"Add mixed types", "Add", 14, nil, []*Tensor{f32([]int{1}, 1), i64t([]int{1}, 1)}},
		{"Reshape wrong size", "Reshape", 14, nil, []*Tensor{f32([]int{3}, 1, 2, 3), i64t([]int{1}, 2)}},
		{"Reshape two -1", "Reshape", 14, nil, []*Tensor{f32([]int{4}, 1, 2, 3, 4), i64t([]int{2}, -1, -1)}},
		{"Gather index out of range", "Gather", 13, nil, []*Tensor{f32([]int{2}, 1, 2), i64t([]int{1}, 2)}},
		{"Gather float indices", "Gather", 13, nil, []*Tensor{f32([]int{2}, 1, 2), f32([]int{1}, 0)}},
		{"Transpose bad perm", "Transpose", 13, []*Attribute{aInts("perm", 0, 0)}, []*Tensor{f32([]int{1, 1}, 1)}},
		{"Concat axis out of range", "Concat", 13, []*Attribute{aInt("axis", 2)}, []*Tensor{f32([]int{1, 1}, 1)}},
		{"Squeeze non-1 axis", "Squeeze", 13, nil, []*Tensor{f32([]int{2}, 1, 2), i64t([]int{1}, 0)}},
		{"Expand huge", "Expand", 13, nil, []*Tensor{f32([]int{1}, 1), i64t([]int{3}, 1<<20, 1<<20, 1<<20)}},
		{"Range zero delta", "Range", 11, nil, []*Tensor{i64t([]int{}, 0), i64t([]int{}, 4), i64t([]int{}, 0)}},
		{"Split does not sum", "Split", 13, nil, []*Tensor{f32([]int{3}, 1, 2, 3), i64t([]int{2}, 1, 1)}},
		{"Slice step 0", "Slice", 13, nil, []*Tensor{f32([]int{3}, 1, 2, 3), i64t([]int{1}, 0), i64t([]int{1}, 2), nil, i64t([]int{1}, 0)}},
		{"Where non-bool condition", "Where", 16, nil, []*Tensor{f32([]int{1}, 1), f32([]int{1}, 1), f32([]int{1}, 1)}},
		{"TopK k too large", "TopK", 11, nil, []*Tensor{f32([]int{2}, 1, 2), i64t([]int{1}, 3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nout := 1
			if c.op == "Split" || c.op == "TopK" {
				nout = 2
			}
			_, err := runOp(t, c.op, c.opset, nout, c.attrs, c.in...)
			require.Error(t, err)
			require.NotContains(t, err.Error(), "panic")
		})
	}
}

func inf() float64  { return 1 / zero() }
func nan() float64  { return zero() / zero() }
func zero() float64 { return 0 }

func TestLegacyBroadcast(t *testing.T) {
	a := f32([]int{2, 3, 2}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	// Opset 6, broadcast=1, axis=1: B [3] lines up with A's axis 1.
	got, err := runOp(t, "Add", 6, 1, []*Attribute{aInt("broadcast", 1), aInt("axis", 1)}, a, f32([]int{3}, 100, 200, 300))
	require.NoError(t, err)
	require.NoError(t, compareTensors(got[0], f32([]int{2, 3, 2}, 100, 101, 202, 203, 304, 305, 106, 107, 208, 209, 310, 311)))
	// Without axis, B lines up with the trailing axes, as in NumPy.
	got, err = runOp(t, "Mul", 6, 1, []*Attribute{aInt("broadcast", 1)}, a, f32([]int{2}, 1, -1))
	require.NoError(t, err)
	require.NoError(t, compareTensors(got[0], f32([]int{2, 3, 2}, 0, -1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11)))
	// broadcast=0 needs equal shapes.
	_, err = runOp(t, "Sub", 6, 1, nil, a, f32([]int{2}, 1, 1))
	require.Error(t, err)
}
