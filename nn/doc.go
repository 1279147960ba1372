// Package nn builds neural networks on adjoint's autograd: fully connected
// layers (Linear), multilayer perceptrons (NewMLP), activations, convolutional
// layers (Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d, BatchNorm2d,
// Dropout, Flatten), their composition (Sequential, any Layer), seeded
// weight initialisers (Kaiming and Xavier, uniform and normal) and
// checkpoints in NumPy's .npz format.
//
// A model is a tree of modules, as in PyTorch: each Module names its
// direct children, parameters and buffers once (Members), and
// NamedParameters, NamedBuffers, Train, StateDict, LoadStateDict, Save and
// Load derive from that, recursively, for a user's own modules too (see
// the example of Module). A convolutional network is a Sequential:
//
//	pool := nn.MaxPool2d[float32]{Options: autograd.Pool2dOptions{Kernel: [2]int{2, 2}}}
//	relu := nn.Act[float32]{Fn: nn.ReLU}
//	m := nn.NewSequential[float32](
//		nn.NewConv2d[float32](rng, nn.Conv2dConfig{In: 1, Out: 32, Kernel: [2]int{5, 5}, Padding: [2]int{2, 2}}),
//		relu, pool, nn.Flatten[float32]{}, nn.NewLinear[float32](rng, 32*14*14, 10, nn.KaimingUniform))
//	nn.Train[float32](m, false) // evaluation: BatchNorm2d's running statistics, no Dropout
//	err := nn.Save("cnn.safetensors", m) // "0.weight", "0.bias", "4.weight", "4.bias"
//
// A model's forward pass records ops on an autograd.Tape; its parameters
// are leaf Vars that an optimiser from package optim updates in place:
//
//	rng := rand.New(rand.NewPCG(seed, 0))
//	m := nn.NewMLP[float32](rng, []int{784, 512, 256, 10}, nn.ReLU)
//	opt := optim.NewAdam(nn.Parameters(m), optim.AdamConfig{LR: 1e-3})
//	tp := autograd.NewTape[float32]()
//	for each batch x, labels {
//		tp.Reset()
//		loss := tp.CrossEntropy(m.Forward(tp, x), labels)
//		tp.Backward(loss)
//		opt.Step()
//		opt.ZeroGrad()
//	}
//
// A user's module is a struct that names its members once; a module with
// several inputs has its own Forward:
//
//	type TwoInput struct{ A, B, Head *nn.Linear[float32] }
//
//	func (m *TwoInput) Members(ms *nn.Members[float32]) {
//		ms.Module("a", m.A)
//		ms.Module("b", m.B)
//		ms.Module("head", m.Head)
//	}
//
//	func (m *TwoInput) Forward(tp *autograd.Tape[float32], x, z *autograd.Var[float32]) *autograd.Var[float32] {
//		return m.Head.Forward(tp, tp.Relu(tp.Add(m.A.Forward(tp, x), m.B.Forward(tp, z))))
//	}
//
// nn.Parameters(m), nn.Train(m, false), nn.Save(path, m, opt) and
// nn.Load(path, m, true, opt) then work on it ("a.weight", "head.bias", …;
// see the example of Module).
//
// Inference runs the same module code on a tape in no-grad mode
// (tp.NoGrad(true)), which records values only; GPT's Generator does so
// with a KV cache.
//
// # Layout
//
// Every layer keeps PyTorch's layout and state_dict names, so weights move
// between the two unchanged: Linear computes y = x·Wᵀ + b for x of shape
// [..., in], with W of shape [out, in] (read through GEMM's transpose
// flag, never copied) and b [out]; Conv2d's weight is
// [Out, In/Groups, KH, KW] over NCHW input; BatchNorm2d keeps weight, bias,
// running_mean, running_var and num_batches_tracked.
//
// Checkpoints (Save, Load) hold one array per parameter and buffer, under
// its state_dict name ("0.weight", "0.bias", "2.weight", … for NewMLP, as
// for PyTorch's nn.Sequential), in its shape and element type. The
// extension picks the format: ".safetensors" (as
// safetensors.torch.save_file writes it, {"format": "pt"} metadata; F16,
// BF16 and the integer dtypes load too) or ".npz"
// (numpy.load("model.npz")["0.weight"]); any other is an error
// (CheckpointPath tells in advance). PyTorch's
// model.load_state_dict(safetensors.torch.load_file(path)) reads what Save
// writes; Load reads what PyTorch saves, strictly or not (LoadReport), and
// checks names, shapes and values before changing anything. An optimiser's
// state can ride along (Save's and Load's opts).
//
// # Transformers
//
// Embedding, LayerNorm, CausalSelfAttention and the pre-norm Block compose
// into GPT, GPT-2's architecture as nanoGPT builds it, with the output head
// tied to the token embedding. Its parameters carry nanoGPT's state_dict
// names (transformer.wte.weight, transformer.h.0.attn.c_attn.weight, …;
// the tied lm_head.weight is not repeated), in PyTorch's shapes.
// Token ids are []int, as PyTorch's LongTensor: Embedding.Lookup(tp, ids)
// gives the [len(ids), Dim] rows, GPT.Logits and GPT.Loss take ids and
// targets as []int. Forward (the Layer form, for a Sequential or a model
// whose input is a Var) reads ids from a Var's values instead and panics
// for a value that is not an integer in range.
// DecaySplit splits them for
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
// unknown activation or initialiser, or a nil generator; StateDict (and so
// Save) panics if two members share a name. Ops panic as autograd's do for
// inputs of the wrong shape. Load returns an error (wrapping ErrCheckpoint
// when the file does not match the model, ErrFormat for an unknown
// extension) and then leaves the model unchanged.
//
// # Concurrency
//
// Layers keep no per-call state: in evaluation mode (Train(m, false)) a
// forward pass only reads the model, so several goroutines may run
// forward passes on one model at once, each on its own tape, while nothing
// updates it. In training mode BatchNorm2d updates its running statistics
// and Dropout draws from its generator, so each goroutine needs its own
// model there. The race detector checks this (TestConcurrentForward).
package nn
