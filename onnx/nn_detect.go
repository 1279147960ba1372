package onnx

import (
	"fmt"
	"math"
	"sort"
)

// Detection helpers: NonMaxSuppression and MaxUnpool.

func init() {
	Register("", "NonMaxSuppression", 10, Latest, func(n *Node) (Kernel, error) {
		return &nmsKernel{center: n.Int("center_point_box", 0) != 0}, n.Err()
	})
	Register("", "MaxUnpool", 9, Latest, newMaxUnpool)
}

type nmsKernel struct{ center bool }

// Run selects, per batch and class, boxes in decreasing score order
// (ties by index) whose score passes score_threshold and whose IoU with
// every box already selected is at most iou_threshold, up to
// max_output_boxes_per_class; it outputs [batch, class, box] triples.
func (k *nmsKernel) Run(in, out []*Tensor) error {
	boxes, scores := in[0], in[1]
	maxOut, iouT, scoreT := Input(in, 2), Input(in, 3), Input(in, 4)
	if _, ok := floatKind(boxes.DType); !ok || scores.DType != boxes.DType {
		return fmt.Errorf("NonMaxSuppression: boxes %v, scores %v: %w", boxes.DType, scores.DType, ErrUnsupported)
	}
	if boxes.Rank() != 3 || boxes.Shape[2] != 4 || scores.Rank() != 3 || scores.Shape[0] != boxes.Shape[0] || scores.Shape[2] != boxes.Shape[1] {
		return fmt.Errorf("NonMaxSuppression: boxes shape %v and scores shape %v do not fit", boxes.Shape, scores.Shape)
	}
	nb, nc, ns := scores.Shape[0], scores.Shape[1], scores.Shape[2]
	limit := int64(0)
	if maxOut != nil && maxOut.Size() > 0 {
		limit = maxOut.Int64At(0)
	}
	iou, st := 0.0, math.Inf(-1)
	if iouT != nil && iouT.Size() > 0 {
		iou = iouT.Float64At(0)
	}
	if scoreT != nil && scoreT.Size() > 0 {
		st = scoreT.Float64At(0)
	}
	// Corners (y1, x1, y2, x2) with y1 ≤ y2, x1 ≤ x2.
	corner := func(b, i int) (y1, x1, y2, x2 float64) {
		o := (b*ns + i) * 4
		a, c, d, e := boxes.Float64At(o), boxes.Float64At(o+1), boxes.Float64At(o+2), boxes.Float64At(o+3)
		if k.center {
			// (x_center, y_center, width, height)
			return c - e/2, a - d/2, c + e/2, a + d/2
		}
		return math.Min(a, d), math.Min(c, e), math.Max(a, d), math.Max(c, e)
	}
	overlap := func(b, i, j int) float64 {
		ay1, ax1, ay2, ax2 := corner(b, i)
		by1, bx1, by2, bx2 := corner(b, j)
		ih := math.Min(ay2, by2) - math.Max(ay1, by1)
		iw := math.Min(ax2, bx2) - math.Max(ax1, bx1)
		if ih <= 0 || iw <= 0 {
			return 0
		}
		inter := ih * iw
		union := (ay2-ay1)*(ax2-ax1) + (by2-by1)*(bx2-bx1) - inter
		if union <= 0 {
			return 0
		}
		return inter / union
	}
	var sel []int64
	cand := make([]int, 0, ns)
	for b := range nb {
		for c := range nc {
			if limit <= 0 {
				continue
			}
			cand = cand[:0]
			for i := range ns {
				if scores.Float64At((b*nc+c)*ns+i) > st {
					cand = append(cand, i)
				}
			}
			sc := func(i int) float64 { return scores.Float64At((b*nc+c)*ns + i) }
			sort.SliceStable(cand, func(p, q int) bool { return sc(cand[p]) > sc(cand[q]) })
			var kept []int
			for _, i := range cand {
				if int64(len(kept)) >= limit {
					break
				}
				ok := true
				for _, j := range kept {
					if overlap(b, i, j) > iou {
						ok = false
						break
					}
				}
				if ok {
					kept = append(kept, i)
					sel = append(sel, int64(b), int64(c), int64(i))
				}
			}
		}
	}
	out[0].Reset(Int64, []int{len(sel) / 3, 3})
	copy(out[0].I64, sel)
	return nil
}

// ---------------------------------------------------------------- MaxUnpool

type maxUnpoolKernel struct{ win window }

func newMaxUnpool(n *Node) (Kernel, error) {
	w, err := readWindow(n)
	if err != nil {
		return nil, err
	}
	if w.kernel == nil {
		return nil, n.Errorf("kernel_shape is required")
	}
	return &maxUnpoolKernel{win: w}, n.Err()
}

// Run scatters X into zeros at the flat indices I (MaxPool's Indices
// output) of an output of output_shape, or of the size MaxPool's input
// had: (in − 1)·stride + kernel − pads.
func (k *maxUnpoolKernel) Run(in, out []*Tensor) error {
	x, idx, os := in[0], in[1], Input(in, 2)
	r := len(k.win.kernel)
	if x.Rank() != r+2 || !eqInts(idx.Shape, x.Shape) || idx.DType.Storage() != StoreI64 {
		return fmt.Errorf("MaxUnpool: X shape %v, I shape %v %v do not fit kernel_shape %v", x.Shape, idx.DType, idx.Shape, k.win.kernel)
	}
	// Indices address the default output (MaxPool's input size); an
	// output_shape places that grid's coordinates in a larger output.
	def := append([]int(nil), x.Shape...)
	for i := range r {
		st := 1
		if k.win.strides != nil {
			st = k.win.strides[i]
		}
		p := 0
		if k.win.pads != nil {
			p = k.win.pads[i] + k.win.pads[r+i]
		}
		def[2+i] = (x.Shape[2+i]-1)*st + k.win.kernel[i] - p
	}
	shape := def
	if os != nil {
		s, err := os.Ints()
		if err != nil || len(s) != x.Rank() {
			return fmt.Errorf("MaxUnpool: output_shape %v does not fit X shape %v", os.Shape, x.Shape)
		}
		for i := range s {
			if s[i] < def[i] {
				return fmt.Errorf("MaxUnpool: output_shape %v smaller than %v", s, def)
			}
		}
		shape = s
	}
	remap := func(v int64) int64 {
		if os == nil {
			return v
		}
		o, mul := int64(0), int64(1)
		for d := len(def) - 1; d >= 0; d-- {
			c := v % int64(def[d])
			v /= int64(def[d])
			o += c * mul
			mul *= int64(shape[d])
		}
		return o
	}
	out[0].Reset(x.DType, shape)
	out[0].Zero()
	total := int64(numel(def))
	for j, v := range idx.I64 {
		if v < 0 || v >= total {
			return fmt.Errorf("MaxUnpool: index %d out of range [0, %d)", v, total)
		}
		v = remap(v)
		switch x.DType.Storage() {
		case StoreF32:
			out[0].F32[v] = x.F32[j]
		case StoreF64:
			out[0].F64[v] = x.F64[j]
		case StoreI64:
			out[0].I64[v] = x.I64[j]
		default:
			return fmt.Errorf("MaxUnpool: element type %v: %w", x.DType, ErrUnsupported)
		}
	}
	return nil
}
