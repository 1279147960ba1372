package autograd

import (
	"math"

	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/tensor"
)

// MSE returns the mean squared error mean((pred − target)²) as a scalar.
// Both may require gradients. It panics (ErrShape) if the shapes differ.
func (tp *Tape[T]) MSE(pred, target *Var[T]) *Var[T] {
	tp.check("MSE", pred)
	tp.check("MSE", target)
	if !sameShape(pred.value.Shape(), target.value.Shape()) {
		fail(ErrShape, "MSE: pred shape %v and target shape %v differ", pred.value.Shape(), target.value.Shape())
	}
	p, cp := tp.contig(pred.value)
	t, ct := tp.contig(target.value)
	var s float64
	for i, v := range p {
		d := float64(v) - float64(t[i])
		s += d * d
	}
	out := tp.alloc()
	out.Data()[0] = T(s / float64(len(p)))
	n := newNode[mseNode[T]](tp, mseKey)
	n.pred, n.target, n.pc, n.tc = pred, target, cp, ct
	return tp.record("MSE", n, out, pred, target, nil)
}

// mseNode is the saved state of MSE.
type mseNode[T tensor.Float] struct {
	pred, target *Var[T]
	pc, tc       *tensor.Dense[T] // contiguous copies of strided inputs, or nil
}

var mseKey = newPoolKey()

func (n *mseNode[T]) backward(tp *Tape[T], u *Var[T]) {
	p, t := data(n.pred.value, n.pc), data(n.target.value, n.tc)
	c := 2 * u.grad.Data()[0] / T(len(p))
	if n.pred.requiresGrad {
		ga, acc := tp.grad(n.pred)
		for i, v := range p {
			put(ga, i, acc, c*(v-t[i]))
		}
	}
	if n.target.requiresGrad {
		gb, acc := tp.grad(n.target)
		for i, v := range p {
			put(gb, i, acc, c*(t[i]-v))
		}
	}
}

// CrossEntropy returns the mean over the batch of −log softmax(logits)[y]
// for logits of shape N×C and N integer labels in [0, C): the classifier
// loss, stable for any logits, on tensor's kernels. The loss of a row is
// −LogSoftmax(z)[y], formed as (z_y − m) − log Σ e^(z−m) with m the row
// maximum, and the saved probabilities are the exponentials of those
// log-probabilities, so large logits keep every digit (logits [1e8, 1e8]
// give ln 2 and gradients ±0.5, as PyTorch does). Backward:
// z̄ = ḡ·(softmax(z) − onehot(y))/N, from the saved probabilities. labels
// is copied. It panics (ErrShape) if logits is not N×C with
// len(labels) == N, and (ErrIndex) if a label is out of range.
func (tp *Tape[T]) CrossEntropy(logits *Var[T], labels []int) *Var[T] {
	tp.check("CrossEntropy", logits)
	s := logits.value.Shape()
	if len(s) != 2 || s[0] != len(labels) {
		fail(ErrShape, "CrossEntropy: logits shape %v with %d labels (want N×C with N labels)", s, len(labels))
	}
	n, c := s[0], s[1]
	for i, y := range labels {
		if y < 0 || y >= c {
			fail(ErrIndex, "CrossEntropy: label %d at %d out of range for %d classes", y, i, c)
		}
	}
	// One row pass (tensor's LogSoftmax) gives the loss terms, then the
	// probabilities are its exponential, in place: one vectorised pass
	// instead of a second row pass.
	prob := tp.allocLike(logits.value)
	prob.LogSoftmax(logits.value, 1)
	lp := prob.Data()
	var sum float64
	for i, y := range labels {
		sum -= float64(lp[i*c+y])
	}
	prob.Exp(prob)
	out := tp.alloc()
	out.Data()[0] = T(sum / float64(n))
	nd := newNode[crossEntropyNode[T]](tp, crossEntropyKey)
	nd.logits, nd.prob = logits, prob
	nd.labels = append(nd.labels[:0], labels...)
	return tp.record("CrossEntropy", nd, out, logits, nil, nil)
}

