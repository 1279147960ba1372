package autograd

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/testenv"
	"github.com/adjoint-go/adjoint/tensor"
)

// TestCNNOpsAgainstTorch checks Conv2d, MaxPool2d, AvgPool2d and
// BatchNorm2d, forward and every gradient, in float64 against values
// PyTorch 1.13 computed once for the same inputs and that are committed in
// testdata/torch_cnn.json.gz (cases and results), so it needs no Python.
// bench/torch/cnn_ops.py records the fixture from the cases that
// torchCNNCases draws (see its doc for the two commands);
// TestCNNOpsAgainstLiveTorch reruns PyTorch on them where it is installed.

const torchCNNFixture = "testdata/torch_cnn.json.gz"

var torchCasesOut = flag.String("torch.cases", "",
	"write TestCNNOpsAgainstTorch's case inputs as JSON to this `file`, for bench/torch/cnn_ops.py record, and skip the test")

// torchPython returns a python3 that imports torch, or skips t. CI does not
// install torch; there only the recorded fixture is checked.
func torchPython(t *testing.T) string {
	t.Helper()
	testenv.MustHaveExec(t)
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := osexec.LookPath(p)
		if err != nil {
			continue
		}
		if osexec.Command(path, "-c", "import torch").Run() == nil {
			return path
		}
	}
	t.Skip("no python3 with torch (tried /usr/bin/python3 and python3 on PATH)")
	return ""
}

type torchCase struct {
	Name   string    `json:"name"`
	Kind   string    `json:"kind"`
	X      []float64 `json:"x,omitempty"`
	XS     []int     `json:"xs"`
	W      []float64 `json:"w,omitempty"`
	WS     []int     `json:"ws,omitempty"`
	B      []float64 `json:"b,omitempty"`
	R      []float64 `json:"r,omitempty"`
	Stride [2]int    `json:"stride"`
	Pad    [2]int    `json:"pad"`
	Dil    [2]int    `json:"dil"`
	Groups int       `json:"groups,omitempty"`
	Kernel [2]int    `json:"kernel"`
	Gamma  []float64 `json:"gamma,omitempty"`
	Beta   []float64 `json:"beta,omitempty"`
	Steps  []bnStep  `json:"steps,omitempty"`
}

// check runs our side of c and compares it with PyTorch's want.
func (c *torchCase) check(t *testing.T, want torchResult) {
	switch c.Kind {
	case "conv":
		checkConv(t, c, want)
	case "max", "avg":
		checkPool(t, c, want)
	case "bn":
		checkBN(t, c, want)
	default:
		t.Fatalf("unknown case kind %q", c.Kind)
	}
}

type bnStep struct {
	X     []float64 `json:"x"`
	R     []float64 `json:"r"`
	Train bool      `json:"train"`
}

type torchResult struct {
	Y     []float64     `json:"y"`
	YS    []int         `json:"ys"`
	GX    []float64     `json:"gx"`
	GW    []float64     `json:"gw"`
	GB    []float64     `json:"gb"`
	GG    []float64     `json:"gg"`
	RM    []float64     `json:"rm"`
	RV    []float64     `json:"rv"`
	Steps []torchResult `json:"steps"`
}

func randVals(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// closeTo requires got ≈ want elementwise, |got − want| ≤ 1e-12·(1 + |want|):
// two float64 implementations that sum in different orders, nothing more.
func closeTo(t *testing.T, what string, want, got []float64) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= 1e-12*(1+math.Abs(want[i]))) {
			require.Failf(t, "differs from PyTorch", "%s[%d]: PyTorch %v, ours %v (diff %g)", what, i, want[i], got[i], d)
		}
	}
}

// seeded runs f on a fresh tape and back-propagates sum(y ⊙ r) as the seed
// r, returning y.
func seeded(t *testing.T, r []float64, f func(tp *Tape[float64]) *Var[float64]) *Var[float64] {
	t.Helper()
	tp := NewTape[float64]()
	y := f(tp)
	require.NoError(t, tp.BackwardSeed(y, tensor.FromSlice(r, y.Shape()...)))
	return y
}

func torchConv(rng *rand.Rand, xs, ws []int, stride, pad, dil [2]int, groups int) *torchCase {
	c := &torchCase{Kind: "conv", XS: xs, WS: ws, Stride: stride, Pad: pad, Dil: dil, Groups: groups}
	c.X, c.W, c.B = randVals(rng, prod(xs)), randVals(rng, prod(ws)), randVals(rng, ws[0])
	g := tensor.Conv2D{C: 1, H: xs[2], W: xs[3], KH: ws[2], KW: ws[3], StrideH: stride[0], StrideW: stride[1],
		PadH: pad[0], PadW: pad[1], DilationH: dil[0], DilationW: dil[1]}
	oh, ow := g.Out()
	c.R = randVals(rng, xs[0]*ws[0]*oh*ow)
	return c
}

