package autograd

import (
	"encoding/json"
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

// torchCNNScript recomputes, in float64 with PyTorch, every case that
// TestCNNOpsAgainstTorch sends it as JSON on stdin: the forward values and
// the gradients of sum(y ⊙ r) for an upstream adjoint r, so that each
// backward is checked with a non-uniform seed. It writes one JSON object a
// case on stdout. JSON numbers are shortest round-trip decimals on both
// sides, so the inputs reach PyTorch bit for bit.
const torchCNNScript = `
import json, sys
import torch
import torch.nn.functional as F
torch.set_num_threads(1)

def t(v, shape, grad=False):
    return torch.tensor(v, dtype=torch.float64).reshape(shape).requires_grad_(grad)

def flat(x):
    return x.detach().reshape(-1).tolist()

out = []
for c in json.load(sys.stdin):
    k = c["kind"]
    res = {}
    if k == "conv":
        x = t(c["x"], c["xs"], True)
        w = t(c["w"], c["ws"], True)
        b = t(c["b"], [c["ws"][0]], True)
        y = F.conv2d(x, w, b, stride=c["stride"], padding=c["pad"], dilation=c["dil"], groups=c["groups"])
        (y * t(c["r"], list(y.shape))).sum().backward()
        res = {"y": flat(y), "ys": list(y.shape), "gx": flat(x.grad), "gw": flat(w.grad), "gb": flat(b.grad)}
    elif k in ("max", "avg"):
        x = t(c["x"], c["xs"], True)
        if k == "max":
            y = F.max_pool2d(x, c["kernel"], stride=c["stride"], padding=c["pad"], dilation=c["dil"])
        else:
            y = F.avg_pool2d(x, c["kernel"], stride=c["stride"], padding=c["pad"], count_include_pad=True)
        (y * t(c["r"], list(y.shape))).sum().backward()
        res = {"y": flat(y), "ys": list(y.shape), "gx": flat(x.grad)}
    elif k == "bn":
        ch = c["xs"][1]
        rm = torch.zeros(ch, dtype=torch.float64)
        rv = torch.ones(ch, dtype=torch.float64)
        g = t(c["gamma"], [ch], True)
        be = t(c["beta"], [ch], True)
        steps = []
        for s in c["steps"]:
            x = t(s["x"], c["xs"], True)
            if g.grad is not None:
                g.grad = None
                be.grad = None
            y = F.batch_norm(x, rm, rv, g, be, training=s["train"], momentum=0.1, eps=1e-5)
            (y * t(s["r"], c["xs"])).sum().backward()
            steps.append({"y": flat(y), "gx": flat(x.grad), "gg": flat(g.grad), "gb": flat(be.grad),
                          "rm": rm.tolist(), "rv": rv.tolist()})
        res = {"steps": steps}
    out.append(res)
json.dump(out, sys.stdout)
`

// torchPython returns a python3 that imports torch, or skips t. CI does not
// install torch, so there this test always skips.
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

	run func(t *testing.T, c *torchCase, want torchResult) // our side
}

type bnStep struct {
	X     []float64 `json:"x"`
	R     []float64 `json:"r"`
	Train bool      `json:"train"`
}

type torchResult struct {
	Y     []float64 `json:"y"`
	YS    []int     `json:"ys"`
	GX    []float64 `json:"gx"`
	GW    []float64 `json:"gw"`
	GB    []float64 `json:"gb"`
	GG    []float64 `json:"gg"`
	RM    []float64 `json:"rm"`
	RV    []float64 `json:"rv"`
	Steps []torchResult
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
	c.run = func(t *testing.T, c *torchCase, want torchResult) {
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
	return c
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
	c.run = func(t *testing.T, c *torchCase, want torchResult) {
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
	return c
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
	c.run = func(t *testing.T, c *torchCase, want torchResult) {
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
	return c
}

// TestCNNOpsAgainstTorch compares Conv2d, MaxPool2d, AvgPool2d and
// BatchNorm2d, forward and every gradient, in float64 with PyTorch 1.13
// run at test time on the same inputs. It skips where python3 or torch is
// missing (CI).
func TestCNNOpsAgainstTorch(t *testing.T) {
	py := torchPython(t)
	rng := rand.New(rand.NewPCG(11, 2026))
	names := []string{}
	cases := []*torchCase{}
	add := func(name string, c *torchCase) {
		names = append(names, name)
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

	dir := t.TempDir()
	in, err := json.Marshal(cases)
	require.NoError(t, err)
	inPath := filepath.Join(dir, "cases.json")
	require.NoError(t, os.WriteFile(inPath, in, 0o600))
	f, err := os.Open(inPath)
	require.NoError(t, err)
	defer f.Close()
	cmd := osexec.Command(py, "-c", torchCNNScript)
	cmd.Stdin = f
	var stderr []byte
	out, err := cmd.Output()
	if ee, ok := err.(*osexec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "python: %s", stderr)
	var want []torchResult
	require.NoError(t, json.Unmarshal(out, &want))
	require.Len(t, want, len(cases))
	for i, c := range cases {
		t.Run(names[i], func(t *testing.T) { c.run(t, c, want[i]) })
	}
}
