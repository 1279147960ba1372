package onnx

import (
	"fmt"
	"math"
	"sync/atomic"
)

// LpPool and GlobalLpPool: y = (Σ |x|^p)^(1/p) over each window (padding
// contributes nothing), p from the attribute (default 2).

func init() {
	Register("", "LpPool", 2, Latest, newLpPool)
	Register("", "GlobalLpPool", 2, Latest, func(n *Node) (Kernel, error) {
		p := float64(n.Int("p", 2))
		if p < 1 {
			return nil, n.Errorf("p %g < 1", p)
		}
		return KernelFunc(func(in, out []*Tensor) error {
			x := in[0]
			if _, ok := floatKind(x.DType); !ok || x.Rank() < 2 {
				return fmt.Errorf("GlobalLpPool: X %v %v: %w", x.DType, x.Shape, ErrUnsupported)
			}
			s := append([]int(nil), x.Shape[:2]...)
			for range x.Rank() - 2 {
				s = append(s, 1)
			}
			planes, size := x.Shape[0]*x.Shape[1], numel(x.Shape[2:])
			out[0].Reset(x.DType, s)
			for q := range planes {
				acc := 0.0
				for i := range size {
					acc += math.Pow(math.Abs(x.Float64At(q*size+i)), p)
				}
				setFloatAt(out[0], q, math.Pow(acc, 1/p))
			}
			return nil
		}), n.Err()
	})
}

type lpPoolKernel struct {
	win   window
	p     float64
	cache atomic.Pointer[geomCache]
}

func newLpPool(n *Node) (Kernel, error) {
	w, err := readWindow(n)
	if err != nil {
		return nil, err
	}
	if w.kernel == nil || len(w.kernel) > 6 {
		return nil, n.Errorf("kernel_shape %v: want 1 to 6 dimensions", w.kernel)
	}
	k := &lpPoolKernel{win: w, p: float64(n.Int("p", 2))}
	if k.p < 1 {
		return nil, n.Errorf("p %g < 1", k.p)
	}
	return k, n.Err()
}

func (k *lpPoolKernel) Run(in, out []*Tensor) error {
	x := in[0]
	if _, ok := floatKind(x.DType); !ok || x.Rank() != len(k.win.kernel)+2 {
		return fmt.Errorf("LpPool: X %v %v does not fit kernel_shape %v", x.DType, x.Shape, k.win.kernel)
	}
	g, err := resolveCached(&k.cache, k.win, x.Shape[2:], k.win.kernel)
	if err != nil {
		return fmt.Errorf("LpPool: X shape %v: %v", x.Shape, err)
	}
	r := len(g.in)
	out[0].Reset(x.DType, g.outShape(x.Shape[0], x.Shape[1]))
	planes, in1, outN, kk := x.Shape[0]*x.Shape[1], numel(g.in), numel(g.out), numel(g.k)
	var oi, ki [8]int
	for q := range planes {
		for o := range outN {
			t := o
			for d := r - 1; d >= 0; d-- {
				oi[d] = t % g.out[d]
				t /= g.out[d]
			}
			acc := 0.0
			for kf := range kk {
				t := kf
				for d := r - 1; d >= 0; d-- {
					ki[d] = t % g.k[d]
					t /= g.k[d]
				}
				off, ok := 0, true
				for d := range r {
					v := oi[d]*g.s[d] - g.pb[d] + ki[d]*g.d[d]
					if v < 0 || v >= g.in[d] {
						ok = false
						break
					}
					off = off*g.in[d] + v
				}
				if ok {
					acc += math.Pow(math.Abs(x.Float64At(q*in1+off)), k.p)
				}
			}
			setFloatAt(out[0], q*outN+o, math.Pow(acc, 1/k.p))
		}
	}
	return nil
}
