package onnx

import (
	"fmt"
	"math"
)

// Losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (which is
// LogSoftmax over the class axis, then the same NLL), with per-class
// weights, ignore_index and the reductions none, sum and mean (mean
// divides by the summed weights of the targets not ignored).

func init() {
	Register("", "NegativeLogLikelihoodLoss", 12, Latest, func(n *Node) (Kernel, error) { return newLoss(n, false) })
	Register("", "SoftmaxCrossEntropyLoss", 12, Latest, func(n *Node) (Kernel, error) { return newLoss(n, true) })
}

type lossKernel struct {
	softmax   bool
	reduction string
	ignore    int64
	hasIgnore bool
}

func newLoss(n *Node, softmax bool) (Kernel, error) {
	k := &lossKernel{softmax: softmax, reduction: n.String("reduction", "mean"), hasIgnore: n.Has("ignore_index"), ignore: n.Int("ignore_index", 0)}
	switch k.reduction {
	case "none", "sum", "mean":
	default:
		return nil, n.Errorf("reduction %q: %w", k.reduction, ErrUnsupported)
	}
	if len(n.Inputs) < 2 {
		return nil, n.Errorf("want 2 or 3 inputs, have %d", len(n.Inputs))
	}
	return k, n.Err()
}

func (k *lossKernel) Run(in, out []*Tensor) error {
	op := "NegativeLogLikelihoodLoss"
	if k.softmax {
		op = "SoftmaxCrossEntropyLoss"
	}
	x, target, w := in[0], in[1], Input(in, 2)
	f32, ok := floatKind(x.DType)
	if !ok || target.DType.Storage() != StoreI64 {
		return fmt.Errorf("%s: input %v, target %v: %w", op, x.DType, target.DType, ErrUnsupported)
	}
	if x.Rank() < 2 || target.Rank() != x.Rank()-1 || target.Shape[0] != x.Shape[0] || !eqInts(target.Shape[1:], x.Shape[2:]) {
		return fmt.Errorf("%s: input shape %v and target shape %v do not fit", op, x.Shape, target.Shape)
	}
	c := x.Shape[1]
	if w != nil && (w.Rank() != 1 || w.Shape[0] != c || w.DType != x.DType) {
		return fmt.Errorf("%s: weight shape %v, want [%d]", op, w.Shape, c)
	}
	for _, t := range target.I64 {
		if (t < 0 || t >= int64(c)) && !(k.hasIgnore && t == k.ignore) {
			return fmt.Errorf("%s: target %d out of range [0, %d)", op, t, c)
		}
	}
	if k.reduction == "none" {
		out[0].Reset(x.DType, target.Shape)
	} else {
		out[0].Reset(x.DType, nil)
	}
	var logp *Tensor
	if k.softmax && len(out) > 1 {
		logp = out[1]
	}
	if f32 {
		lossRun(k, x.DType, x.Shape, x.F32, target.I64, biasOf[float32](w), out[0].F32, logp)
	} else {
		lossRun(k, x.DType, x.Shape, x.F64, target.I64, biasOf[float64](w), out[0].F64, logp)
	}
	return nil
}

func lossRun[T real](k *lossKernel, dt DataType, shape []int, x []T, target []int64, w, y []T, logp *Tensor) {
	n, c := shape[0], shape[1]
	d := numel(shape[2:])
	lp := x
	if k.softmax {
		// Log-softmax over the class axis.
		var dst []T
		if logp != nil {
			logp.Reset(dt, shape)
			dst = floatsOf[T](logp)
		} else {
			dst = make([]T, len(x))
		}
		softmaxRun(logSoftmaxRows, n, c, d, x, dst)
		lp = dst
	}
	var sum, wsum float64
	for i := range n {
		for j := range d {
			t := target[i*d+j]
			var l, wt float64
			if !(k.hasIgnore && t == k.ignore) {
				wt = 1
				if w != nil {
					wt = float64(w[t])
				}
				l = -float64(lp[(i*c+int(t))*d+j]) * wt
			}
			if k.reduction == "none" {
				y[i*d+j] = T(l)
			}
			sum += l
			wsum += wt
		}
	}
	switch k.reduction {
	case "sum":
		y[0] = T(sum)
	case "mean":
		if wsum == 0 {
			y[0] = T(math.NaN())
			if sum == 0 {
				y[0] = 0
			}
		} else {
			y[0] = T(sum / wsum)
		}
	}
}
