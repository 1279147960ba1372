package onnx

import (
	"fmt"
	"math"
)

// GridSample (opset 16, 2-D): each output pixel samples X at the grid's
// normalised (x, y) ∈ [−1, 1]², by nearest, bilinear or bicubic
// interpolation, with zeros, border or reflection padding, as ONNX
// Runtime's CPU kernel computes it.

func init() {
	Register("", "GridSample", 16, Latest, newGridSample)
}

type gridSampleKernel struct {
	align   bool
	mode    string
	padding string
}

func newGridSample(n *Node) (Kernel, error) {
	k := &gridSampleKernel{align: n.Int("align_corners", 0) != 0, mode: n.String("mode", "bilinear"), padding: n.String("padding_mode", "zeros")}
	switch k.mode {
	case "linear":
		k.mode = "bilinear"
	case "cubic":
		k.mode = "bicubic"
	}
	switch k.mode {
	case "bilinear", "nearest", "bicubic":
	default:
		return nil, n.Errorf("mode %q: %w", k.mode, ErrUnsupported)
	}
	switch k.padding {
	case "zeros", "border", "reflection":
	default:
		return nil, n.Errorf("padding_mode %q: %w", k.padding, ErrUnsupported)
	}
	return k, n.Err()
}

func (k *gridSampleKernel) Run(in, out []*Tensor) error {
	x, grid := in[0], in[1]
	if _, ok := floatKind(x.DType); !ok || grid.DType.Storage() != x.DType.Storage() {
		return fmt.Errorf("GridSample: X %v, grid %v: %w", x.DType, grid.DType, ErrUnsupported)
	}
	if x.Rank() != 4 || grid.Rank() != 4 || grid.Shape[0] != x.Shape[0] || grid.Shape[3] != 2 {
		return fmt.Errorf("GridSample: X shape %v and grid shape %v: want N×C×H×W and N×H′×W′×2 (2-D only)", x.Shape, grid.Shape)
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := grid.Shape[1], grid.Shape[2]
	out[0].Reset(x.DType, []int{n, c, oh, ow})
	unnorm := func(v float64, size int) float64 {
		if k.align {
			return (v + 1) / 2 * float64(size-1)
		}
		return ((v+1)*float64(size) - 1) / 2
	}
	lo := func(size int) (float64, float64) {
		if k.align {
			return 0, float64(size - 1)
		}
		return -0.5, float64(size) - 0.5
	}
	reflect := func(v float64, size int) float64 {
		a, b := lo(size)
		r := b - a
		if r <= 0 {
			return 0
		}
		if v < a {
			d := a - v
			m := math.Floor(d / r)
			f := d - m*r
			if int(m)%2 == 0 {
				return a + f
			}
			return b - f
		}
		if v > b {
			d := v - b
			m := math.Floor(d / r)
			f := d - m*r
			if int(m)%2 == 0 {
				return b - f
			}
			return a + f
		}
		return v
	}
	// pixel reads plane at (r, q) with the padding mode.
	pixel := func(plane int, r, q int) float64 {
		switch k.padding {
		case "zeros":
			if r < 0 || r >= h || q < 0 || q >= w {
				return 0
			}
		case "border":
			r, q = clampInt(r, 0, h-1), clampInt(q, 0, w-1)
		case "reflection":
			r = int(reflect(float64(r), h))
			q = int(reflect(float64(q), w))
			r, q = clampInt(r, 0, h-1), clampInt(q, 0, w-1)
		}
		return x.Float64At(plane*h*w + r*w + q)
	}
	cubic := func(t float64) [4]float64 {
		const a = -0.75
		var cw [4]float64
		for j := range 4 {
			d := math.Abs(t - float64(j-1))
			switch {
			case d <= 1:
				cw[j] = ((a+2)*d-(a+3))*d*d + 1
			case d < 2:
				cw[j] = ((a*d-5*a)*d+8*a)*d - 4*a
			}
		}
		return cw
	}
	o := 0
	for i := range n {
		for ch := range c {
			plane := i*c + ch
			for p := range oh * ow {
				gx := grid.Float64At((i*oh*ow + p) * 2)
				gy := grid.Float64At((i*oh*ow+p)*2 + 1)
				xf, yf := unnorm(gx, w), unnorm(gy, h)
				if k.mode != "bicubic" {
					switch k.padding {
					case "border":
						xf, yf = math.Min(math.Max(xf, 0), float64(w-1)), math.Min(math.Max(yf, 0), float64(h-1))
					case "reflection":
						xf, yf = reflect(xf, w), reflect(yf, h)
					}
				}
				var v float64
				switch k.mode {
				case "nearest":
					v = pixel(plane, int(math.RoundToEven(yf)), int(math.RoundToEven(xf)))
				case "bilinear":
					x0, y0 := math.Floor(xf), math.Floor(yf)
					fx, fy := xf-x0, yf-y0
					xi, yi := int(x0), int(y0)
					v = (1-fy)*((1-fx)*pixel(plane, yi, xi)+fx*pixel(plane, yi, xi+1)) +
						fy*((1-fx)*pixel(plane, yi+1, xi)+fx*pixel(plane, yi+1, xi+1))
				case "bicubic":
					x0, y0 := math.Floor(xf), math.Floor(yf)
					cx, cy := cubic(xf-x0), cubic(yf-y0)
					for a := range 4 {
						row := 0.0
						for b := range 4 {
							row += cx[b] * pixel(plane, int(y0)-1+a, int(x0)-1+b)
						}
						v += cy[a] * row
					}
				}
				if out[0].DType.Storage() == StoreF32 {
					out[0].F32[o] = float32(v)
				} else {
					out[0].F64[o] = v
				}
				o++
			}
		}
	}
	return nil
}
