// Package tensor provides Dense, an N-dimensional array of float32 or
// float64 (or a named type with one of those underlying types), with views
// that share storage, NumPy-style broadcasting, reductions, fast elementwise
// math and matrix products through package gemm.
//
// # Layout
//
// A Dense holds a backing slice, a shape, strides (in elements) and an
// offset: element (i0, i1, ...) lives at data[offset + Σ ik·strides[k]].
// New, Zeros, Full, FromSlice and the other constructors make contiguous
// row-major tensors. Reshape, T, Permute, Slice, Squeeze, Unsqueeze and
// BroadcastTo return views that share the backing slice: writing through a
// view changes the original. Reshape needs contiguous data and panics
// otherwise (call Contiguous first); BroadcastTo gives repeated dimensions
// stride 0 and is meant for reading only. Strides are never negative.
//
// # Destinations
//
// Operations come in two forms. A method on a destination writes the result
// into it and returns it: d.Add(a, b) sets d = a + b. The destination must
// already have exactly the result's shape; it is never reallocated, so a
// loop that reuses its destinations allocates nothing. A package function of
// the same name allocates and returns the result: Add(a, b).
//
// Reductions along an axis (SumAxis, MeanAxis, MaxAxis, MinAxis,
// LogSumExpAxis) accept a destination whose shape is the input's with that
// axis set to 1 (keep-dims) or removed; their package functions take a
// keepDims flag. Whole-tensor reductions (SumAll, MeanAll, MaxAll, MinAll)
// return a value. ArgMaxAxis returns indices as a []int in row-major order
// of the reduced shape. Negative axes count from the end.
//
// For reverse-mode differentiation there are fused one-pass kernels that
// take a saved value and an upstream adjoint (TanhBackward, SigmoidBackward,
// ReluBackward, LeakyReluBackward, GeluBackward, GeluErfBackward), the row
// kernels SoftmaxBackward and LogSoftmaxBackward (from the saved output and
// its adjoint, along an axis), an axpy (AddScaled), and SumTo/AddSumTo,
// which sum an adjoint back over broadcast dimensions. autograd's softmax,
// reduction and broadcasting ops are built on these.
//
// # Broadcasting
//
// Binary elementwise operations follow NumPy: shapes are aligned on the
// right, missing leading dimensions count as 1, and each pair of dimensions
// must be equal or contain a 1, which is repeated. [2 3] and [3] give [2 3];
// [4 1] and [3] give [4 3]; [2 3] and [4] do not broadcast. SumTo and
// AddSumTo go the other way, summing over the broadcast dimensions, which is
// what the adjoint of a broadcast needs.
//
// # Panics
//
// Misuse is a programmer error and panics at once, before anything is
// written, with an *Error that names the operation and the shapes, e.g.
//
//	tensor: Add: shapes [2 3] and [4] do not broadcast
//
// and wraps one of ErrShape, ErrIndex, ErrNotContiguous or ErrOverlap
// (match with errors.Is on the recovered value). A tensor has at most
// MaxRank (16) dimensions, the rank elementwise operations and reductions
// handle, so any tensor that can be made can be operated on.
//
// # Aliasing
//
// An elementwise destination may be the very same view as an input
// (d.Add(d, b) is an in-place add, d.Exp(d) too), and Softmax/LogSoftmax may
// run in place, as may SoftmaxBackward/LogSoftmaxBackward over y or g. Any other overlap between a destination and an input (a
// shifted, transposed or broadcast view of the same storage) panics with
// ErrOverlap, as does any overlap between a reduction's or MatMul's
// destination and its inputs. Inputs may overlap each other freely.
//
// # Concurrency
//
// Operations above a grain size (32768 elements for cheap operations, 4096
// for transcendental ones) split their work across goroutines through
// package parallel. Reductions are deterministic: the result is the same
// bit for bit for any thread count, because work is split only between
// output elements or over fixed-size chunks combined in order. A Dense is
// not safe for concurrent writes; concurrent reads are fine.
//
// # Files
//
// NumPy's .npy and .npz (ReadNPY, SaveNPZ, ...) and safetensors, the format
// PyTorch and Hugging Face exchange weights in (ReadSafetensors,
// SaveSafetensors, ...), are read and written: written in T, or as int64
// where SaveOptions.Int64 names a tensor (PyTorch's integer buffers); read
// from the float, integer and bool dtypes PyTorch writes, converted to T.
// Files are untrusted: every size, shape and offset a header declares is
// checked against the bytes present before anything is allocated, a shape
// is read only up to MaxRank dimensions and checked by CheckShape (the
// rule New applies), what a parsed header holds is counted against its
// length (Budget), names in errors are cut short (QuoteName), and bad files
// are errors wrapping ErrNPY, ErrNPYType, ErrSafetensors or
// ErrSafetensorsType, never panics. Readers of other formats use the same
// helpers (bounds.go).
//
// # Kernels
//
// Unit-stride runs of Add, Sub, Mul and Div use AVX-512 or AVX2 loops on
// amd64 and NEON loops on arm64, chosen once from the CPU's features by
// internal/dispatch (generated by /_asm/tensor/amd64 with avo and by
// /_asm/tensor/arm64; the purego build tag removes them, and
// ADJOINT_KERNEL=generic|avx2|avx512|neon sets the level as it sets every
// package's), bit-identical to the Go loops; everything else is plain Go. After
// dimensions of size 1 are dropped and contiguous neighbours merged, a
// same-shape contiguous operation is one flat run and a row-vector
// broadcast is one run per row; strided operands are gathered into a small
// stack buffer, processed as a run and scattered back.
//
// # Precision
//
// float32 Exp, Log, Tanh and Sigmoid use internal/math32, accurate to a few
// ulp, rather than converting through float64. Sums accumulate in the
// element type.
package tensor
