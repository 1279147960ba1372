package mathx

// The piecewise-linear activations, in T's precision, as PyTorch and ONNX
// define them; ONNX Runtime's kernels, the RNN activations and the taped
// ops of a GraphModule all call these, so they round alike.

// HardSigmoid returns max(0, min(1, αx + β)) (ONNX's HardSigmoid;
// PyTorch's hardsigmoid is α = 1/6, β = 1/2). NaN gives NaN.
func HardSigmoid[T Float](x, alpha, beta T) T {
	return min(max(alpha*x+beta, 0), 1)
}

// HardSwish returns x·max(0, min(1, x/6 + 1/2)) (ONNX's HardSwish,
// PyTorch's hardswish).
func HardSwish[T Float](x T) T {
	return x * min(max(x/6+0.5, 0), 1)
}
