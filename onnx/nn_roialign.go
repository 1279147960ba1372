package onnx

import (
	"fmt"
	"math"
)

// RoiAlign: average (or max) of bilinear samples on a grid inside each
// region's output bins, as ONNX Runtime's CPU kernel computes it
// (including its max mode, the largest weighted corner value).

func init() {
	Register("", "RoiAlign", 10, Latest, newRoiAlign)
}

type roiAlignKernel struct {
	max       bool
	oh, ow    int
	sampling  int
	scale     float64
	halfPixel bool
}

func newRoiAlign(n *Node) (Kernel, error) {
	k := &roiAlignKernel{max: n.String("mode", "avg") == "max", oh: int(n.Int("output_height", 1)), ow: int(n.Int("output_width", 1)),
		sampling: int(n.Int("sampling_ratio", 0)), scale: float64(n.Float("spatial_scale", 1))}
	def := "output_half_pixel"
	if n.Opset >= 16 {
		def = "half_pixel"
	}
	switch m := n.String("coordinate_transformation_mode", def); m {
	case "half_pixel":
		k.halfPixel = true
	case "output_half_pixel":
	default:
		return nil, n.Errorf("coordinate_transformation_mode %q: %w", m, ErrUnsupported)
	}
	if m := n.String("mode", "avg"); m != "avg" && m != "max" {
		return nil, n.Errorf("mode %q: %w", m, ErrUnsupported)
	}
	if k.oh < 1 || k.ow < 1 || k.sampling < 0 || k.oh*k.ow > 1<<20 {
		return nil, n.Errorf("output %dx%d, sampling_ratio %d", k.oh, k.ow, k.sampling)
	}
	return k, n.Err()
}

func (k *roiAlignKernel) Run(in, out []*Tensor) error {
	x, rois, bi := in[0], in[1], in[2]
	if _, ok := floatKind(x.DType); !ok {
		return fmt.Errorf("RoiAlign: element type %v: %w", x.DType, ErrUnsupported)
	}
	if x.Rank() != 4 || rois.Rank() != 2 || rois.Shape[1] != 4 || bi.Size() != rois.Shape[0] {
		return fmt.Errorf("RoiAlign: X %v, rois %v, batch_indices %v", x.Shape, rois.Shape, bi.Shape)
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	nr := rois.Shape[0]
	out[0].Reset(x.DType, []int{nr, c, k.oh, k.ow})
	off := 0.0
	if k.halfPixel {
		off = 0.5
	}
	o := 0
	for r := range nr {
		b := int(bi.Int64At(r))
		if b < 0 || b >= n {
			return fmt.Errorf("RoiAlign: batch index %d out of range [0, %d)", b, n)
		}
		sw, sh := rois.Float64At(r*4)*k.scale-off, rois.Float64At(r*4+1)*k.scale-off
		ew, eh := rois.Float64At(r*4+2)*k.scale-off, rois.Float64At(r*4+3)*k.scale-off
		rw, rh := ew-sw, eh-sh
		if !k.halfPixel {
			rw, rh = math.Max(rw, 1), math.Max(rh, 1)
		}
		bh, bw := rh/float64(k.oh), rw/float64(k.ow)
		gh, gw := k.sampling, k.sampling
		if k.sampling == 0 {
			gh, gw = int(math.Ceil(rh/float64(k.oh))), int(math.Ceil(rw/float64(k.ow)))
		}
		cnt := float64(max(gh*gw, 1))
		for ch := range c {
			plane := (b*c + ch) * h * w
			for ph := range k.oh {
				for pw := range k.ow {
					acc := 0.0
					if k.max {
						acc = math.Inf(-1)
					}
					for iy := range gh {
						y := sh + float64(ph)*bh + (float64(iy)+0.5)*bh/float64(gh)
						for ix := range gw {
							xx := sw + float64(pw)*bw + (float64(ix)+0.5)*bw/float64(gw)
							v, vmax := bilinearSample(x, plane, h, w, y, xx)
							if k.max {
								acc = math.Max(acc, vmax)
							} else {
								acc += v
							}
						}
					}
					if k.max {
						if gh*gw == 0 {
							acc = 0
						}
					} else {
						acc /= cnt
					}
					setFloatAt(out[0], o, acc)
					o++
				}
			}
		}
	}
	return nil
}

// bilinearSample returns the bilinear interpolation of plane at (y, x)
// (0 outside [−1, H] × [−1, W]) and the largest of its four weighted
// corner values (RoiAlign's max mode).
func bilinearSample(t *Tensor, plane, h, w int, y, x float64) (float64, float64) {
	if y < -1 || y > float64(h) || x < -1 || x > float64(w) {
		return 0, 0
	}
	y, x = math.Max(y, 0), math.Max(x, 0)
	yl, xl := int(y), int(x)
	yh, xh := yl+1, xl+1
	if yl >= h-1 {
		yl, yh, y = h-1, h-1, float64(h-1)
	}
	if xl >= w-1 {
		xl, xh, x = w-1, w-1, float64(w-1)
	}
	ly, lx := y-float64(yl), x-float64(xl)
	hy, hx := 1-ly, 1-lx
	v1, v2 := t.Float64At(plane+yl*w+xl), t.Float64At(plane+yl*w+xh)
	v3, v4 := t.Float64At(plane+yh*w+xl), t.Float64At(plane+yh*w+xh)
	w1, w2, w3, w4 := hy*hx, hy*lx, ly*hx, ly*lx
	return w1*v1 + w2*v2 + w3*v3 + w4*v4, math.Max(math.Max(w1*v1, w2*v2), math.Max(w3*v3, w4*v4))
}
