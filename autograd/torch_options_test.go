package autograd

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// The PyTorch options of issue 20, checked against values PyTorch computed
// in float64 (autograd/testdata/torch_options.json, written by
// bench/torch/autograd_options.py with Debian's python3-torch): forward
// values and the gradients of sum(y ⊙ r) for a random upstream adjoint r.
// float64 must agree to about 1e-12, float32 to its own precision. Each op
// is also checked against central differences (CheckGrad).

// nums is a JSON array of numbers in which null stands for NaN.
type nums []float64

func (n *nums) UnmarshalJSON(b []byte) error {
	var raw []*float64
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*n = make(nums, len(raw))
	for i, p := range raw {
		if p == nil {
			(*n)[i] = math.NaN()
		} else {
			(*n)[i] = *p
		}
	}
	return nil
}

type optCase struct {
	Kind        string
	Approximate string
	X, R, Y, GX nums
	XS          []int
	// layernorm
	NS           []int
	W, B, GW, GB nums
	// matmul
	A      nums
	AS     []int `json:"as"`
	BS     []int
	TA, TB bool
	YS     []int
	GA     nums
	// cross-entropy
	Z, GZ     nums
	ZS        []int
	Labels    []int
	Ignore    int
	Smoothing float64
	Loss      *float64
	// pools
	K, S, P    int
	Ceil       bool
	IncludePad bool `json:"include_pad"`
	// batch norm
	Steps []struct {
		X, R, Y, GX, GW, GB, RM, RV nums
		Tracked                     int
	}
	// embedding
	Table, GT nums
	TS        []int
	Idx       []int
	Pad       int
	// upsample
	Mode         string
	AlignCorners bool `json:"align_corners"`
	Out          []int
}

func loadTorchCases(t *testing.T) []optCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_options.json")
	require.NoError(t, err)
	var f struct {
		Torch string
		Cases []optCase
	}
	require.NoError(t, json.Unmarshal(b, &f))
	return f.Cases
}

// dense converts fixture values to a T tensor of the given shape.
func dense[T tensor.Float](v nums, shape ...int) *tensor.Dense[T] {
	d := tensor.New[T](shape...)
	for i, x := range v {
		d.Data()[i] = T(x)
	}
	return d
}

// requireNear compares got with PyTorch's want elementwise: |got − want| ≤
// tol·(1 + |want|); NaN must meet NaN.
func requireNear[T tensor.Float](t *testing.T, what string, want nums, got *tensor.Dense[T], tol float64) {
	t.Helper()
	require.NotNil(t, got, what)
	g := got.Contiguous().Data()
	require.Len(t, g, len(want), what)
	for i, w := range want {
		x := float64(g[i])
		if math.IsNaN(w) {
			require.True(t, math.IsNaN(x), "%s[%d]: got %v, want NaN", what, i, x)
			continue
		}
		require.LessOrEqual(t, math.Abs(x-w), tol*(1+math.Abs(w)), "%s[%d]: got %v, want %v", what, i, x, w)
	}
}

// tolOf is the comparison tolerance for T: float64 agrees with PyTorch's
// float64 to rounding; float32 inputs are PyTorch's rounded, so the
// results agree to float32's precision, a few ulp amplified by the op.
func tolOf[T tensor.Float]() float64 {
	if is32[T]() {
		return 2e-5
	}
	return 1e-12
}

