// Package nn builds neural networks on adjoint's autograd: fully connected
// layers (Linear), multilayer perceptrons (MLP), activations, convolutional
// layers (Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d, BatchNorm2d,
// Dropout, Flatten), their composition (Sequential, any Layer), seeded
// weight initialisers (Kaiming and Xavier, uniform and normal) and
// checkpoints in NumPy's .npz format.
//
// A convolutional network is a Sequential, as in PyTorch:
//
//	pool := nn.MaxPool2d[float32]{Options: autograd.Pool2dOptions{Kernel: [2]int{2, 2}}}
//	relu := nn.Act[float32]{Fn: nn.ReLU}
//	m := nn.NewSequential[float32](
//		nn.NewConv2d[float32](rng, nn.Conv2dConfig{In: 1, Out: 32, Kernel: [2]int{5, 5}, Padding: [2]int{2, 2}}),
//		relu, pool, nn.Flatten[float32]{}, nn.NewLinear[float32](rng, 32*14*14, 10, nn.KaimingUniform))
//	nn.SetTraining[float32](m, false) // evaluation: BatchNorm2d's running statistics, no Dropout
//	err := nn.SaveLayer("cnn.npz", m) // "0.weight", "0.bias", "4.weight", "4.bias"
//
// A model's forward pass records ops on an autograd.Tape; its parameters
// are leaf Vars that an optimiser from package optim updates in place:
//
//	rng := rand.New(rand.NewPCG(seed, 0))
//	m := nn.NewMLP[float32](rng, []int{784, 512, 256, 10}, nn.ReLU)
//	opt := optim.NewAdam(m.Params(), optim.AdamConfig{LR: 1e-3})
//	tp := autograd.NewTape[float32]()
//	for each batch x, labels {
//		tp.Reset()
//		loss := tp.CrossEntropy(m.Forward(tp, x), labels)
//		tp.Backward(loss)
//		opt.Step()
//		opt.ZeroGrad()
//	}
//
// # Layout
//
// Linear computes y = x·W + b for a batch x of shape [batch, in], with W of
// shape [in, out] and b of shape [out], row-major. PyTorch's nn.Linear
// stores the transpose of W ([out, in]); transpose when moving weights
// between the two.
//
// Conv2d's weight has PyTorch's layout [Out, In/Groups, KH, KW] and input
// and output are NCHW, so convolution weights move between the two
// unchanged.
//
// Checkpoints (Save, Load, MLP.Save, MLP.Load) hold one array per parameter,
// named as NamedParams lists them ("layer0.weight", "layer0.bias",
// "layer1.weight", ...), in the parameter's shape and element type
// (float32 or float64): numpy.load("model.npz")["layer0.weight"] is W of
// the first layer. Load checks names and shapes and writes into the
// existing parameter tensors, so an optimiser built on them keeps working.
// The extension picks the format: ".npz" or ".safetensors" (what PyTorch
// and Hugging Face exchange; F16 and BF16 files load too); any other is an
// error (CheckpointPath tells in advance).
// SaveLayer and LoadLayer do the same for any Layer, buffers included
// (BatchNorm2d's "running_mean" and "running_var"), under the names of
// NamedParams and NamedBuffers: a Sequential's are PyTorch's state_dict
// names for the same nn.Sequential.
//
// # Transformers
//
// Embedding, LayerNorm, CausalSelfAttention and the pre-norm Block compose
// into GPT, GPT-2's architecture as nanoGPT builds it, with the output head
// tied to the token embedding. Its parameters carry nanoGPT's state_dict
// names (transformer.wte.weight, transformer.h.0.attn.c_attn.weight, …;
// the tied lm_head.weight is not repeated), in PyTorch's shapes except the
// Linear weights, which are [in, out] as above. DecaySplit splits them for
// AdamW as nanoGPT does. Generator samples from a GPT without a tape, with
// a KV cache and no allocation per token.
//
// # Determinism
//
// Initialisers draw from the math/rand/v2 generator they are given, element
// by element in row-major order, layer by layer, so a seed fixes a model.
//
// # Panics
//
// Constructors panic, with a value wrapping ErrArg, for sizes below one, an
// unknown activation or initialiser, or a nil generator; Save panics if two
// parameters share a name. Ops panic as autograd's do for inputs of the
// wrong shape. Load returns an error (wrapping ErrCheckpoint when the file
// does not match the model) and then leaves the model unchanged.
//
// # Concurrency
//
// Forward passes only read parameters, so several goroutines may run them
// at once, each on its own tape, while nothing updates the parameters.
package nn
