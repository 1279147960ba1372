package onnx

import "fmt"

// BroadcastShape returns the NumPy broadcast of shapes, or an error naming
// them when they do not broadcast.
func BroadcastShape(shapes ...[]int) ([]int, error) {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := r - len(s)
		for i, d := range s {
			switch {
			case out[off+i] == d || d == 1:
			case out[off+i] == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v do not broadcast", shapes)
			}
		}
	}
	return out, nil
}

// BroadcastStrides returns element strides for reading a tensor of shape in
// as if it had shape out (which must be its broadcast): 0 on broadcast axes.
func BroadcastStrides(in, out []int) []int {
	return stridesTo(make([]int, 0, len(out)), in, out)
}

// ForBroadcast fills idx[k] with the flat index into each operand for every
// output element, in row-major order, calling fn(i, idx) per element.
// Operands are given by their strides (from BroadcastStrides).
func ForBroadcast(out []int, strides [][]int, fn func(i int, idx []int)) {
	n := numel(out)
	if n == 0 {
		return
	}
	r := len(out)
	var cb, ib [8]int
	ctr := append(cb[:0], make([]int, r)...)
	idx := append(ib[:0], make([]int, len(strides))...)
	for i := 0; i < n; i++ {
		fn(i, idx)
		for d := r - 1; d >= 0; d-- {
			ctr[d]++
			for k := range idx {
				idx[k] += strides[k][d]
			}
			if ctr[d] < out[d] {
				break
			}
			for k := range idx {
				idx[k] -= strides[k][d] * out[d]
			}
			ctr[d] = 0
		}
	}
}
