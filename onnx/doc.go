// Package onnx loads ONNX models and runs them in pure Go.
//
// Load (or Read, Parse) decodes a ModelProto with a hand-written protobuf
// reader, checks the graph (every value defined once, every input defined,
// no cycles), folds Constant nodes, orders the nodes topologically and builds
// a kernel for every node at the opset version the model imports. An op that
// no kernel implements is an error at load time naming the op, its domain
// and opset, never a failure in the middle of a run.
//
// A Session runs a loaded model: Run(map[string]*Tensor).
//
// # Layout
//
// Tensor is a small tagged value: an ONNX element type, a shape, and one
// typed slice (float32 for float/float16/bfloat16, float64, int64 for every
// integer type, bool, string). Kernels are registered by (domain, op type,
// opset range) with Register, one file per op family (ops_*.go).
//
// # Untrusted files
//
// A model file is data: a declared length or dimension is checked against
// the bytes read before anything is allocated, nesting is bounded, external
// data is read only from inside the model's folder, and malformed input is
// an error, never a panic.
//
// # Concurrency
//
// A Model is immutable after loading. A Session is safe for concurrent Run
// calls; each call borrows its own working memory from the session, and all
// share the model's weights.
package onnx
