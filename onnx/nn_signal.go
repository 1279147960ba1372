package onnx

import (
	"fmt"
	"math"
)

// Window functions (HannWindow, HammingWindow, BlackmanWindow) and Det.

func init() {
	for _, w := range []struct {
		op string
		f  func(n, d float64) float64
	}{
		{"HannWindow", func(n, d float64) float64 { return 0.5 - 0.5*math.Cos(2*math.Pi*n/d) }},
		{"HammingWindow", func(n, d float64) float64 { return 25.0/46 - 21.0/46*math.Cos(2*math.Pi*n/d) }},
		{"BlackmanWindow", func(n, d float64) float64 {
			return 0.42 - 0.5*math.Cos(2*math.Pi*n/d) + 0.08*math.Cos(4*math.Pi*n/d)
		}},
	} {
		f := w.f
		Register("", w.op, 17, Latest, func(n *Node) (Kernel, error) {
			periodic := n.Int("periodic", 1) != 0
			dt := DataType(n.Int("output_datatype", int64(Float)))
			if _, ok := floatKind(dt); !ok {
				return nil, n.Errorf("output_datatype %v: %w", dt, ErrUnsupported)
			}
			return KernelFunc(func(in, out []*Tensor) error {
				if in[0].Size() != 1 || in[0].DType.Storage() != StoreI64 {
					return fmt.Errorf("size must be an integer scalar, got %v %v", in[0].DType, in[0].Shape)
				}
				size := int(in[0].I64[0])
				if size < 0 || size > 1<<24 {
					return fmt.Errorf("size %d out of range", size)
				}
				d := float64(size)
				if !periodic {
					d--
				}
				out[0].Reset(dt, []int{size})
				for i := range size {
					v := f(float64(i), d)
					if dt.Storage() == StoreF32 {
						out[0].F32[i] = float32(v)
					} else {
						out[0].F64[i] = v
					}
				}
				return nil
			}), n.Err()
		})
	}
	Register("", "Det", 11, Latest, func(n *Node) (Kernel, error) { return KernelFunc(det), n.Err() })
}

// det computes the determinant of each trailing M×M matrix by LU
// decomposition with partial pivoting, in float64.
func det(in, out []*Tensor) error {
	x := in[0]
	if _, ok := floatKind(x.DType); !ok {
		return fmt.Errorf("element type %v: %w", x.DType, ErrUnsupported)
	}
	r := x.Rank()
	if r < 2 || x.Shape[r-1] != x.Shape[r-2] {
		return fmt.Errorf("shape %v: want [..., M, M]", x.Shape)
	}
	m := x.Shape[r-1]
	out[0].Reset(x.DType, x.Shape[:r-2])
	a := make([]float64, m*m)
	for b := range out[0].Size() {
		for i := range a {
			a[i] = x.Float64At(b*m*m + i)
		}
		d := 1.0
		for c := range m {
			p := c
			for i := c + 1; i < m; i++ {
				if math.Abs(a[i*m+c]) > math.Abs(a[p*m+c]) {
					p = i
				}
			}
			if a[p*m+c] == 0 {
				d = 0
				break
			}
			if p != c {
				for j := range m {
					a[c*m+j], a[p*m+j] = a[p*m+j], a[c*m+j]
				}
				d = -d
			}
			d *= a[c*m+c]
			for i := c + 1; i < m; i++ {
				f := a[i*m+c] / a[c*m+c]
				for j := c; j < m; j++ {
					a[i*m+j] -= f * a[c*m+j]
				}
			}
		}
		if x.DType.Storage() == StoreF32 {
			out[0].F32[b] = float32(d)
		} else {
			out[0].F64[b] = d
		}
	}
	return nil
}
