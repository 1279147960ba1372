// Package optim holds the optimisers that train adjoint's models: SGD (with
// momentum, Nesterov momentum and L2 weight decay), Adam and AdamW, and
// learning-rate schedules (StepDecay, Cosine).
//
// An optimiser is built over a fixed list of parameters (leaf Vars made
// with requiresGrad, usually from nn's Params). Each Step reads every
// parameter's Grad and updates its Value in place; parameters whose
// gradient is nil (not reached by any Backward yet) are skipped. The
// update formulas follow PyTorch's torch.optim and are written out on each
// type.
//
// A training step is:
//
//	tp.Reset()
//	loss := tp.CrossEntropy(model.Forward(tp, x), labels)
//	tp.Backward(loss)
//	opt.Step()
//	opt.ZeroGrad()
//
// # Allocation
//
// Step allocates its state buffers (momentum, first and second moments) on
// the first call and nothing after that. The update is split into chunks of
// about 32k elements that run in parallel through package parallel, so the
// result does not depend on the number of threads.
//
// # Panics
//
// Constructors panic, with a value wrapping ErrConfig, for settings that
// cannot be right (negative learning rate, momentum or beta outside
// [0, 1), Nesterov without momentum, a nil parameter); Step panics the
// same way if a gradient's size differs from its parameter's.
//
// # Concurrency
//
// An optimiser is not safe for concurrent use, and nothing may read or
// write its parameters' values or gradients during Step.
package optim
