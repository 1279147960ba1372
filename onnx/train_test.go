package onnx

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/tensor"
)

// The fixtures in testdata/train are made by bench/onnx_train_export.py:
// models exported by torch.onnx.export (PyTorch 1.13) and PyTorch's loss
// and parameter gradients for a fixed input.
const trainDir = "testdata/train"

func loadTrainModel(t testing.TB, name string) *Model {
	t.Helper()
	path := filepath.Join(trainDir, name+".onnx")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s missing (run /usr/bin/python3 bench/onnx_train_export.py)", path)
	}
	m, err := Load(path)
	require.NoError(t, err)
	return m
}

func trainNpy(t testing.TB, name string) *Tensor {
	t.Helper()
	x, err := readNpyTensor(filepath.Join(trainDir, name+".npy"))
	require.NoError(t, err, name)
	return x
}

func labelsOf(t testing.TB, x *Tensor) []int {
	l, err := x.Ints()
	require.NoError(t, err)
	return l
}

// closeTo requires got within tol·max(1, max|want|) of want, elementwise.
func closeTo(t *testing.T, what string, got []float64, want *Tensor, tol float64) {
	t.Helper()
	require.Equal(t, want.Size(), len(got), "%s: size", what)
	scale, worst := 1.0, 0.0
	for i := range got {
		scale = max(scale, math.Abs(want.Float64At(i)))
	}
	for i, g := range got {
		worst = max(worst, math.Abs(g-want.Float64At(i)))
	}
	require.LessOrEqual(t, worst, tol*scale, "%s: max abs error %.3g (scale %.3g)", what, worst, scale)
}

func f64s[T tensor.Float](d *tensor.Dense[T]) []float64 {
	d = d.Contiguous()
	out := make([]float64, d.Size())
	for i, v := range d.Data() {
		out[i] = float64(v)
	}
	return out
}

// cnnLoss records the CNN fixture's forward pass and PyTorch's
// F.cross_entropy (mean over the batch).
func cnnLoss[T tensor.Float](t testing.TB, gm *GraphModule[T], tp *autograd.Tape[T]) *autograd.Var[T] {
	out, err := gm.Forward(tp, map[string]*autograd.Var[T]{"x": tp.Const(denseOf[T](trainNpy(t, "cnn_x")))})
	require.NoError(t, err)
	return tp.CrossEntropy(out["y"], labelsOf(t, trainNpy(t, "cnn_labels")))
}

// mlpLoss is sum((y - target)²).
func mlpLoss[T tensor.Float](t testing.TB, gm *GraphModule[T], tp *autograd.Tape[T]) *autograd.Var[T] {
	out, err := gm.Forward(tp, map[string]*autograd.Var[T]{"x": tp.Const(denseOf[T](trainNpy(t, "mlp_x")))})
	require.NoError(t, err)
	d := tp.Sub(out["y"], tp.Const(denseOf[T](trainNpy(t, "mlp_target"))))
	return tp.Sum(tp.Square(d))
}

// opsLoss is sum((y - target)²) for the attention-shaped block on token ids.
func opsLoss[T tensor.Float](t testing.TB, gm *GraphModule[T], tp *autograd.Tape[T]) *autograd.Var[T] {
	out, err := gm.ForwardWith(tp, nil, map[string]*Tensor{"ids": trainNpy(t, "ops_ids")})
	require.NoError(t, err)
	d := tp.Sub(out["y"], tp.Const(denseOf[T](trainNpy(t, "ops_target"))))
	return tp.Sum(tp.Square(d))
}

// gptLoss is F.cross_entropy over every position of the GPT-style block.
func gptLoss[T tensor.Float](t testing.TB, gm *GraphModule[T], tp *autograd.Tape[T]) *autograd.Var[T] {
	out, err := gm.ForwardWith(tp, nil, map[string]*Tensor{"ids": trainNpy(t, "gpt_ids")})
	require.NoError(t, err)
	logits := out["logits"]
	v := logits.Shape()[2]
	return tp.CrossEntropy(tp.Reshape(logits, -1, v), labelsOf(t, trainNpy(t, "gpt_target")))
}

// Tolerance for float32 against PyTorch (CPU, float32): each error is at
// most 1e-6 of the largest magnitude of the compared tensor (or of 1).
const torchTol = 1e-6