// crossEntropyNode is the saved state of CrossEntropy and
// CrossEntropyWith: the softmax probabilities, a copy of the labels and,
// for CrossEntropyWith, its options and the number of samples counted.
type crossEntropyNode[T tensor.Float] struct {
	logits *Var[T]
	prob   *tensor.Dense[T]
	labels []int
	opts   bool // CrossEntropyWith: the fields below apply
	o      CrossEntropyOptions
	count  int // samples not ignored
}

var crossEntropyKey = newPoolKey()

// clearRefs keeps the labels' capacity.
func (nd *crossEntropyNode[T]) clearRefs() {
	*nd = crossEntropyNode[T]{labels: nd.labels[:0]}
}

func (nd *crossEntropyNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !nd.logits.requiresGrad {
		return
	}
	if nd.opts {
		nd.backwardWith(tp, u)
		return
	}
	s := nd.logits.value.Shape()
	n, c := s[0], s[1]
	pr := nd.prob.Data()
	k := u.grad.Data()[0] / T(n)
	ga, acc := tp.grad(nd.logits)
	for i, y := range nd.labels {
		gi, pi := ga[i*c:i*c+c], pr[i*c:i*c+c]
		for j, p := range pi {
			put(gi, j, acc, k*p)
		}
		gi[y] -= k
	}
}

// BCEWithLogits returns the mean binary cross-entropy between
// sigmoid(logits) and targets in [0, 1], computed from the logits stably
// as max(z, 0) − z·t + log(1 + e^−|z|). Backward: z̄ = ḡ·(σ(z) − t)/n and,
// if targets require a gradient, t̄ = −ḡ·z/n. It panics (ErrShape) if the
// shapes differ.
func (tp *Tape[T]) BCEWithLogits(logits, targets *Var[T]) *Var[T] {
	tp.check("BCEWithLogits", logits)
	tp.check("BCEWithLogits", targets)
	if !sameShape(logits.value.Shape(), targets.value.Shape()) {
		fail(ErrShape, "BCEWithLogits: logits shape %v and targets shape %v differ", logits.value.Shape(), targets.value.Shape())
	}
	z, cz := tp.contig(logits.value)
	t, ct := tp.contig(targets.value)
	var s float64
	for i, v := range z {
		x := float64(v)
		s += max(x, 0) - x*float64(t[i]) + math.Log1p(math.Exp(-math.Abs(x)))
	}
	out := tp.alloc()
	out.Data()[0] = T(s / float64(len(z)))
	n := newNode[bceNode[T]](tp, bceKey)
	n.logits, n.targets, n.zc, n.tc = logits, targets, cz, ct
	return tp.record("BCEWithLogits", n, out, logits, targets, nil)
}

// bceNode is the saved state of BCEWithLogits.
type bceNode[T tensor.Float] struct {
	logits, targets *Var[T]
	zc, tc          *tensor.Dense[T] // contiguous copies of strided inputs, or nil
}

var bceKey = newPoolKey()

func (n *bceNode[T]) backward(tp *Tape[T], u *Var[T]) {
	z, t := data(n.logits.value, n.zc), data(n.targets.value, n.tc)
	k := u.grad.Data()[0] / T(len(z))
	if n.logits.requiresGrad {
		ga, acc := tp.grad(n.logits)
		for i, v := range z {
			put(ga, i, acc, k*(mathx.Sigmoid(v)-t[i]))
		}
	}
	if n.targets.requiresGrad {
		gb, acc := tp.grad(n.targets)
		for i, v := range z {
			put(gb, i, acc, -k*v)
		}
	}
}

