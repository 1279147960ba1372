package onnx

import (
	"fmt"
	"math"
)

// The optimizer ops of domain ai.onnx.preview.training (Adagrad, Adam,
// Momentum), as the ONNX spec defines them, computed in float64.

const trainingDomain = "ai.onnx.preview.training"

func init() {
	Register(trainingDomain, "Adagrad", 1, Latest, newAdagrad)
	Register(trainingDomain, "Adam", 1, Latest, newAdam)
	Register(trainingDomain, "Momentum", 1, Latest, newMomentum)
}

// optimizerArgs splits inputs R, T, then groups of n tensors each.
func optimizerArgs(in, out []*Tensor, groups int) (r, t float64, n int, err error) {
	if len(in) < 2 || (len(in)-2)%groups != 0 {
		return 0, 0, 0, fmt.Errorf("%d inputs do not form R, T and %d groups", len(in), groups)
	}
	n = (len(in) - 2) / groups
	if r, err = scalarOf(in[0], "R"); err != nil {
		return
	}
	if t, err = scalarOf(in[1], "T"); err != nil {
		return
	}
	for g := 1; g < groups; g++ {
		for i := range n {
			a, b := in[2+i], in[2+g*n+i]
			if !sameShape(a.Shape, b.Shape) || !a.DType.IsFloat() || a.DType != b.DType {
				return 0, 0, 0, fmt.Errorf("input %v%v does not match %v%v", b.DType, b.Shape, a.DType, a.Shape)
			}
		}
	}
	return r, t, n, nil
}

func newAdagrad(nd *Node) (Kernel, error) {
	decay := float64(nd.Float("decay_factor", 0))
	eps := float64(nd.Float("epsilon", 0))
	norm := float64(nd.Float("norm_coefficient", 0))
	return KernelFunc(func(in, out []*Tensor) error {
		R, T, n, err := optimizerArgs(in, out, 3)
		if err != nil {
			return err
		}
		if len(out) != 2*n {
			return fmt.Errorf("%d outputs, want %d", len(out), 2*n)
		}
		r := R / (1 + T*decay)
		for i := range n {
			x, g, h := in[2+i], in[2+n+i], in[2+2*n+i]
			xo, ho := out[i], out[n+i]
			xo.Reset(x.DType, x.Shape)
			ho.Reset(x.DType, x.Shape)
			for j := range x.Size() {
				gr := norm*x.Float64At(j) + g.Float64At(j)
				hn := h.Float64At(j) + gr*gr
				setFloat(ho, j, hn)
				setFloat(xo, j, x.Float64At(j)-r*gr/(math.Sqrt(hn)+eps))
			}
		}
		return nil
	}), nil
}

func newAdam(nd *Node) (Kernel, error) {
	alpha := float64(nd.Float("alpha", 0.9))
	beta := float64(nd.Float("beta", 0.999))
	eps := float64(nd.Float("epsilon", 0))
	norm := float64(nd.Float("norm_coefficient", 0))
	post := float64(nd.Float("norm_coefficient_post", 0))
	return KernelFunc(func(in, out []*Tensor) error {
		R, T, n, err := optimizerArgs(in, out, 4)
		if err != nil {
			return err
		}
		if len(out) != 3*n {
			return fmt.Errorf("%d outputs, want %d", len(out), 3*n)
		}
		ra := R
		if T > 0 {
			ra = R * math.Sqrt(1-math.Pow(beta, T)) / (1 - math.Pow(alpha, T))
		}
		for i := range n {
			x, g, v, h := in[2+i], in[2+n+i], in[2+2*n+i], in[2+3*n+i]
			xo, vo, ho := out[i], out[n+i], out[2*n+i]
			for _, o := range []*Tensor{xo, vo, ho} {
				o.Reset(x.DType, x.Shape)
			}
			for j := range x.Size() {
				gr := norm*x.Float64At(j) + g.Float64At(j)
				vn := alpha*v.Float64At(j) + (1-alpha)*gr
				hn := beta*h.Float64At(j) + (1-beta)*gr*gr
				xn := x.Float64At(j) - ra*vn/(math.Sqrt(hn)+eps)
				setFloat(xo, j, (1-post)*xn)
				setFloat(vo, j, vn)
				setFloat(ho, j, hn)
			}
		}
		return nil
	}), nil
}

func newMomentum(nd *Node) (Kernel, error) {
	alpha := float64(nd.Float("alpha", 0))
	beta := float64(nd.Float("beta", 0))
	norm := float64(nd.Float("norm_coefficient", 0))
	mode := nd.String("mode", "standard")
	if mode != "standard" && mode != "nesterov" {
		return nil, nd.Errorf("mode %q: %w", mode, ErrUnsupported)
	}
	return KernelFunc(func(in, out []*Tensor) error {
		R, T, n, err := optimizerArgs(in, out, 3)
		if err != nil {
			return err
		}
		if len(out) != 2*n {
			return fmt.Errorf("%d outputs, want %d", len(out), 2*n)
		}
		b := beta
		if T <= 0 {
			b = 1
		}
		for i := range n {
			x, g, v := in[2+i], in[2+n+i], in[2+2*n+i]
			xo, vo := out[i], out[n+i]
			xo.Reset(x.DType, x.Shape)
			vo.Reset(x.DType, x.Shape)
			for j := range x.Size() {
				gr := norm*x.Float64At(j) + g.Float64At(j)
				vn := alpha*v.Float64At(j) + b*gr
				xn := x.Float64At(j) - R*vn
				if mode == "nesterov" {
					xn = x.Float64At(j) - R*(gr+alpha*vn)
				}
				setFloat(xo, j, xn)
				setFloat(vo, j, vn)
			}
		}
		return nil
	}), nil
}
