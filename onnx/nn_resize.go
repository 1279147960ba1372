package onnx

import (
	"fmt"
	"math"
)

// Resize (opsets 10–19) and Upsample (7–9): nearest, linear and cubic
// interpolation over any axes, with every coordinate_transformation_mode,
// nearest_mode, exclude_outside, extrapolation_value, axes and
// keep_aspect_ratio_policy. Interpolation is separable: each resized
// axis is one pass that maps every output coordinate to a few input taps
// and weights, computed once per axis; intermediates are float64.
// antialias is not implemented (an error at load).

func init() {
	Register("", "Resize", 10, Latest, newResize)
	Register("", "Upsample", 7, 9, newUpsample)
}

type resizeKernel struct {
	opset     int
	mode      string // nearest, linear, cubic
	coord     string
	nearest   string
	cubicA    float64
	exclude   bool
	extrap    float64
	axes      []int
	policy    string
	upsample  bool      // Upsample: scales from the attribute (opset 7) or input 1
	attrScale []float32 // Upsample-7's scales attribute
}

func newResize(n *Node) (Kernel, error) {
	k := &resizeKernel{
		opset:   n.Opset,
		mode:    n.String("mode", "nearest"),
		coord:   n.String("coordinate_transformation_mode", "half_pixel"),
		nearest: n.String("nearest_mode", "round_prefer_floor"),
		cubicA:  float64(n.Float("cubic_coeff_a", -0.75)),
		exclude: n.Int("exclude_outside", 0) != 0,
		extrap:  float64(n.Float("extrapolation_value", 0)),
		axes:    n.IntsAsInt("axes"),
		policy:  n.String("keep_aspect_ratio_policy", "stretch"),
	}
	if n.Opset < 11 {
		// Resize-10 is Upsample-9: asymmetric coordinates, nearest by floor.
		k.coord, k.nearest = "asymmetric", "floor"
	}
	if n.Int("antialias", 0) != 0 {
		return nil, n.Errorf("antialias: %w", ErrUnsupported)
	}
	switch k.mode {
	case "nearest", "linear", "cubic":
	default:
		return nil, n.Errorf("mode %q: %w", k.mode, ErrUnsupported)
	}
	switch k.coord {
	case "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize":
	default:
		return nil, n.Errorf("coordinate_transformation_mode %q: %w", k.coord, ErrUnsupported)
	}
	switch k.nearest {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return nil, n.Errorf("nearest_mode %q: %w", k.nearest, ErrUnsupported)
	}
	switch k.policy {
	case "stretch", "not_larger", "not_smaller":
	default:
		return nil, n.Errorf("keep_aspect_ratio_policy %q: %w", k.policy, ErrUnsupported)
	}
	return k, n.Err()
}

func newUpsample(n *Node) (Kernel, error) {
	k := &resizeKernel{opset: n.Opset, mode: n.String("mode", "nearest"), coord: "asymmetric", nearest: "floor",
		upsample: true, attrScale: n.Floats("scales", nil), policy: "stretch"}
	if k.mode == "bilinear" {
		k.mode = "linear"
	}
	if k.mode != "nearest" && k.mode != "linear" {
		return nil, n.Errorf("mode %q: %w", k.mode, ErrUnsupported)
	}
	return k, n.Err()
}

