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