func TestGraphModuleGradientsAgainstTorch(t *testing.T) {
	cases := []struct {
		model, fixture string
		train          bool
		loss           func(testing.TB, *GraphModule[float32], *autograd.Tape[float32]) *autograd.Var[float32]
		params         []string
	}{
		{"cnn", "cnn_train", true, cnnLoss[float32], []string{"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias",
			"conv2.weight", "conv2.bias", "fc.weight", "fc.bias"}},
		{"cnn", "cnn_eval", false, cnnLoss[float32], []string{"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias",
			"conv2.weight", "conv2.bias", "fc.weight", "fc.bias"}},
		{"mlp", "mlp", true, mlpLoss[float32], []string{"fc1.weight", "fc1.bias", "ln.weight", "ln.bias",
			"fc2.weight", "fc2.bias", "head.weight", "head.bias"}},
		{"ops", "ops", true, opsLoss[float32], []string{"scale", "emb.weight", "qkv.weight", "qkv.bias",
			"out.weight", "out.bias"}},
		{"gpt", "gpt", true, gptLoss[float32], []string{"wpe", "wte.weight", "ln1.weight", "ln1.bias",
			"attn.weight", "attn.bias", "proj.weight", "proj.bias", "ln2.weight", "ln2.bias", "fc.weight", "fc.bias",
			"fc2.weight", "fc2.bias"}},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			m := loadTrainModel(t, c.model)
			gm, err := NewGraphModule[float32](m)
			require.NoError(t, err)
			nn.Train(gm, c.train)
			var names []string
			for _, p := range nn.NamedParameters(gm) {
				names = append(names, p.Name)
			}
			require.Equal(t, c.params, names, "parameters under PyTorch's state_dict names")
			tp := autograd.NewTape[float32]()
			loss := c.loss(t, gm, tp)
			require.NoError(t, tp.Backward(loss))
			closeTo(t, "loss", []float64{float64(loss.Item())}, trainNpy(t, c.fixture+"_loss"), torchTol)
			for _, p := range nn.NamedParameters(gm) {
				require.NotNil(t, p.Var.Grad(), p.Name)
				closeTo(t, "grad "+p.Name, f64s(p.Var.Grad()), trainNpy(t, c.fixture+"_grad_"+p.Name), torchTol)
			}
			if c.fixture == "cnn_train" {
				sd := nn.StateDict(gm)
				closeTo(t, "running_mean", f64s(sd["bn1.running_mean"]), trainNpy(t, "cnn_train_running_mean"), torchTol)
				closeTo(t, "running_var", f64s(sd["bn1.running_var"]), trainNpy(t, "cnn_train_running_var"), torchTol)
			}
		})
	}
}

// The taped graph computes what a Session computes. The CNN was exported
// in training mode (BatchNormalization's training_mode = 1: batch
// statistics), which the Session follows, so the module runs in training
// mode there.
func TestGraphModuleMatchesSession(t *testing.T) {
	for _, name := range []string{"cnn", "mlp", "ops", "gpt"} {
		t.Run(name, func(t *testing.T) {
			m := loadTrainModel(t, name)
			in, file := "x", name+"_x"
			if name == "ops" || name == "gpt" {
				in, file = "ids", name+"_ids"
			}
			x := trainNpy(t, file)
			want, err := NewSession(m).Run(map[string]*Tensor{in: x})
			require.NoError(t, err)
			gm, err := NewGraphModule[float32](m)
			require.NoError(t, err)
			nn.Train(gm, name == "cnn")
			tp := autograd.NewTape[float32]()
			tp.NoGrad(true)
			out, err := gm.ForwardWith(tp, nil, map[string]*Tensor{in: x})
			require.NoError(t, err)
			for k, w := range want {
				closeTo(t, k, f64s(out[k].Value()), w, torchTol)
			}
		})
	}
}

