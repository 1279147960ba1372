package main

import (
	"flag"
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/internal/mnist"
	"github.com/adjoint-go/adjoint/nn"
)

// model is the network -model names, with the shape a batch of n images
// takes for it: flat rows for the MLP, [n, 1, rows, cols] for the CNN.
type model struct {
	net   *nn.Sequential[float32]
	input func(n int) []int
	desc  string
}

// newMLP is the MLP of -hidden: nn.NewMLP, checkpoint names "0.weight",
// "0.bias", "2.weight", … (PyTorch's for the same nn.Sequential).
func newMLP(rng *rand.Rand, rows, cols int, hidden []int) model {
	sizes := modelSizes(rows*cols, hidden)
	return model{
		net:   nn.NewMLP[float32](rng, sizes, nn.ReLU),
		input: func(n int) []int { return []int{n, rows * cols} },
		desc:  fmt.Sprintf("MLP %s %v", joinInts(sizes, "-"), nn.ReLU),
	}
}

// newCNN is the convolutional network of -model cnn, one nn.Sequential:
//
//	0 conv5×5(1→32, pad 2)  1 ReLU  2 maxpool2
//	3 conv5×5(32→64, pad 2) 4 ReLU  5 maxpool2
//	6 flatten  7 Linear 64·⌊⌊H/2⌋/2⌋·⌊⌊W/2⌋/2⌋→128 (3136 for MNIST)  8 ReLU
//	9 Linear 128→10
//
// Its checkpoint names and layouts are PyTorch's for the same
// nn.Sequential ("0.weight", "0.bias", "3.weight", ...).
// cnnFlat is the flattened size after the two pools for rows×cols images.
func cnnFlat(rows, cols int) int { return 64 * (rows / 2 / 2) * (cols / 2 / 2) }

func newCNN(rng *rand.Rand, rows, cols int) model {
	pool := nn.MaxPool2d[float32]{Options: autograd.Pool2dOptions{Kernel: [2]int{2, 2}}}
	relu := nn.Act[float32]{Fn: nn.ReLU}
	conv := func(in, out int) nn.Layer[float32] {
		return nn.NewConv2d[float32](rng, nn.Conv2dConfig{In: in, Out: out, Kernel: [2]int{5, 5}, Padding: [2]int{2, 2}})
	}
	net := nn.NewSequential[float32](
		conv(1, 32), relu, pool,
		conv(32, 64), relu, pool,
		nn.Flatten[float32]{},
		nn.NewLinear[float32](rng, cnnFlat(rows, cols), 128, nn.KaimingUniform), relu,
		nn.NewLinear[float32](rng, 128, mnist.Classes, nn.KaimingUniform),
	)
	return model{net: net,
		input: func(n int) []int { return []int{n, 1, rows, cols} },
		desc: fmt.Sprintf("CNN conv5x5(1-32) relu maxpool2 conv5x5(32-64) relu maxpool2 linear(%d-128) relu linear(128-%d)",
			cnnFlat(rows, cols), mnist.Classes)}
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
func newModel(c *config, train mnist.Dataset) model {
	rng := rand.New(rand.NewPCG(c.seed, 0))
	if c.model == "cnn" {
		return newCNN(rng, train.Rows, train.Cols)
	}
	return newMLP(rng, train.Rows, train.Cols, c.hidden)
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