func shapeProd(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func TestTorchOptions(t *testing.T) {
	cs := loadTorchCases(t)
	count := map[string]int{}
	for _, c := range cs {
		count[c.Kind]++
		name := fmt.Sprintf("%s/%d", c.Kind, count[c.Kind])
		t.Run(name+"/f64", func(t *testing.T) { runTorchCase[float64](t, c) })
		t.Run(name+"/f32", func(t *testing.T) { runTorchCase[float32](t, c) })
	}
}

func runTorchCase[T tensor.Float](t *testing.T, c optCase) {
	tol := tolOf[T]()
	tp := NewTape[T]()
	seedBack := func(y *Var[T], r nums) {
		t.Helper()
		require.NoError(t, tp.BackwardSeed(y, dense[T](r, y.Shape()...)))
	}
	switch c.Kind {
	case "gelu":
		x := NewVar(dense[T](c.X, c.XS...), true)
		var y *Var[T]
		if c.Approximate == "none" {
			y = tp.GeluErf(x)
		} else {
			y = tp.Gelu(x)
		}
		seedBack(y, c.R)
		requireNear(t, "y", c.Y, y.Value(), tol)
		requireNear(t, "gx", c.GX, x.Grad(), tol)
	case "layernorm":
		x := NewVar(dense[T](c.X, c.XS...), true)
		var w, b *Var[T]
		if c.W != nil {
			w, b = NewVar(dense[T](c.W, c.NS...), true), NewVar(dense[T](c.B, c.NS...), true)
		}
		y := tp.LayerNormShape(x, c.NS, w, b, 1e-5)
		seedBack(y, c.R)
		requireNear(t, "y", c.Y, y.Value(), tol)
		requireNear(t, "gx", c.GX, x.Grad(), tol)
		if w != nil {
			requireNear(t, "gw", c.GW, w.Grad(), tol)
			requireNear(t, "gb", c.GB, b.Grad(), tol)
		}
	case "matmul":
		a, b := NewVar(dense[T](c.A, c.AS...), true), NewVar(dense[T](c.B, c.BS...), true)
		y := tp.BroadcastMatMul(a, b, transFlag(c.TA), transFlag(c.TB))
		require.Equal(t, c.YS, y.Shape())
		seedBack(y, c.R)
		requireNear(t, "y", c.Y, y.Value(), tol)
		requireNear(t, "ga", c.GA, a.Grad(), tol)
		requireNear(t, "gb", c.GB, b.Grad(), tol)
	case "ce":
		z := NewVar(dense[T](c.Z, c.ZS...), true)
		y := tp.CrossEntropyWith(z, c.Labels, CrossEntropyOptions{Ignore: true, IgnoreIndex: c.Ignore, LabelSmoothing: c.Smoothing})
		require.NoError(t, tp.BackwardSeed(y, tensor.Full[T](T(c.R[0]))))
		want := math.NaN()
		if c.Loss != nil {
			want = *c.Loss
		}
		requireNear(t, "loss", nums{want}, y.Value(), tol)
		requireNear(t, "gz", c.GZ, z.Grad(), tol)
	case "maxpool", "avgpool":
		x := NewVar(dense[T](c.X, c.XS...), true)
		o := Pool2dOptions{Kernel: [2]int{c.K, c.K}, Stride: [2]int{c.S, c.S}, Padding: [2]int{c.P, c.P},
			CeilMode: c.Ceil, ExcludePad: !c.IncludePad}
		var y *Var[T]
		if c.Kind == "maxpool" {
			y = tp.MaxPool2d(x, o)
		} else {
			y = tp.AvgPool2d(x, o)
		}
		require.Equal(t, c.YS, y.Shape())
		seedBack(y, c.R)
		requireNear(t, "y", c.Y, y.Value(), tol)
		requireNear(t, "gx", c.GX, x.Grad(), tol)
	case "bn_cumulative":
		ch := c.XS[1]
		rm, rv := tensor.New[T](ch), tensor.Full[T](1, ch)
		for i, st := range c.Steps {
			tp.Reset()
			x := NewVar(dense[T](st.X, c.XS...), true)
			gamma, beta := NewVar(dense[T](c.W, ch), true), NewVar(dense[T](c.B, ch), true)
			y := tp.BatchNorm2d(x, gamma, beta, rm, rv, BatchNormOptions{Training: true, CumulativeAverage: true, BatchesTracked: int64(st.Tracked)})
			seedBack(y, st.R)
			step := fmt.Sprintf("step %d ", i)
			requireNear(t, step+"y", st.Y, y.Value(), tol)
			requireNear(t, step+"gx", st.GX, x.Grad(), tol)
			requireNear(t, step+"gw", st.GW, gamma.Grad(), tol)
			requireNear(t, step+"gb", st.GB, beta.Grad(), tol)
			requireNear(t, step+"running mean", st.RM, rm, tol)
			requireNear(t, step+"running var", st.RV, rv, tol)
		}
	case "embedding":
		table := NewVar(dense[T](c.Table, c.TS...), true)
		y := tp.EmbeddingPadding(table, c.Idx, c.Pad)
		seedBack(y, c.R)
		requireNear(t, "y", c.Y, y.Value(), tol)
		requireNear(t, "gtable", c.GT, table.Grad(), tol)
	case "upsample":
		x := NewVar(dense[T](c.X, c.XS...), true)
		var y *Var[T]
		if c.Mode == "nearest" {
			y = tp.UpsampleNearest2d(x, c.Out[0], c.Out[1])
		} else {
			y = tp.UpsampleBilinear2d(x, c.Out[0], c.Out[1], c.AlignCorners)
		}
		seedBack(y, c.R)
		requireNear(t, "y", c.Y, y.Value(), tol)
		requireNear(t, "gx", c.GX, x.Grad(), tol)
	default:
		t.Fatalf("kind %q unknown", c.Kind)
	}
}