func (k *resizeKernel) Run(in, out []*Tensor) error {
	x := in[0]
	r := x.Rank()
	var roi, scales, sizes *Tensor
	switch {
	case k.upsample:
		if k.attrScale == nil {
			scales = Input(in, 1)
		}
	case k.opset < 11:
		scales = Input(in, 1)
	default:
		roi, scales, sizes = Input(in, 1), Input(in, 2), Input(in, 3)
	}
	if scales != nil && scales.Size() == 0 {
		scales = nil
	}
	if sizes != nil && sizes.Size() == 0 {
		sizes = nil
	}
	axes := k.axes
	if axes == nil {
		axes = make([]int, r)
		for i := range axes {
			axes[i] = i
		}
	}
	ax := make([]int, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return fmt.Errorf("Resize: axis %d out of range for rank %d", axes[i], r)
		}
		ax[i] = a
	}
	scale := make([]float64, r)
	outShape := append([]int(nil), x.Shape...)
	for i := range scale {
		scale[i] = 1
	}
	switch {
	case k.attrScale != nil:
		if len(k.attrScale) != r {
			return fmt.Errorf("Upsample: %d scales for rank %d", len(k.attrScale), r)
		}
		for i, s := range k.attrScale {
			scale[i] = float64(s)
		}
		for i := range r {
			outShape[i] = int(math.Floor(float64(x.Shape[i]) * scale[i]))
		}
	case scales != nil:
		if scales.Size() != len(ax) {
			return fmt.Errorf("Resize: %d scales for %d axes", scales.Size(), len(ax))
		}
		for j, a := range ax {
			scale[a] = scales.Float64At(j)
			if !(scale[a] > 0) {
				return fmt.Errorf("Resize: scale %g is not positive", scale[a])
			}
			outShape[a] = int(math.Floor(float64(x.Shape[a]) * scale[a]))
		}
	case sizes != nil:
		if sizes.Size() != len(ax) {
			return fmt.Errorf("Resize: %d sizes for %d axes", sizes.Size(), len(ax))
		}
		for j, a := range ax {
			outShape[a] = int(sizes.Int64At(j))
			if outShape[a] < 0 || outShape[a] > 1<<24 {
				return fmt.Errorf("Resize: size %d out of range", outShape[a])
			}
			if x.Shape[a] > 0 {
				scale[a] = float64(outShape[a]) / float64(x.Shape[a])
			}
		}
		if k.policy != "stretch" {
			s := math.Inf(1)
			if k.policy == "not_smaller" {
				s = math.Inf(-1)
			}
			for _, a := range ax {
				if k.policy == "not_larger" {
					s = math.Min(s, scale[a])
				} else {
					s = math.Max(s, scale[a])
				}
			}
			for _, a := range ax {
				scale[a] = s
				outShape[a] = int(math.Floor(s*float64(x.Shape[a]) + 0.5))
			}
		}
	default:
		return fmt.Errorf("Resize: neither scales nor sizes given")
	}
	roiAt := func(i int) (float64, float64) { return 0, 1 }
	if k.coord == "tf_crop_and_resize" {
		if roi == nil || (roi.Size() != 2*r && roi.Size() != 2*len(ax)) {
			return fmt.Errorf("Resize: tf_crop_and_resize needs roi of %d values", 2*len(ax))
		}
		full := roi.Size() == 2*r
		pos := map[int]int{}
		for j, a := range ax {
			pos[a] = j
		}
		roiAt = func(i int) (float64, float64) {
			if full {
				return roi.Float64At(i), roi.Float64At(r + i)
			}
			j, ok := pos[i]
			if !ok {
				return 0, 1
			}
			return roi.Float64At(j), roi.Float64At(len(ax) + j)
		}
	}
	storage := x.DType.Storage()
	if storage != StoreF32 && storage != StoreF64 && !(storage == StoreI64 && k.mode == "nearest") {
		return fmt.Errorf("Resize: element type %v with mode %s: %w", x.DType, k.mode, ErrUnsupported)
	}
	// Separable passes over float64 data.
	cur := make([]float64, x.Size())
	for i := range cur {
		cur[i] = x.Float64At(i)
	}
	shape := append([]int(nil), x.Shape...)
	for a := range r {
		if outShape[a] == shape[a] && scale[a] == 1 && k.coord != "tf_crop_and_resize" {
			continue
		}
		lo, hi := roiAt(a)
		taps := k.axisTaps(shape[a], outShape[a], scale[a], lo, hi)
		outer, inner := numel(shape[:a]), numel(shape[a+1:])
		next := make([]float64, outer*outShape[a]*inner)
		for o := range outer {
			src := cur[o*shape[a]*inner : (o+1)*shape[a]*inner]
			dst := next[o*outShape[a]*inner : (o+1)*outShape[a]*inner]
			for p, tp := range taps {
				d := dst[p*inner : (p+1)*inner]
				if tp.outside {
					for q := range d {
						d[q] = k.extrap
					}
					continue
				}
				for t, idx := range tp.idx {
					w := tp.w[t]
					s := src[idx*inner : (idx+1)*inner]
					for q := range d {
						d[q] += w * s[q]
					}
				}
			}
		}
		cur, shape[a] = next, outShape[a]
	}
	out[0].Reset(x.DType, outShape)
	for i, v := range cur {
		switch storage {
		case StoreF32:
			out[0].F32[i] = float32(v)
		case StoreF64:
			out[0].F64[i] = v
		case StoreI64:
			out[0].I64[i] = int64(v)
		}
	}
	return nil
}

