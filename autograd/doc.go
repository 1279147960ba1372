// Package autograd is reverse-mode automatic differentiation on a
// reusable tape, in the notation of Giles (2008): for a scalar loss E every
// value X gets an adjoint X̄ = ∂E/∂X of X's shape, and Backward sends
// adjoints from the loss back to the leaves.
//
//	tp := autograd.NewTape[float64]()
//	x := autograd.NewVar(tensor.FromSlice([]float64{3}), true)
//	y := autograd.NewVar(tensor.FromSlice([]float64{2}), true)
//	f := tp.Mul(tp.Square(x), y) // x²y
//	err := tp.Backward(f)        // x.Grad() = 2xy = 12, y.Grad() = x² = 9
//
// # Layout and the tape model
//
// Define-by-run: each op (a method of Tape) computes its value at once and
// records a node holding its inputs, an op code and what its backward needs
// (the output, a contiguous copy of a strided input, softmax
// probabilities). Nothing is a closure, so recording allocates nothing.
// Backward walks the nodes in reverse recording order, which is a
// topological order, and skips those the loss does not reach.
//
// Leaves (NewVar) are parameters and inputs. They belong to no tape; their
// gradients (Grad) accumulate over every Backward until ZeroGrad. ZeroGrad
// is lazy and in place: the next Backward overwrites the gradient (its
// GEMMs run with beta = 0) and Grad clears it if it is read first, so
// zeroing costs no pass over memory. Per-step inputs can also be recorded
// with Tape.Const, which allocates nothing in steady state.
//
// Node values and adjoints are contiguous row-major tensors from the tape's
// buffer pool. Tape.Reset returns them to the pool by shape and recycles
// the node structs, so a training loop that records the same computation
// every step (forward, Backward, in-place update, Reset) stops allocating
// after its first step. Nodes and their values must not be used after
// Reset. Leaf values may be any view; a transposed 2-D view is read by GEMM
// through its transpose flag, other strided values are copied once per op.
//
// Matrix products (MatMul, MatMulT, Linear) call the gemm package with
// transpose flags in both directions: X̄ += Z̄·Yᵀ and Ȳ += Xᵀ·Z̄ are one GEMM
// each, accumulating into the adjoint with beta = 1, with no transpose
// materialised and no temporary. Elementwise backward is one fused pass
// ā (+)= h̄ ⊙ g′ over contiguous slices, taking g′ from the saved output
// where cheaper (tanh 1 − h², sigmoid h(1 − h), relu h > 0), split across
// cores by parallel.Do above a grain size. Broadcasting ops sum adjoints
// over the broadcast axes within that pass. The first contribution to an
// adjoint in a pass overwrites it (beta = 0) and later ones add, so a value
// used on several paths gets the sum of the adjoints of every path and no
// buffer is zeroed first.
//
// ReLU forward and backward and the accumulation of adjoints run in
// AVX-512 or AVX2 assembly, generated with avo from /_asm/autograd/amd64 and
// bit-identical to the Go kernels. The level is chosen once from the CPU's
// features; ADJOINT_KERNEL=generic|avx2 lowers it (as for gemm), and the
// purego build tag removes the assembly.
//
// After Backward the graph is released: node values stay readable until
// Reset, but a second Backward returns ErrGraphReleased unless
// RetainGraph(true) was set. NoGrad(true) records values only (evaluation).
// Detach stops adjoints. KeepGrad makes an intermediate's adjoint readable.
//
// Convolution (Conv2d, NCHW with PyTorch's weight layout [OC, C/groups,
// KH, KW]) is the matrix product again, over image patches: per image
// Y = W·col(X) + b, W̄ += Ȳ·col(X)ᵀ, and col(X)‾ = Wᵀ·Ȳ scattered back by
// col2im (tensor.Im2Col, tensor.Col2Im), each one GEMM with transpose
// flags. The patch rows are built a block of channels at a time so that
// they stay in cache, and recomputed in backward rather than saved; a
// shallow forward (few input channels) skips them altogether, GEMM packing
// the patches straight into its panels (an implicit GEMM, bitwise the
// same). Images
// run in parallel in a fixed number of parts whose partial W̄ are summed in
// order, so results do not depend on the thread count. Pooling (MaxPool2d,
// which saves its argmax; AvgPool2d; GlobalAvgPool2d) and BatchNorm2d
// (batch or running statistics, one fused backward pass per channel) run
// in parallel over planes or channels the same way.
//
// The ops: MatMul, MatMulT, Linear; Add, Sub, Mul, Div (broadcasting); Neg,
// Scale, AddScalar, Exp, Log, Sqrt, Square, Pow, Abs, Tanh, Sigmoid, Relu,
// LeakyRelu, Gelu, Sin, Cos; Sum, Mean, SumAxis, MeanAxis, LogSumExp; Reshape,
// Transpose, Slice, Concat; Softmax, LogSoftmax; MSE, CrossEntropy,
// BCEWithLogits; Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d,
// BatchNorm2d, Dropout; Const, Detach. For transformers: BatchedMatMul (products
// over leading dimensions with transpose flags, one strided batched GEMM
// each way), Permute, Embedding (a gather whose backward scatter-adds, so
// repeated indices and a table tied to an output matrix sum their
// adjoints), LayerNorm, CausalSoftmax (scaled and causally masked, fused;
// masked entries are never exponentiated and get an adjoint of exactly 0)
// and CausalAttention (multi-head attention reading the heads in place from
// GPT-2's fused QKV rows, no permuted copies).
//
// CheckGrad compares the adjoints of any float64 function built from these
// ops with central differences.
//
// # Panics
//
// Programmer errors panic at once, before anything is written, with an
// *Error naming the op and the shapes or values: shapes that do not fit
// (wraps ErrShape, the tensor package's sentinel), an axis, slice bound or
// class label out of range (ErrIndex), a nil Var or a node from another
// tape or from before a Reset (ErrMisuse). Conditions that depend on data
// or on the state of the graph are errors returned by Backward: a
// non-scalar loss without a seed (ErrNotScalar), a released graph
// (ErrGraphReleased), a loss that requires no gradient (ErrNoGrad), and a
// NaN or Inf found in anomaly mode (*AnomalyError wrapping ErrAnomaly,
// naming the op and whether forward or backward produced it).
//
// # Aliasing
//
// NewVar, Const, Detach and Reshape (of a contiguous value) share storage
// with their input; every other op writes a fresh buffer. An optimiser may
// update a leaf's Value in place between steps, not between an op that
// reads the leaf and the Backward that follows it.
//
// # Concurrency
//
// The contract, in three rules:
//
//   - One Tape per goroutine. A Tape and the nodes recorded on it are used
//     by one goroutine at a time (recording ops, Backward, Reset, reading
//     node values and gradients). To train or evaluate in parallel, give
//     each goroutine its own tape; tapes share nothing.
//   - Leaves may be shared for forward. Any number of tapes, on any
//     number of goroutines, may read the same leaf (a model's parameters)
//     at once, provided nothing writes its Value meanwhile (an optimiser's
//     Step, Load).
//   - Concurrent Backward into a shared leaf is not allowed. Backward
//     writes the gradients of the leaves it reaches, so two tapes whose
//     graphs reach the same leaf that requires a gradient must not run
//     Backward at the same time; give each goroutine its own copy of the
//     parameters (or serialise the Backward calls) and sum the gradients.
//
// A Tape used from two goroutines at once panics, wrapping ErrMisuse, with
// "Tape used from two goroutines at once" and what each was doing, rather
// than corrupting itself silently. The check is a cheap in-use flag (one
// atomic compare-and-swap per op and per Backward, no allocation), so it
// is best-effort: it catches an op or Reset during another goroutine's
// Backward or Reset, and most other overlaps, but two goroutines inside
// ops at the same instant can still race undetected. The race detector
// (go test -race) finds every case.
//
// Large elementwise kernels and the GEMMs use the parallel package's
// workers internally, with results independent of the thread count.
package autograd