func checkConv(t *testing.T, c *torchCase, want torchResult) {
	x := NewVar(tensor.FromSlice(c.X, c.XS...), true)
	w := NewVar(tensor.FromSlice(c.W, c.WS...), true)
	b := NewVar(tensor.FromSlice(c.B, c.WS[0]), true)
	y := seeded(t, c.R, func(tp *Tape[float64]) *Var[float64] {
		return tp.Conv2d(x, w, b, Conv2dOptions{Stride: c.Stride, Padding: c.Pad, Dilation: c.Dil, Groups: c.Groups})
	})
	require.Equal(t, want.YS, y.Shape())
	closeTo(t, "y", want.Y, y.Value().Data())
	closeTo(t, "x̄", want.GX, x.Grad().Data())
	closeTo(t, "w̄", want.GW, w.Grad().Data())
	closeTo(t, "b̄", want.GB, b.Grad().Data())
}

// torchPool draws x from {0, 1, 2} (or random normals) so that many windows
// hold tied maxima, which decide where MaxPool2d's adjoint goes.
func torchPool(rng *rand.Rand, kind string, xs []int, kernel, stride, pad, dil [2]int, ties bool) *torchCase {
	c := &torchCase{Kind: kind, XS: xs, Kernel: kernel, Stride: stride, Pad: pad, Dil: dil}
	c.X = randVals(rng, prod(xs))
	if ties {
		for i := range c.X {
			c.X[i] = float64(rng.IntN(3))
		}
	}
	g := tensor.Conv2D{C: 1, H: xs[2], W: xs[3], KH: kernel[0], KW: kernel[1], StrideH: stride[0], StrideW: stride[1],
		PadH: pad[0], PadW: pad[1], DilationH: dil[0], DilationW: dil[1]}
	oh, ow := g.Out()
	c.R = randVals(rng, xs[0]*xs[1]*oh*ow)
	return c
}

func checkPool(t *testing.T, c *torchCase, want torchResult) {
	x := NewVar(tensor.FromSlice(c.X, c.XS...), true)
	o := Pool2dOptions{Kernel: c.Kernel, Stride: c.Stride, Padding: c.Pad, Dilation: c.Dil}
	y := seeded(t, c.R, func(tp *Tape[float64]) *Var[float64] {
		if c.Kind == "max" {
			return tp.MaxPool2d(x, o)
		}
		return tp.AvgPool2d(x, o)
	})
	require.Equal(t, want.YS, y.Shape())
	closeTo(t, "y", want.Y, y.Value().Data())
	closeTo(t, "x̄", want.GX, x.Grad().Data())
}

// torchBN is several BatchNorm2d steps on one layer: training steps on
// different batches, each moving the running statistics, then evaluation
// steps that use them.
func torchBN(rng *rand.Rand, xs []int, modes ...bool) *torchCase {
	c := &torchCase{Kind: "bn", XS: xs, Gamma: randVals(rng, xs[1]), Beta: randVals(rng, xs[1])}
	for _, train := range modes {
		x := randVals(rng, prod(xs))
		for i := range x {
			x[i] = 3*x[i] + 1.5 // mean and variance far from the initial 0 and 1
		}
		c.Steps = append(c.Steps, bnStep{X: x, R: randVals(rng, prod(xs)), Train: train})
	}
	return c
}

func checkBN(t *testing.T, c *torchCase, want torchResult) {
	ch := c.XS[1]
	rm := tensor.New[float64](ch)
	rv := tensor.New[float64](ch).Fill(1)
	gamma := NewVar(tensor.FromSlice(c.Gamma, ch), true)
	beta := NewVar(tensor.FromSlice(c.Beta, ch), true)
	require.Len(t, want.Steps, len(c.Steps))
	for i, s := range c.Steps {
		gamma.ZeroGrad()
		beta.ZeroGrad()
		x := NewVar(tensor.FromSlice(s.X, c.XS...), true)
		y := seeded(t, s.R, func(tp *Tape[float64]) *Var[float64] {
			return tp.BatchNorm2d(x, gamma, beta, rm, rv, BatchNormOptions{Training: s.Train})
		})
		w := want.Steps[i]
		closeTo(t, "y", w.Y, y.Value().Data())
		closeTo(t, "x̄", w.GX, x.Grad().Data())
		closeTo(t, "γ̄", w.GG, gamma.Grad().Data())
		closeTo(t, "β̄", w.GB, beta.Grad().Data())
		closeTo(t, "running mean", w.RM, rm.Data())
		closeTo(t, "running var", w.RV, rv.Data())
	}
}