// Central differences in float64 of every parameter's gradient (a few
// elements of each) through the whole graph, in both BatchNormalization
// modes.
func TestGraphModuleFiniteDifferences(t *testing.T) {
	cases := []struct {
		model string
		train bool
		loss  func(testing.TB, *GraphModule[float64], *autograd.Tape[float64]) *autograd.Var[float64]
	}{
		{"cnn", true, cnnLoss[float64]},
		{"cnn", false, cnnLoss[float64]},
		{"mlp", true, mlpLoss[float64]},
		{"ops", true, opsLoss[float64]},
		{"gpt", true, gptLoss[float64]},
	}
	for _, c := range cases {
		name := c.model + map[bool]string{true: "_train", false: "_eval"}[c.train]
		t.Run(name, func(t *testing.T) {
			gm, err := NewGraphModule[float64](loadTrainModel(t, c.model))
			require.NoError(t, err)
			nn.Train(gm, c.train)
			tp := autograd.NewTape[float64]()
			eval := func() float64 {
				tp.Reset()
				return c.loss(t, gm, tp).Item()
			}
			tp.Reset()
			require.NoError(t, tp.Backward(c.loss(t, gm, tp)))
			r := rand.New(rand.NewPCG(3, 4))
			const h = 1e-6
			for _, p := range nn.NamedParameters(gm) {
				g := p.Var.Grad().Data()
				w := p.Var.Value().Data()
				for range 4 {
					i := r.IntN(len(w))
					old := w[i]
					w[i] = old + h
					up := eval()
					w[i] = old - h
					down := eval()
					w[i] = old
					num := (up - down) / (2 * h)
					require.InDelta(t, num, g[i], 1e-6*max(1, math.Abs(num)), "%s[%d]", p.Name, i)
				}
			}
		})
	}
}

// Fine-tuning an imported model: Adam on the exported CNN's parameters,
// a fixed batch of random images and labels; the loss must fall to under
// a third of where it started.
func TestGraphModuleFineTune(t *testing.T) {
	gm, err := NewGraphModule[float32](loadTrainModel(t, "cnn"))
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(5, 6))
	const batch = 8
	x := tensor.New[float32](batch, 3, 8, 8)
	for i := range x.Data() {
		x.Data()[i] = float32(r.NormFloat64())
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = r.IntN(5)
	}
	opt := optim.NewAdam(nn.Parameters(gm), optim.AdamConfig{LR: 0.02})
	tp := autograd.NewTape[float32]()
	var first, last float32
	for step := range 40 {
		tp.Reset()
		opt.ZeroGrad()
		out, err := gm.Forward(tp, map[string]*autograd.Var[float32]{"x": tp.Const(x)})
		require.NoError(t, err)
		loss := tp.CrossEntropy(out["y"], labels)
		require.NoError(t, tp.Backward(loss))
		opt.Step()
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
	}
	t.Logf("loss %.4f -> %.4f", first, last)
	require.Less(t, last, first/3)
}

func TestGraphModuleNoBackward(t *testing.T) {
	m := loadTrainModel(t, "nobackward")
	_, err := NewGraphModule[float32](m)
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrNoBackward), "%v", err)
	for _, s := range []string{`"running_total"`, "CumSum", "ai.onnx", "opset 14"} {
		require.True(t, strings.Contains(err.Error(), s), "error %q does not name %s", err, s)
	}
	// The model still runs for inference: y = cumsum(x·w, axis 1),
	// against a naive loop.
	x := NewTensor(Float, 2, 3)
	for i := range x.F32 {
		x.F32[i] = float32(i) - 2.5
	}
	out, err := NewSession(m).Run(map[string]*Tensor{"x": x})
	require.NoError(t, err)
	w := m.Graph.Initializers[0].T
	require.Equal(t, "w", m.Graph.Initializers[0].Name)
	for i := range 2 {
		acc := 0.0
		for j := range 4 {
			s := 0.0
			for k := range 3 {
				s += float64(x.F32[i*3+k]) * float64(w.F32[k*4+j])
			}
			acc += s
			require.InDelta(t, acc, float64(out["y"].F32[i*4+j]), 1e-5)
		}
	}
}