// tap is one output coordinate's input indices and weights.
type tap struct {
	idx     []int
	w       []float64
	outside bool // tf_crop_and_resize: outside the image, extrapolation_value
}

// axisTaps maps each of the out coordinates of one axis to input taps.
func (k *resizeKernel) axisTaps(in, out int, scale, roiLo, roiHi float64) []tap {
	taps := make([]tap, out)
	for o := range out {
		var x float64
		fo := float64(o)
		switch k.coord {
		case "half_pixel":
			x = (fo+0.5)/scale - 0.5
		case "half_pixel_symmetric":
			adj := float64(out) / (scale * float64(in))
			center := float64(in) / 2
			x = center*(1-adj) + (fo+0.5)/scale - 0.5
		case "pytorch_half_pixel":
			if out > 1 {
				x = (fo+0.5)/scale - 0.5
			}
		case "align_corners":
			// The resized length is in·scale, not rounded (ONNX's
			// reference; with sizes, scale = out/in makes it out).
			if lr := float64(in) * scale; lr > 1 {
				x = fo * float64(in-1) / (lr - 1)
			}
		case "asymmetric":
			x = fo / scale
		case "tf_half_pixel_for_nn":
			x = (fo + 0.5) / scale
		case "tf_crop_and_resize":
			if out > 1 {
				x = roiLo*float64(in-1) + fo*(roiHi-roiLo)*float64(in-1)/float64(out-1)
			} else {
				x = 0.5 * (roiLo + roiHi) * float64(in-1)
			}
			if x < 0 || x > float64(in-1) {
				taps[o].outside = true
				continue
			}
		}
		t := &taps[o]
		switch k.mode {
		case "nearest":
			var i float64
			switch k.nearest {
			case "round_prefer_floor":
				if x == math.Floor(x)+0.5 {
					i = math.Floor(x)
				} else {
					i = math.Round(x)
				}
			case "round_prefer_ceil":
				i = math.Round(x)
				if x == math.Floor(x)+0.5 {
					i = math.Ceil(x)
				}
			case "floor":
				i = math.Floor(x)
			case "ceil":
				i = math.Ceil(x)
			}
			t.idx = []int{clampInt(int(i), 0, in-1)}
			t.w = []float64{1}
		case "linear":
			x = math.Min(math.Max(x, 0), float64(in-1))
			i0 := int(math.Floor(x))
			i1 := min(i0+1, in-1)
			f := x - float64(i0)
			t.idx, t.w = []int{i0, i1}, []float64{1 - f, f}
		case "cubic":
			i0 := int(math.Floor(x))
			f := x - float64(i0)
			a := k.cubicA
			cw := [4]float64{}
			for j := range 4 {
				d := math.Abs(f - float64(j-1))
				switch {
				case d <= 1:
					cw[j] = ((a+2)*d-(a+3))*d*d + 1
				case d < 2:
					cw[j] = ((a*d-5*a)*d+8*a)*d - 4*a
				}
			}
			sum := 0.0
			for j := range 4 {
				idx := i0 - 1 + j
				if k.exclude && (idx < 0 || idx >= in) {
					continue
				}
				t.idx = append(t.idx, clampInt(idx, 0, in-1))
				t.w = append(t.w, cw[j])
				sum += cw[j]
			}
			if k.exclude && sum != 0 {
				for j := range t.w {
					t.w[j] /= sum
				}
			}
		}
	}
	return taps
}