// torchCNNCases draws the cases that the fixture records.
func torchCNNCases() []*torchCase {
	rng := rand.New(rand.NewPCG(11, 2026))
	var cases []*torchCase
	add := func(name string, c *torchCase) {
		c.Name = name
		cases = append(cases, c)
	}
	add("conv/stride=2,pad=1", torchConv(rng, []int{2, 3, 7, 8}, []int{4, 3, 3, 3}, [2]int{2, 2}, [2]int{1, 1}, [2]int{1, 1}, 1))
	add("conv/dilation=2,pad=2", torchConv(rng, []int{2, 2, 9, 7}, []int{3, 2, 3, 3}, [2]int{1, 1}, [2]int{2, 2}, [2]int{2, 2}, 1))
	add("conv/groups=C,stride=2,pad=1", torchConv(rng, []int{2, 4, 8, 7}, []int{8, 1, 3, 3}, [2]int{2, 1}, [2]int{1, 1}, [2]int{1, 1}, 4))
	add("conv/groups=2,dilation=2,stride=2,pad=(2,1)", torchConv(rng, []int{1, 4, 11, 10}, []int{6, 2, 3, 2}, [2]int{2, 2}, [2]int{2, 1}, [2]int{2, 2}, 2))
	add("conv/1x1", torchConv(rng, []int{2, 3, 5, 4}, []int{5, 3, 1, 1}, [2]int{1, 1}, [2]int{}, [2]int{1, 1}, 1))
	add("conv/kernel=input", torchConv(rng, []int{2, 2, 5, 4}, []int{3, 2, 5, 4}, [2]int{1, 1}, [2]int{}, [2]int{1, 1}, 1))
	add("maxpool/ties,k=3,s=2,pad=1", torchPool(rng, "max", []int{2, 3, 9, 8}, [2]int{3, 3}, [2]int{2, 2}, [2]int{1, 1}, [2]int{1, 1}, true))
	add("maxpool/ties,k=2,s=1", torchPool(rng, "max", []int{1, 2, 6, 7}, [2]int{2, 2}, [2]int{1, 1}, [2]int{}, [2]int{1, 1}, true))
	add("maxpool/ties,dilation=2", torchPool(rng, "max", []int{1, 2, 9, 9}, [2]int{3, 2}, [2]int{2, 1}, [2]int{1, 1}, [2]int{2, 2}, true))
	add("maxpool/normal,k=2", torchPool(rng, "max", []int{2, 3, 8, 8}, [2]int{2, 2}, [2]int{2, 2}, [2]int{}, [2]int{1, 1}, false))
	add("avgpool/k=3,s=2,pad=1", torchPool(rng, "avg", []int{2, 3, 9, 8}, [2]int{3, 3}, [2]int{2, 2}, [2]int{1, 1}, [2]int{1, 1}, false))
	add("avgpool/k=2", torchPool(rng, "avg", []int{1, 2, 6, 7}, [2]int{2, 2}, [2]int{2, 2}, [2]int{}, [2]int{1, 1}, false))
	add("batchnorm/train×3,eval×2", torchBN(rng, []int{4, 3, 5, 6}, true, true, true, false, false))
	add("batchnorm/train,eval,train,eval", torchBN(rng, []int{2, 5, 3, 3}, true, false, true, false))
	return cases
}

type torchCNNRecord struct {
	Torch   string        `json:"torch"`
	Cases   []*torchCase  `json:"cases"`
	Results []torchResult `json:"results"`
}

func loadTorchCNNFixture(t *testing.T) torchCNNRecord {
	t.Helper()
	f, err := os.Open(torchCNNFixture)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var rec torchCNNRecord
	require.NoError(t, json.NewDecoder(zr).Decode(&rec))
	require.NotEmpty(t, rec.Cases)
	require.Len(t, rec.Results, len(rec.Cases))
	return rec
}

func TestCNNOpsAgainstTorch(t *testing.T) {
	if *torchCasesOut != "" {
		b, err := json.Marshal(torchCNNCases())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(*torchCasesOut, b, 0o644))
		t.Skipf("wrote the cases to %s; now run bench/torch/cnn_ops.py record", *torchCasesOut)
	}
	rec := loadTorchCNNFixture(t)
	t.Logf("fixture recorded with PyTorch %s", rec.Torch)
	for i, c := range rec.Cases {
		t.Run(c.Name, func(t *testing.T) { c.check(t, rec.Results[i]) })
	}
}

// TestCNNOpsAgainstLiveTorch runs PyTorch now on the fixture's cases and
// compares our side with its results: a check that the fixture is still
// what this PyTorch computes. It skips under -short and where python3 or
// torch is missing (CI).
func TestCNNOpsAgainstLiveTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starting torch takes seconds")
	}
	py := torchPython(t)
	rec := loadTorchCNNFixture(t)
	in, err := json.Marshal(rec.Cases)
	require.NoError(t, err)
	cmd := osexec.Command(py, filepath.Join("..", "bench", "torch", "cnn_ops.py"), "eval")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "python: %s", stderr.Bytes())
	var want []torchResult
	require.NoError(t, json.Unmarshal(out, &want))
	require.Len(t, want, len(rec.Cases))
	for i, c := range rec.Cases {
		t.Run(c.Name, func(t *testing.T) { c.check(t, want[i]) })
	}
}