// CrossEntropyOptions are PyTorch's options of cross-entropy for
// CrossEntropyWith. The zero value is plain CrossEntropy.
type CrossEntropyOptions struct {
	// Ignore switches IgnoreIndex on: samples whose label is IgnoreIndex
	// add nothing to the loss or the gradient, and the mean is over the
	// other samples (PyTorch's ignore_index, whose default is −100); with
	// none left the loss is NaN (0/0, as PyTorch) and the gradient 0.
	Ignore      bool
	IgnoreIndex int
	// LabelSmoothing ε in [0, 1] mixes the one-hot target with the uniform
	// distribution: a sample's target is 1 − ε + ε/C on its label and
	// ε/C on every other class (PyTorch's label_smoothing).
	LabelSmoothing float64
}

// CrossEntropyWith is CrossEntropy with PyTorch's ignore_index and
// label_smoothing (see CrossEntropyOptions): the mean over the samples not
// ignored of
//
//	−(1 − ε)·log p[y] − ε/C·Σ_j log p[j],  p = softmax(logits row)
//
// and backward z̄ = ḡ·(p − (1 − ε)·onehot(y) − ε/C)/N′ for the N′ samples
// counted (0 for ignored ones). It panics as CrossEntropy does (a label
// equal to the active IgnoreIndex is allowed), and (ErrMisuse) if
// LabelSmoothing is outside [0, 1].
func (tp *Tape[T]) CrossEntropyWith(logits *Var[T], labels []int, o CrossEntropyOptions) *Var[T] {
	const op = "CrossEntropyWith"
	tp.check(op, logits)
	s := logits.value.Shape()
	if len(s) != 2 || s[0] != len(labels) {
		fail(ErrShape, "%s: logits shape %v with %d labels (want N×C with N labels)", op, s, len(labels))
	}
	if !(o.LabelSmoothing >= 0 && o.LabelSmoothing <= 1) {
		fail(ErrMisuse, "%s: label smoothing %v is not in [0, 1]", op, o.LabelSmoothing)
	}
	c := s[1]
	count := 0
	for i, y := range labels {
		if o.Ignore && y == o.IgnoreIndex {
			continue
		}
		if y < 0 || y >= c {
			fail(ErrIndex, "%s: label %d at %d out of range for %d classes", op, y, i, c)
		}
		count++
	}
	prob := tp.allocLike(logits.value)
	prob.LogSoftmax(logits.value, 1)
	lp := prob.Data()
	eps := o.LabelSmoothing
	var sum float64
	for i, y := range labels {
		if o.Ignore && y == o.IgnoreIndex {
			continue
		}
		sum -= (1 - eps) * float64(lp[i*c+y])
		if eps != 0 {
			var all float64
			for _, v := range lp[i*c : i*c+c] {
				all += float64(v)
			}
			sum -= eps / float64(c) * all
		}
	}
	prob.Exp(prob)
	out := tp.alloc()
	out.Data()[0] = T(sum / float64(count)) // NaN with nothing counted, as PyTorch
	nd := newNode[crossEntropyNode[T]](tp, crossEntropyKey)
	nd.logits, nd.prob, nd.opts, nd.o, nd.count = logits, prob, true, o, count
	nd.labels = append(nd.labels[:0], labels...)
	return tp.record(op, nd, out, logits, nil, nil)
}

func (nd *crossEntropyNode[T]) backwardWith(tp *Tape[T], u *Var[T]) {
	c := nd.logits.value.Shape()[1]
	pr := nd.prob.Data()
	k := u.grad.Data()[0] / T(nd.count)
	eps := nd.o.LabelSmoothing
	hit, rest := k*T(1-eps), k*T(eps/float64(c))
	ga, acc := tp.grad(nd.logits)
	for i, y := range nd.labels {
		gi, pi := ga[i*c:i*c+c], pr[i*c:i*c+c]
		if nd.o.Ignore && y == nd.o.IgnoreIndex {
			if !acc {
				clear(gi)
			}
			continue
		}
		for j, p := range pi {
			put(gi, j, acc, k*p-rest)
		}
		gi[y] -= hit
	}
}
