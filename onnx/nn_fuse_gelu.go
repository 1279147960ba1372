package onnx

import (
	"math"

	"github.com/adjoint-go/adjoint/internal/math32"
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

func geluRun[T real](x, y []T) {
	y = y[:len(x)]
	var z T
	if isF32(z) {
		gelu32(as32(x), as32(y))
		return
	}
	for i, v := range x {
		y[i] = gelu(v)
	}
}

// gelu32 is geluRun for float32, in blocks: the exp(−x²/2) of erf32's
// formula for a block at once through math32.ExpSlice (vector code), then
// the polynomial. x and y may be the same slice.
func gelu32(x, y []float32) {
	var e [256]float32
	for len(x) > 0 {
		n := min(len(x), len(e))
		xs, ys, es := x[:n], y[:n], e[:n]
		for i, v := range xs {
			a := min(v*v*0.5, 16) // erf32 treats |x/√2| > 4 as ±1
			es[i] = -a
		}
		math32.ExpSlice(es, es)
		es = es[:len(xs)]
		ys = ys[:len(xs)]
		for i, v := range xs {
			// Branch-free (signs of activations are random, and a
			// mispredicted branch costs more than the arithmetic): |a| and
			// the sign of erf by bit operations. Past |a| = 4 the clamped
			// exponent leaves r within float32 rounding of 1.
			bits := math.Float32bits(v)
			a := math.Float32frombits(bits&^(1<<31)) * (1 / math.Sqrt2)
			t := 1 / (1 + 0.3275911*a)
			p := t * (0.254829592 + t*(-0.284496736+t*(1.421413741+t*(-1.453152027+t*1.061405429))))
			r := max(1-p*es[i], 0)
			r = math.Float32frombits(math.Float32bits(r) | bits&(1<<31))
			ys[i] = 0.5 * v * (1 + r)
		}
		x, y = x[n:], y[n:]
	}
}

// gelu returns x·Φ(x) = x/2·(1 + erf(x/√2)). float32 uses erf32; float64
// math.Erf.
func gelu[T real](x T) T {
	var z T
	if isF32(z) {
		return T(0.5 * float32(x) * (1 + erf32(float32(x)*(1/math.Sqrt2))))
	}
	return T(0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2)))
}

func isF32[T real](z T) bool {
	_, ok := any(z).(float32)
	return ok
}

// erf32 is erf for float32 by Abramowitz and Stegun 7.1.26 (absolute
// error below 1.5e-7, under float32's rounding of results near 1) with
// math32.Exp.
func erf32(x float32) float32 {
	ax := x
	if ax < 0 {
		ax = -ax
	}
	if ax > 4 {
		if x < 0 {
			return -1
		}
		return 1
	}
	t := 1 / (1 + 0.3275911*ax)
	p := t * (0.254829592 + t*(-0.284496736+t*(1.421413741+t*(-1.453152027+t*1.061405429))))
	r := 1 - p*math32.Exp(-ax*ax)
	if x < 0 {
		return -r
	}
	return r
}