func TestGraphModuleState(t *testing.T) {
	gm, err := NewGraphModule[float32](loadTrainModel(t, "cnn"))
	require.NoError(t, err)
	sd := nn.StateDict(gm)
	require.Contains(t, sd, "bn1.running_mean")
	require.Contains(t, sd, "bn1.running_var")
	require.Len(t, nn.NamedBuffers(gm), 2)
	require.Equal(t, 4*3*3*3+4+4+4+6*2*3*3+6+5*24+5, nn.NumParameters(gm))
	// Parameters are copies: training leaves the model's initializers
	// alone.
	w := gm.Param("conv1.weight")
	require.NotNil(t, w)
	w.Value().Data()[0] += 1
	for _, it := range gm.Model().Graph.Initializers {
		if it.Name == "conv1.weight" {
			require.NotEqual(t, it.T.F32[0], w.Value().Data()[0])
		}
	}
	// Inputs are checked.
	tp := autograd.NewTape[float32]()
	_, err = gm.Forward(tp, nil)
	require.ErrorContains(t, err, `missing input "x"`)
	_, err = gm.Forward(tp, map[string]*autograd.Var[float32]{"x": tp.Const(tensor.New[float32](2, 3, 8, 8)),
		"z": tp.Const(tensor.New[float32](1))})
	require.ErrorContains(t, err, `unknown input "z"`)
	_, err = gm.Forward(tp, map[string]*autograd.Var[float32]{"x": tp.Const(tensor.New[float32](2, 5, 8, 8))})
	require.ErrorContains(t, err, "/conv1/Conv")
}

// One op per graph, in attribute forms the exported models do not use,
// against the same function written in PyTorch (bench/onnx_train_export.py's
// misc cases): y = op(x·p), loss = sum((y − target)²).
func TestGraphModuleOpsAgainstTorch(t *testing.T) {
	for _, name := range []string{"gemm", "conv_same", "conv_asym", "avgpool", "maxpool", "softmax11", "reduce",
		"relu6", "hardswish", "hardsigmoid", "where", "expand", "reducel2", "max"} {
		t.Run(name, func(t *testing.T) {
			gm, err := NewGraphModule[float32](loadTrainModel(t, "misc_"+name))
			require.NoError(t, err)
			tp := autograd.NewTape[float32]()
			out, err := gm.Forward(tp, map[string]*autograd.Var[float32]{
				"x": tp.Const(denseOf[float32](trainNpy(t, "misc_"+name+"_x")))})
			require.NoError(t, err)
			d := tp.Sub(out["y"], tp.Const(denseOf[float32](trainNpy(t, "misc_"+name+"_target"))))
			loss := tp.Sum(tp.Square(d))
			require.NoError(t, tp.Backward(loss))
			closeTo(t, "loss", []float64{float64(loss.Item())}, trainNpy(t, "misc_"+name+"_loss"), torchTol)
			ps := nn.NamedParameters(gm)
			require.NotEmpty(t, ps)
			for _, p := range ps {
				closeTo(t, "grad "+p.Name, f64s(p.Var.Grad()), trainNpy(t, "misc_"+name+"_grad_"+p.Name), torchTol)
			}
		})
	}
}

// One training step of the exported CNN (forward, cross-entropy,
// backward, Adam) on a batch of 8.
func BenchmarkGraphModuleStep(b *testing.B) {
	gm, err := NewGraphModule[float32](loadTrainModel(b, "cnn"))
	require.NoError(b, err)
	x := tensor.New[float32](8, 3, 8, 8)
	for i := range x.Data() {
		x.Data()[i] = float32(i%13) - 6
	}
	labels := []int{0, 1, 2, 3, 4, 0, 1, 2}
	opt := optim.NewAdam(nn.Parameters(gm), optim.AdamConfig{LR: 1e-3})
	tp := autograd.NewTape[float32]()
	b.ReportAllocs()
	for b.Loop() {
		tp.Reset()
		opt.ZeroGrad()
		out, err := gm.Forward(tp, map[string]*autograd.Var[float32]{"x": tp.Const(x)})
		if err != nil {
			b.Fatal(err)
		}
		if err := tp.Backward(tp.CrossEntropy(out["y"], labels)); err != nil {
			b.Fatal(err)
		}
		opt.Step()
	}
}

// An op without a backward on an input's path only: the parameters train,
// and asking for the input's gradient is the error.
func TestGraphModuleNoBackwardOnInputPath(t *testing.T) {
	m := loadTrainModel(t, "nobackward_input")
	gm, err := NewGraphModule[float64](m)
	require.NoError(t, err)
	x := tensor.New[float64](2, 3)
	for i := range x.Data() {
		x.Data()[i] = float64(i) - 2.5
	}
	tp := autograd.NewTape[float64]()
	out, err := gm.Forward(tp, map[string]*autograd.Var[float64]{"x": tp.Const(x)})
	require.NoError(t, err)
	require.NoError(t, tp.Backward(tp.Sum(out["y"])))
	// d sum(h·w)/dw[k][j] = Σ_i h[i][k], h = cumsum(x) along axis 1.
	g := gm.Param("w").Grad().Data()
	for k := range 3 {
		want := 0.0
		for i := range 2 {
			for j := 0; j <= k; j++ {
				want += x.Data()[i*3+j]
			}
		}
		for j := range 4 {
			require.InDelta(t, want, g[k*4+j], 1e-12)
		}
	}
	tp.Reset()
	_, err = gm.Forward(tp, map[string]*autograd.Var[float64]{"x": autograd.NewVar(x, true)})
	require.ErrorIs(t, err, ErrNoBackward)
	require.ErrorContains(t, err, "CumSum")
}

