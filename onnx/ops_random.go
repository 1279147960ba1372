package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Random generators: RandomUniform(Like), RandomNormal(Like), Bernoulli.
// With a seed attribute a node gives the same values on every run; without
// one each run draws a fresh seed.

func init() {
	Register("", "RandomUniform", 1, Latest, func(n *Node) (Kernel, error) { return newRandom(n, false, false) })
	Register("", "RandomNormal", 1, Latest, func(n *Node) (Kernel, error) { return newRandom(n, true, false) })
	Register("", "RandomUniformLike", 1, Latest, func(n *Node) (Kernel, error) { return newRandom(n, false, true) })
	Register("", "RandomNormalLike", 1, Latest, func(n *Node) (Kernel, error) { return newRandom(n, true, true) })
	Register("", "Bernoulli", 15, Latest, newBernoulli)
}

type seedSpec struct {
	fixed bool
	seed  uint64
}

func nodeSeed(n *Node) seedSpec {
	if a := n.Attr("seed"); a != nil {
		return seedSpec{true, math.Float64bits(float64(n.Float("seed", 0)))}
	}
	return seedSpec{}
}

func (s seedSpec) rng() *rand.Rand {
	if s.fixed {
		return rand.New(rand.NewPCG(s.seed, 0x9e3779b97f4a7c15))
	}
	return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
}

func newRandom(n *Node, normal, like bool) (Kernel, error) {
	a, b := float64(n.Float("low", 0)), float64(n.Float("high", 1))
	if normal {
		a, b = float64(n.Float("mean", 0)), float64(n.Float("scale", 1))
	}
	seed := nodeSeed(n)
	dt := DataType(n.Int("dtype", int64(Float)))
	hasDT := n.Has("dtype")
	shape := n.IntsAsInt("shape")
	if !like && shape == nil {
		return nil, n.Errorf("missing shape")
	}
	if !dt.IsFloat() {
		return nil, n.Errorf("dtype %v: %w", dt, ErrUnsupported)
	}
	return KernelFunc(func(in, out []*Tensor) error {
		t, s := dt, shape
		if like {
			x := in[0]
			s = x.Shape
			if !hasDT {
				t = x.DType
			}
			if !t.IsFloat() {
				return fmt.Errorf("dtype %v: %w", t, ErrUnsupported)
			}
		}
		if err := checkShapeSize(s); err != nil {
			return err
		}
		o := out[0]
		o.Reset(t, s)
		r := seed.rng()
		for i := range o.Size() {
			v := a + (b-a)*r.Float64()
			if normal {
				v = a + b*r.NormFloat64()
			}
			setFloat(o, i, v)
		}
		return nil
	}), nil
}

func newBernoulli(n *Node) (Kernel, error) {
	seed := nodeSeed(n)
	dt := DataType(n.Int("dtype", 0))
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		if !x.DType.IsFloat() {
			return fmt.Errorf("input is %v, want probabilities", x.DType)
		}
		t := dt
		if t == Undefined {
			t = x.DType
		}
		o := out[0]
		o.Reset(t, x.Shape)
		r := seed.rng()
		for i := range o.Size() {
			v := 0.0
			if r.Float64() < x.Float64At(i) {
				v = 1
			}
			setFloat(o, i, v)
		}
		return nil
	}), nil
}
