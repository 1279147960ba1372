// Package onnx loads ONNX models and runs them in pure Go.
//
// Load (or Read, Parse) decodes a ModelProto with a hand-written protobuf
// reader, checks the graph (every value defined once, every input defined,
// no cycles), folds Constant nodes and other load-time constants, orders
// the nodes topologically and builds a kernel for every node at the opset
// version the model imports. An op that no kernel implements is an error
// at load time naming the op, its domain and opset (wrapping
// ErrUnsupported), never a failure in the middle of a run.
//
// A Session runs a loaded model: Run(map[string]*Tensor) returns new
// output tensors; RunInto writes into the caller's tensors, so repeated
// runs with fixed shapes reuse every buffer. Intermediate values share
// buffers planned by lifetime: a buffer is free again after its value's
// last reader (a transformer's 141 values fit in 4 buffers). Output shapes
// are computed by each kernel on every run (integer work on stack
// buffers, no allocation); there is no separate shape-inference pass.
//
// # Training
//
// NewGraphModule puts a loaded model's graph on an autograd.Tape, so an
// imported model can be fine-tuned (or differentiated) in Go: the result
// is an nn module whose parameters are the graph's float initializers,
// under their initializer names, which are PyTorch's state_dict names for
// a model exported with torch.onnx.export(..., do_constant_folding=False)
// (with training=TrainingMode.TRAINING BatchNormalization stays a node,
// otherwise the exporter folds it into the convolution). So nn.Parameters
// feeds an optimiser, nn.Train switches BatchNormalization and Dropout
// between training and evaluation, and nn.Save writes a checkpoint:
//
//	m, _ := onnx.Load("model.onnx")
//	model, err := onnx.NewGraphModule[float32](m) // names any op without a backward
//	opt := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 1e-3})
//	tp := autograd.NewTape[float32]()
//	for ... {
//		tp.Reset()
//		opt.ZeroGrad()
//		out, err := model.Forward(tp, map[string]*autograd.Var[float32]{"x": tp.Const(x)})
//		loss := tp.CrossEntropy(out["logits"], labels)
//		tp.Backward(loss)
//		opt.Step()
//	}
//
// GraphModule.Export returns a Model holding the fine-tuned weights, which
// a Session runs with all its rewrites.
//
// The graph runs as the file gives it, without the Session's folding and
// fusion. Nodes on the path of a parameter or float input are recorded
// with autograd's ops (Conv on Conv2d, MatMul and Gemm on MatMulT, Linear
// and BroadcastMatMul with GEMM's transpose flags, a 2-D Transpose read
// through the flag rather than copied, broadcasting arithmetic, pools,
// BatchNormalization, LayerNormalization, softmaxes, shape ops); shape
// arithmetic and integer inputs run on the inference kernels as
// constants. A node that a parameter's gradient must pass and whose op
// has no backward is an error from NewGraphModule (wrapping
// ErrNoBackward) naming the node, op, domain and opset, never a failure
// during training; the model itself still runs in a Session. A float
// initializer with no gradient path to an output (a causal-mask buffer
// read through Equal) stays a constant; GraphModuleOptions.Constants also
// trains weights that a converter stored in Constant nodes. The ops with
// a backward: Add, Sub, Mul, Div, Sum, Max, Min, Pow (constant exponent),
// Reciprocal, Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Clip,
// Tanh, Exp, Log, Sqrt, Neg, Abs, Sin, Cos, Erf, Gelu, Identity, Cast (to
// a float type), Dropout, Where (constant condition), Expand, MatMul,
// Gemm, Conv (2-D, groups, dilations, any padding), MaxPool, AveragePool,
// GlobalAveragePool, BatchNormalization, LayerNormalization, Softmax,
// LogSoftmax, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Concat,
// Slice (step 1), Split, Gather (constant indices), ReduceMean,
// ReduceSum, ReduceSumSquare, ReduceL2 and Pad (constant zeros).
//
// # Layout
//
// Tensor is a small tagged value: an ONNX element type, a shape, and one
// typed slice (float32 for float/float16/bfloat16, float64, int64 for every
// integer type, bool, string; Seq for the Sequence and Optional values).
// Kernels are registered by (domain, op type, opset range) with Register,
// one file per op family: ops_*.go (elementwise, logic, shape, index,
// reduce, control flow, sequence, text, training) and nn_*.go (convolution,
// pooling, normalization, GEMM, softmax, activations, recurrent, signal,
// quantization). Load-time passes: fold.go (constant folding) and
// nn_fuse*.go (BatchNormalization folding and epilogue fusions).
//
// # Untrusted files
//
// A model file is data: a declared length or dimension is checked against
// the bytes read before anything is allocated, nesting is bounded,
// external data is read only from inside the model's folder (no "..",
// absolute paths or symlinks out of it), and malformed input is an error,
// never a panic. A kernel that panics on data it failed to check is
// reported by Run as an error.
//
// # Panics
//
// Only programmer errors panic: NewTensor and Tensor.Reset with a negative
// dimension, Register with overlapping opset ranges. Everything that
// depends on a file or on input values returns an error.
//
// # Aliasing
//
// Run never modifies its inputs. The tensors Run returns belong to the
// caller and share nothing with the session or the model.
//
// # Concurrency
//
// A Model is immutable after loading. A Session is safe for concurrent Run
// calls; each call borrows its own working memory from the session, and all
// share the model's weights.
package onnx