// The anchor and real models (bench/onnx_fixtures.sh) on a tape in
// evaluation mode: the outputs are ONNX Runtime's (within the tolerance
// the Session meets), and a backward pass reaches every parameter.
func TestGraphModuleAnchorModels(t *testing.T) {
	dir := modelsDir(t)
	if testing.Short() {
		t.Skip("anchor models take seconds each")
	}
	// The real models' ONNX Runtime references are committed (testdata/real);
	// the anchor models' sit beside them (bench/onnx_fixtures.sh big DIR).
	refDirs := map[string]string{"embedding_model": "testdata/real", "ch_ppocr_mobile_v2.0_cls_infer": "testdata/real"}
	for _, name := range []string{"resnet18", "mobilenet_v2", "minilm_l6", "embedding_model", "ch_ppocr_mobile_v2.0_cls_infer"} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, name+".onnx")
			refDir := cmp.Or(refDirs[name], dir)
			ref := func(kind, tensor string) string {
				return filepath.Join(refDir, name+"."+kind+"."+npySafe.ReplaceAllString(tensor, "_")+".npy")
			}
			if _, err := os.Stat(f); err != nil {
				t.Skipf("%s not present", f)
			}
			m, err := Load(f)
			require.NoError(t, err)
			if _, err := os.Stat(ref("out", m.Graph.Outputs[0].Name)); err != nil {
				t.Skipf("%s's reference outputs not present (bench/onnx_fixtures.sh big %s)", name, dir)
			}
			// paddle2onnx keeps the OCR model's weights in Constant nodes.
			gm, err := NewGraphModuleWith[float32](m, GraphModuleOptions{Constants: strings.HasPrefix(name, "ch_ppocr")})
			require.NoError(t, err)
			nn.Train(gm, false)
			data := map[string]*Tensor{}
			for _, in := range m.Graph.Inputs {
				if gm.Param(in.Name) == nil {
					data[in.Name] = trainNpyAt(t, ref("in", in.Name))
				}
			}
			tp := autograd.NewTape[float32]()
			out, err := gm.ForwardWith(tp, nil, data)
			require.NoError(t, err)
			var loss *autograd.Var[float32]
			for _, o := range m.Graph.Outputs {
				want := trainNpyAt(t, ref("out", o.Name))
				closeTo(t, o.Name, f64s(out[o.Name].Value()), want, modelRelTol)
				s := tp.Sum(out[o.Name])
				if loss == nil {
					loss = s
				} else {
					loss = tp.Add(loss, s)
				}
			}
			require.NoError(t, tp.Backward(loss))
			for _, p := range nn.NamedParameters(gm) {
				require.NotNil(t, p.Var.Grad(), p.Name)
			}
			// Exported unchanged, the model still gives ORT's outputs.
			em, err := gm.Export()
			require.NoError(t, err)
			got, err := NewSession(em).Run(data)
			require.NoError(t, err)
			for _, o := range m.Graph.Outputs {
				want := trainNpyAt(t, ref("out", o.Name))
				closeTo(t, "exported "+o.Name, f64s(denseOf[float64](got[o.Name])), want, modelRelTol)
			}
			t.Logf("%d parameters (%d values), %d buffers", len(nn.NamedParameters(gm)), nn.NumParameters(gm), len(nn.NamedBuffers(gm)))
		})
	}
}

func trainNpyAt(t testing.TB, path string) *Tensor {
	t.Helper()
	x, err := readNpyTensor(path)
	require.NoError(t, err, path)
	return x
}

