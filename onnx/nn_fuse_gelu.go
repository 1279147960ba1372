package onnx

import (
	"math"

	"github.com/adjoint-go/adjoint/internal/mathx"
)

// The GELU pattern: PyTorch before opset 20 exports the erf GELU as
//
//	y = Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)
//
// five nodes and five passes. fuseGelu replaces each such chain (whose
// intermediates are read only inside it) by one Gelu node, which
// fuseActivation then moves into the preceding MatMul's epilogue when
// that MatMul's output is read by nothing else, so the FFN's first layer
// is one GEMM and one pass.

func fuseGelu(g *Graph, order []*Node, st *fuseStats) []*Node {
	cnt := readers(g, order)
	prod := producers(order)
	users := map[string][]*Node{}
	for _, n := range order {
		for _, in := range n.Inputs {
			users[in] = append(users[in], n)
		}
	}
	one := func(name, op string) *Node {
		if cnt[name] != 1 || len(users[name]) != 1 {
			return nil
		}
		u := users[name][0]
		if u.OpType != op || u.Domain != "" || len(u.Outputs) != 1 {
			return nil
		}
		return u
	}
	near := func(name string, want float64) bool {
		v, ok := scalarF32(constThrough(g, prod, name))
		return ok && math.Abs(float64(v)-want) <= 1e-6*want
	}
	drop := map[*Node]bool{}
	replace := map[*Node]*Node{}
	for _, div := range order {
		if div.OpType != "Div" || div.Domain != "" || len(div.Inputs) != 2 || len(div.Outputs) != 1 || drop[div] {
			continue
		}
		x := div.Inputs[0]
		if !near(div.Inputs[1], math.Sqrt2) || cnt[x] != 2 {
			continue
		}
		erf := one(div.Outputs[0], "Erf")
		if erf == nil {
			continue
		}
		add := one(erf.Outputs[0], "Add")
		if add == nil || !near(other(add, erf.Outputs[0]), 1) {
			continue
		}
		mul := one(add.Outputs[0], "Mul")
		if mul == nil || other(mul, add.Outputs[0]) != x {
			continue
		}
		half := one(mul.Outputs[0], "Mul")
		if half == nil || !near(other(half, mul.Outputs[0]), 0.5) {
			continue
		}
		gelu := &Node{
			Name: half.Name + "/Gelu", OpType: "Gelu", Opset: 20,
			Inputs: []string{x}, Outputs: []string{half.Outputs[0]},
			graph: g, kernel: geluKernel{},
		}
		for _, n := range []*Node{div, erf, add, mul} {
			drop[n] = true
		}
		replace[half] = gelu
		st.geluFused++
	}
	if len(replace) == 0 {
		return order
	}
	out := order[:0:0]
	for _, n := range order {
		if drop[n] {
			continue
		}
		if r := replace[n]; r != nil {
			n = r
		}
		out = append(out, n)
	}
	return out
}

// geluKernel is the erf GELU, x·Φ(x), on float tensors.
type geluKernel struct{}

func (geluKernel) Run(in, out []*Tensor) error {
	x := in[0]
	switch x.DType.Storage() {
	case StoreF32:
		out[0].Reset(x.DType, x.Shape)
		y := out[0].F32
		if serial(len(x.F32)) {
			geluRun(x.F32, y)
		} else {
			splitRun(len(x.F32), func(lo, hi int) { geluRun(x.F32[lo:hi], y[lo:hi]) })
		}
		return nil
	case StoreF64:
		out[0].Reset(x.DType, x.Shape)
		geluRun(x.F64, out[0].F64)
		return nil
	}
	return mapKernel("Gelu", nil).Run(in, out)
}

// geluRun sets y = x·Φ(x) through mathx's one GELU (float32: the AVX2
// kernel of math32.GeluErfSlice where the CPU has it). x and y may be the
// same slice.
func geluRun[T real](x, y []T) {
	switch x := any(x).(type) {
	case []float32:
		mathx.GeluErfSlice(any(y).([]float32)[:len(x)], x)
	case []float64:
		mathx.GeluErfSlice(any(y).([]float64)[:len(x)], x)
	}
}
