package main

import (
	"flag"
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/internal/mnist"
	"github.com/adjoint-go/adjoint/nn"
)

// classifier is what the training loop and evaluate need from a model:
// the MLP (-model mlp) and the CNN (-model cnn) both provide it.
type classifier interface {
	nn.Layer[float32]
	// input is the shape of a batch of n images of rows×cols.
	input(n, rows, cols int) []int
	params() []*autograd.Var[float32]
	numParams() int
	save(path string) error
	load(path string) error
	setTraining(on bool)
	describe() string
}

// mlpModel is the MLP as a classifier: flat images, checkpoint names
// "layer0.weight"... as before -model existed.
type mlpModel struct{ m *nn.MLP[float32] }

func (m mlpModel) Forward(tp *autograd.Tape[float32], x *autograd.Var[float32]) *autograd.Var[float32] {
	return m.m.Forward(tp, x)
}
func (m mlpModel) NamedParams(prefix string) []nn.Param[float32] {
	return m.m.Layer().NamedParams(prefix)
}
func (m mlpModel) input(n, rows, cols int) []int    { return []int{n, rows * cols} }
func (m mlpModel) params() []*autograd.Var[float32] { return m.m.Params() }
func (m mlpModel) numParams() int                   { return m.m.NumParams() }
func (m mlpModel) save(path string) error           { return m.m.Save(path) }
func (m mlpModel) load(path string) error           { return m.m.Load(path) }
func (m mlpModel) setTraining(bool)                 {}
func (m mlpModel) describe() string {
	return fmt.Sprintf("MLP %s %v", joinInts(m.m.Sizes(), "-"), nn.ReLU)
}

// cnnModel is the convolutional network of -model cnn, one nn.Sequential:
//
//	0 conv5×5(1→32, pad 2)  1 ReLU  2 maxpool2
//	3 conv5×5(32→64, pad 2) 4 ReLU  5 maxpool2
//	6 flatten  7 Linear 64·⌊⌊H/2⌋/2⌋·⌊⌊W/2⌋/2⌋→128 (3136 for MNIST)  8 ReLU
//	9 Linear 128→10
//
// Its checkpoint names are the Sequential's ("0.weight", "0.bias",
// "3.weight", ...), PyTorch's for the same nn.Sequential; the convolution
// weights have PyTorch's layout, the Linear ones are transposed (see
// nn.Linear).
type cnnModel struct {
	seq        *nn.Sequential[float32]
	rows, cols int
}

// cnnFlat is the flattened size after the two pools for rows×cols images.
func cnnFlat(rows, cols int) int { return 64 * (rows / 2 / 2) * (cols / 2 / 2) }

func newCNN(rng *rand.Rand, rows, cols int) cnnModel {
	pool := nn.MaxPool2d[float32]{Options: autograd.Pool2dOptions{Kernel: [2]int{2, 2}}}
	relu := nn.Act[float32]{Fn: nn.ReLU}
	conv := func(in, out int) nn.Layer[float32] {
		return nn.NewConv2d[float32](rng, nn.Conv2dConfig{In: in, Out: out, Kernel: [2]int{5, 5}, Padding: [2]int{2, 2}})
	}
	return cnnModel{rows: rows, cols: cols, seq: nn.NewSequential[float32](
		conv(1, 32), relu, pool,
		conv(32, 64), relu, pool,
		nn.Flatten[float32]{},
		nn.NewLinear[float32](rng, cnnFlat(rows, cols), 128, nn.KaimingUniform), relu,
		nn.NewLinear[float32](rng, 128, mnist.Classes, nn.KaimingUniform),
	)}
}

func (m cnnModel) Forward(tp *autograd.Tape[float32], x *autograd.Var[float32]) *autograd.Var[float32] {
	return m.seq.Forward(tp, x)
}
func (m cnnModel) NamedParams(prefix string) []nn.Param[float32] { return m.seq.NamedParams(prefix) }
func (m cnnModel) input(n, rows, cols int) []int                 { return []int{n, 1, rows, cols} }
func (m cnnModel) params() []*autograd.Var[float32]              { return nn.Params[float32](m.seq) }
func (m cnnModel) save(path string) error                        { return nn.SaveLayer[float32](path, m.seq) }
func (m cnnModel) load(path string) error                        { return nn.LoadLayer[float32](path, m.seq) }
func (m cnnModel) setTraining(on bool)                           { nn.SetTraining[float32](m.seq, on) }
func (m cnnModel) numParams() int {
	n := 0
	for _, p := range m.params() {
		n += p.Value().Size()
	}
	return n
}
func (m cnnModel) describe() string {
	return fmt.Sprintf("CNN conv5x5(1-32) relu maxpool2 conv5x5(32-64) relu maxpool2 linear(%d-128) relu linear(128-%d)",
		cnnFlat(m.rows, m.cols), mnist.Classes)
}

// cnnEpochs is -model cnn's default -epochs, chosen so that the default
// run passes 99% test accuracy (see the README).
const cnnEpochs = 2

// setCNNDefaults gives -model cnn its own default for -epochs when the
// flag was not set.
func setCNNDefaults(c *config, fs *flag.FlagSet) {
	if c.model != "cnn" {
		return
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "epochs" })
	if !set {
		c.epochs = cnnEpochs
	}
}

// newModel builds the model -model names, seeded by -seed.
func newModel(c *config, train mnist.Dataset) classifier {
	rng := rand.New(rand.NewPCG(c.seed, 0))
	if c.model == "cnn" {
		return newCNN(rng, train.Rows, train.Cols)
	}
	return mlpModel{nn.NewMLP[float32](rng, modelSizes(train.Pixels(), c.hidden), nn.ReLU)}
}

// checkCNNData checks that images are large enough for the CNN's two
// pools and that one forward pass fits the activation limit.
func checkCNNData(c *config, train, test mnist.Dataset) error {
	if train.Rows < 4 || train.Cols < 4 {
		return fmt.Errorf("images of %dx%d pixels are too small for -model cnn (at least 4x4)", train.Rows, train.Cols)
	}
	b := max(min(c.batch, train.N), min(evalBatch, test.N))
	// The largest tensors: conv1's output, 32 channels at full size.
	if per := 32 * train.Pixels(); per > maxActivations/b {
		return fmt.Errorf("images of %dx%d pixels and batch %d need more than %d activations per layer for -model cnn", train.Rows, train.Cols, b, maxActivations)
	}
	if cnnFlat(train.Rows, train.Cols)*128 > maxParams {
		return fmt.Errorf("images of %dx%d pixels make a CNN of more than %d parameters", train.Rows, train.Cols, maxParams)
	}
	return nil
}