func TestGraphModuleConstantWeights(t *testing.T) {
	m := loadTrainModel(t, "constweights")
	gm, err := NewGraphModule[float32](m)
	require.NoError(t, err)
	require.Empty(t, nn.NamedParameters(gm))
	gm, err = NewGraphModuleWith[float32](m, GraphModuleOptions{Constants: true})
	require.NoError(t, err)
	ps := nn.NamedParameters(gm)
	require.Len(t, ps, 1, "the scalar s stays a constant")
	require.Equal(t, "W", ps[0].Name)
	tp := autograd.NewTape[float32]()
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	out, err := gm.Forward(tp, map[string]*autograd.Var[float32]{"x": tp.Const(x)})
	require.NoError(t, err)
	require.NoError(t, tp.Backward(tp.Sum(out["y"])))
	// d Σ(x·W + s)/dW[k][j] = Σ_i x[i][k].
	g := ps[0].Var.Grad().Data()
	for k := range 3 {
		for j := range 4 {
			require.Equal(t, x.Data()[k]+x.Data()[3+k], g[k*4+j])
		}
	}
}

// A state dict moves between two modules of one model (and so from
// PyTorch's state_dict, whose names the parameters carry).
func TestGraphModuleLoadStateDict(t *testing.T) {
	m := loadTrainModel(t, "cnn")
	a, err := NewGraphModule[float32](m)
	require.NoError(t, err)
	b, err := NewGraphModule[float32](m)
	require.NoError(t, err)
	for _, p := range nn.NamedParameters(a) {
		for i := range p.Var.Value().Data() {
			p.Var.Value().Data()[i] += 0.25
		}
	}
	rep, err := nn.LoadStateDict(b, nn.StateDict(a), true)
	require.NoError(t, err)
	require.Empty(t, rep.Missing)
	require.Empty(t, rep.Unexpected)
	for _, p := range nn.NamedParameters(b) {
		require.Equal(t, a.Param(p.Name).Value().Data(), p.Var.Value().Data(), p.Name)
	}
}

// A fine-tuned module exports a Model whose Session computes what the
// module computes; the source model keeps its weights.
func TestGraphModuleExport(t *testing.T) {
	m := loadTrainModel(t, "cnn")
	gm, err := NewGraphModule[float32](m)
	require.NoError(t, err)
	x := trainNpy(t, "cnn_x")
	before, err := NewSession(m).Run(map[string]*Tensor{"x": x})
	require.NoError(t, err)
	opt := optim.NewSGD(nn.Parameters(gm), optim.SGDConfig{LR: 0.1})
	tp := autograd.NewTape[float32]()
	for range 3 {
		tp.Reset()
		opt.ZeroGrad()
		out, err := gm.ForwardWith(tp, nil, map[string]*Tensor{"x": x})
		require.NoError(t, err)
		require.NoError(t, tp.Backward(tp.CrossEntropy(out["y"], labelsOf(t, trainNpy(t, "cnn_labels")))))
		opt.Step()
	}
	em, err := gm.Export()
	require.NoError(t, err)
	got, err := NewSession(em).Run(map[string]*Tensor{"x": x})
	require.NoError(t, err)
	// The export keeps BatchNormalization's training_mode = 1 (batch
	// statistics), so compare with the module in training mode.
	tp.Reset()
	tp.NoGrad(true)
	out, err := gm.ForwardWith(tp, nil, map[string]*Tensor{"x": x})
	require.NoError(t, err)
	closeTo(t, "exported", f64s(out["y"].Value()), got["y"], torchTol)
	again, err := NewSession(m).Run(map[string]*Tensor{"x": x})
	require.NoError(t, err)
	require.Equal(t, before["y"].F32, again["y"].F32, "source model unchanged")
	require.NotEqual(t, before["y"].F32, got["y"].F32, "the export has the new weights")
}

// A GraphModule reuses its plan and each Conv's window geometry between
// passes: passes at other spatial sizes, and at the first again, must give
// what a fresh module gives at each size (auto_pad SAME with stride 2: the
// pads depend on the size).
func TestGraphModuleReusesStateAcrossSizes(t *testing.T) {
	src := loadTrainModel(t, "misc_conv_same")
	var conv Node
	for _, n := range src.Graph.source.nodes {
		if n.OpType == "Conv" {
			conv = *n
		}
	}
	require.Equal(t, "SAME_UPPER", conv.String("auto_pad", ""))
	conv.Inputs = []string{"x", conv.Inputs[1]}
	g := &Graph{
		Inputs:       []ValueInfo{{Name: "x", Kind: KindTensor, DType: Float}},
		Outputs:      []ValueInfo{{Name: conv.Outputs[0], Kind: KindTensor, DType: Float}},
		Initializers: []NamedTensor{{Name: conv.Inputs[1], T: src.Graph.source.consts[conv.Inputs[1]]}},
		Nodes:        []*Node{&conv},
	}
	m := &Model{Opsets: src.Opsets, Graph: g}
	require.NoError(t, m.compile(g, nil, 0))
	fwd := func(gm *GraphModule[float64], x *tensor.Dense[float64]) []float64 {
		tp := autograd.NewTape[float64]()
		out, err := gm.Forward(tp, map[string]*autograd.Var[float64]{"x": tp.Const(x)})
		require.NoError(t, err)
		return f64s(out[conv.Outputs[0]].Value())
	}
	fresh := func(x *tensor.Dense[float64]) []float64 {
		gm, err := NewGraphModule[float64](m)
		require.NoError(t, err)
		return fwd(gm, x)
	}
	r := rand.New(rand.NewPCG(5, 6))
	var xs []*tensor.Dense[float64]
	for _, hw := range [][2]int{{6, 6}, {7, 5}, {5, 8}} {
		x := tensor.New[float64](1, 2, hw[0], hw[1])
		for i := range x.Data() {
			x.Data()[i] = r.NormFloat64()
		}
		xs = append(xs, x)
	}
	gm, err := NewGraphModule[float64](m)
	require.NoError(t, err)
	for _, i := range []int{0, 1, 2, 0, 1} {
		require.Equal(t, fresh(xs[i]), fwd(gm, xs[i]), "input %d", i)
	}
}

// An If whose branches read a value of the outer graph (an initializer)
// runs on its kernel inside a GraphModule, which must pass the node's
// implicit inputs after its explicit ones, as a Session does: y = x·p +
// (cond ? c : −c), checked against the arithmetic by hand and the
// gradient of p against x.
func TestGraphModuleIfReadsOuterValues(t *testing.T) {
	floats := func(name string, v ...float32) pb {
		var raw []byte
		for _, x := range v {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(x))
		}
		return pb(nil).varint(1, int64(len(v))).varint(2, int64(Float)).str(8, name).msg(9, raw)
	}
	branch := func(attr, op string) pb {
		g := pb(nil).str(2, attr).msg(1, nodePB(op, []string{"c"}, []string{"t"})).msg(12, valueInfoPB("t", Float, 2))
		return pb(nil).str(1, attr).varint(20, int64(AttrGraph)).msg(6, g)
	}
	g := graphPB([]pb{
		nodePB("Mul", []string{"x", "p"}, []string{"xp"}),
		nodePB("If", []string{"cond"}, []string{"z"}, branch("then_branch", "Identity"), branch("else_branch", "Neg")),
		nodePB("Add", []string{"xp", "z"}, []string{"y"}),
	}, pb(nil).msg(11, valueInfoPB("cond", Bool)), pb(nil).msg(5, floats("p", 2, 3)), pb(nil).msg(5, floats("c", 10, 20)))
	m, err := Parse(modelPB(13, g), "")
	require.NoError(t, err)
	gm, err := NewGraphModule[float64](m)
	require.NoError(t, err)
	require.Equal(t, []string{"p"}, func() (names []string) {
		for _, p := range nn.NamedParameters(gm) {
			names = append(names, p.Name)
		}
		return
	}())
	for _, cond := range []bool{true, false} {
		tp := autograd.NewTape[float64]()
		x := tensor.FromSlice([]float64{1, -1}, 2)
		out, err := gm.ForwardWith(tp, map[string]*autograd.Var[float64]{"x": tp.Const(x)},
			map[string]*Tensor{"cond": {DType: Bool, Shape: []int{}, B: []bool{cond}}})
		require.NoError(t, err)
		want := []float64{2 + 10, -3 + 20}
		if !cond {
			want = []float64{2 - 10, -3 - 20}
		}
		require.Equal(t, want, out["y"].Value().Data(), "cond %v", cond)
		gm.Param("p").ZeroGrad()
		require.NoError(t, tp.Backward(tp.Sum(out["y"])))
		require.Equal(t, []float64{1, -1}, gm.Param("p").Grad().Data())
	}
}
