package onnx

import (
	"fmt"
	"math"
	"sort"
)

// Indexing: Gather, GatherElements, GatherND, ScatterElements (Scatter),
// ScatterND, OneHot, Compress, NonZero, TopK, CumSum, Unique, ReverseSequence.

func init() {
	Register("", "Gather", 1, Latest, func(n *Node) (Kernel, error) { return gatherKernel{axis: int(n.Int("axis", 0))}, nil })
	Register("", "GatherElements", 11, Latest, func(n *Node) (Kernel, error) {
		return gatherElemsKernel{axis: int(n.Int("axis", 0))}, nil
	})
	Register("", "GatherND", 11, Latest, func(n *Node) (Kernel, error) {
		return gatherNDKernel{batch: int(n.Int("batch_dims", 0))}, nil
	})
	Register("", "Scatter", 9, 10, func(n *Node) (Kernel, error) { return newScatterElems(n) })
	Register("", "ScatterElements", 11, Latest, func(n *Node) (Kernel, error) { return newScatterElems(n) })
	Register("", "ScatterND", 11, Latest, newScatterND)
	Register("", "OneHot", 9, Latest, func(n *Node) (Kernel, error) { return oneHotKernel{axis: int(n.Int("axis", -1))}, nil })
	Register("", "Compress", 9, Latest, newCompress)
	Register("", "NonZero", 9, Latest, func(n *Node) (Kernel, error) { return KernelFunc(runNonZero), nil })
	Register("", "TopK", 1, Latest, newTopK)
	Register("", "CumSum", 11, Latest, newCumSum)
	Register("", "Unique", 11, Latest, newUnique)
	Register("", "ReverseSequence", 10, Latest, newReverseSequence)
}

// index resolves a possibly negative index against dim.
func index(v int64, dim int) (int, error) {
	if v < 0 {
		v += int64(dim)
	}
	if v < 0 || v >= int64(dim) {
		return 0, fmt.Errorf("index %d out of range [%d, %d)", v, -dim, dim)
	}
	return int(v), nil
}

func indicesOf(t *Tensor) ([]int64, error) {
	if t.DType.Storage() != StoreI64 {
		return nil, fmt.Errorf("indices are %v, want an integer type", t.DType)
	}
	return t.I64, nil
}

type gatherKernel struct{ axis int }

func (k gatherKernel) Run(in, out []*Tensor) error {
	x, it := in[0], in[1]
	ind, err := indicesOf(it)
	if err != nil {
		return err
	}
	a, err := normAxis(k.axis, len(x.Shape))
	if err != nil {
		return err
	}
	var sb [8]int
	shape := append(append(append(sb[:0], x.Shape[:a]...), it.Shape...), x.Shape[a+1:]...)
	outer, d, inner := numel(x.Shape[:a]), x.Shape[a], numel(x.Shape[a+1:])
	o := out[0]
	o.Reset(x.DType, shape)
	ni := len(ind)
	for j, v := range ind {
		src, err := index(v, d)
		if err != nil {
			return err
		}
		for i := range outer {
			copyRange(o, (i*ni+j)*inner, x, (i*d+src)*inner, inner)
		}
	}
	return nil
}

type gatherElemsKernel struct{ axis int }

func (k gatherElemsKernel) Run(in, out []*Tensor) error {
	x, it := in[0], in[1]
	ind, err := indicesOf(it)
	if err != nil {
		return err
	}
	r := len(x.Shape)
	a, err := normAxis(k.axis, r)
	if err != nil {
		return err
	}
	if len(it.Shape) != r {
		return fmt.Errorf("indices rank %d, data rank %d", len(it.Shape), r)
	}
	o := out[0]
	o.Reset(x.DType, it.Shape)
	idx := make([]int, len(ind))
	if err := axisOffsets(idx, ind, it.Shape, x.Shape, a); err != nil {
		return err
	}
	take(o, x, idx)
	return nil
}

// axisOffsets sets dst[i], for each index ind[i] of GatherElements or
// ScatterElements (indices of shape is, taken in row-major order), to the
// offset in the data (of shape xshape) that it pairs with: the index's own
// coordinates with the one along axis replaced by its value.
func axisOffsets(dst []int, ind []int64, is, xshape []int, axis int) error {
	r := len(xshape)
	xs := strides(xshape)
	ctr := make([]int, r)
	for i, v := range ind {
		j, err := index(v, xshape[axis])
		if err != nil {
			return err
		}
		s := 0
		for d := range r {
			c := ctr[d]
			if d == axis {
				c = j
			} else if c >= xshape[d] {
				return fmt.Errorf("indices shape %v exceeds data shape %v", is, xshape)
			}
			s += c * xs[d]
		}
		dst[i] = s
		nextIndex(ctr, is)
	}
	return nil
}

type gatherNDKernel struct{ batch int }

func (k gatherNDKernel) Run(in, out []*Tensor) error {
	x, it := in[0], in[1]
	ind, err := indicesOf(it)
	if err != nil {
		return err
	}
	b := k.batch
	q := len(it.Shape)
	if q < 1 || b >= q || b > len(x.Shape) {
		return fmt.Errorf("indices shape %v, batch_dims %d", it.Shape, b)
	}
	m := it.Shape[q-1]
	if b+m > len(x.Shape) {
		return fmt.Errorf("index depth %d too large for data shape %v", m, x.Shape)
	}
	shape := append(append([]int{}, it.Shape[:q-1]...), x.Shape[b+m:]...)
	o := out[0]
	o.Reset(x.DType, shape)
	nb := numel(x.Shape[:b])
	inner := numel(x.Shape[b+m:])
	xs := strides(x.Shape)
	perBatchX := numel(x.Shape[b:])
	nIdx := numel(it.Shape[b : q-1])
	for bi := range nb {
		for t := range nIdx {
			row := ind[(bi*nIdx+t)*m : (bi*nIdx+t+1)*m]
			s := bi * perBatchX
			for d, v := range row {
				j, err := index(v, x.Shape[b+d])
				if err != nil {
					return err
				}
				s += j * xs[b+d]
			}
			copyRange(o, (bi*nIdx+t)*inner, x, s, inner)
		}
	}
	return nil
}

type scatterElemsKernel struct {
	axis      int
	reduction string
}

func newScatterElems(n *Node) (Kernel, error) {
	k := scatterElemsKernel{axis: int(n.Int("axis", 0)), reduction: n.String("reduction", "none")}
	switch k.reduction {
	case "none", "add", "mul", "max", "min":
	default:
		return nil, n.Errorf("reduction %q: %w", k.reduction, ErrUnsupported)
	}
	return k, nil
}

// combine applies a scatter reduction to o[oi] with u[ui].
func combine(o *Tensor, oi int, u *Tensor, ui int, red string) {
	if red == "none" {
		setElem(o, oi, u, ui)
		return
	}
	switch o.DType.Storage() {
	case StoreI64:
		a, b := o.I64[oi], u.I64[ui]
		switch red {
		case "add":
			a += b
		case "mul":
			a *= b
		case "max":
			a = max(a, b)
		case "min":
			a = min(a, b)
		}
		o.I64[oi] = a
	case StoreF32, StoreF64:
		// math.Max and math.Min, not the built-ins: they differ on NaN
		// against an infinity (math.Max(NaN, +Inf) is +Inf).
		a, b := o.Float64At(oi), u.Float64At(ui)
		switch red {
		case "add":
			a += b
		case "mul":
			a *= b
		case "max":
			a = math.Max(a, b)
		case "min":
			a = math.Min(a, b)
		}
		setFloat(o, oi, a)
	case StoreBool:
		switch red {
		case "add", "max":
			o.B[oi] = o.B[oi] || u.B[ui]
		case "mul", "min":
			o.B[oi] = o.B[oi] && u.B[ui]
		}
	}
}

func (k scatterElemsKernel) Run(in, out []*Tensor) error {
	x, it, u := in[0], in[1], in[2]
	ind, err := indicesOf(it)
	if err != nil {
		return err
	}
	r := len(x.Shape)
	a, err := normAxis(k.axis, r)
	if err != nil {
		return err
	}
	if len(it.Shape) != r || len(u.Shape) != r || u.DType != x.DType {
		return fmt.Errorf("indices %v / updates %v%v do not match data %v%v", it.Shape, u.DType, u.Shape, x.DType, x.Shape)
	}
	for d := range r {
		if it.Shape[d] != u.Shape[d] || it.Shape[d] > x.Shape[d] && d != a {
			return fmt.Errorf("indices shape %v, updates shape %v, data shape %v", it.Shape, u.Shape, x.Shape)
		}
	}
	o := out[0]
	o.CopyFrom(x)
	// The walk of axisOffsets, inline: filling a slice of offsets first
	// made ScatterElements a fifth slower, and a callback a tenth.
	xs := strides(x.Shape)
	ctr := make([]int, r)
	for i, v := range ind {
		j, err := index(v, x.Shape[a])
		if err != nil {
			return err
		}
		s := 0
		for d := range r {
			c := ctr[d]
			if d == a {
				c = j
			}
			s += c * xs[d]
		}
		combine(o, s, u, i, k.reduction)
		nextIndex(ctr, it.Shape)
	}
	return nil
}

func newScatterND(n *Node) (Kernel, error) {
	red := n.String("reduction", "none")
	switch red {
	case "none", "add", "mul", "max", "min":
	default:
		return nil, n.Errorf("reduction %q: %w", red, ErrUnsupported)
	}
	return KernelFunc(func(in, out []*Tensor) error {
		x, it, u := in[0], in[1], in[2]
		ind, err := indicesOf(it)
		if err != nil {
			return err
		}
		q := len(it.Shape)
		if q < 1 {
			return fmt.Errorf("indices rank 0")
		}
		m := it.Shape[q-1]
		if m > len(x.Shape) || u.DType != x.DType {
			return fmt.Errorf("indices %v / updates %v%v do not match data %v%v", it.Shape, u.DType, u.Shape, x.DType, x.Shape)
		}
		inner := numel(x.Shape[m:])
		nIdx := numel(it.Shape[:q-1])
		if u.Size() != nIdx*inner {
			return fmt.Errorf("updates shape %v, want %v + %v", u.Shape, it.Shape[:q-1], x.Shape[m:])
		}
		o := out[0]
		o.CopyFrom(x)
		xs := strides(x.Shape)
		for t := range nIdx {
			s := 0
			for d, v := range ind[t*m : (t+1)*m] {
				j, err := index(v, x.Shape[d])
				if err != nil {
					return err
				}
				s += j * xs[d]
			}
			for e := range inner {
				combine(o, s+e, u, t*inner+e, red)
			}
		}
		return nil
	}), nil
}

type oneHotKernel struct{ axis int }

func (k oneHotKernel) Run(in, out []*Tensor) error {
	it, dt, vt := in[0], in[1], in[2]
	dv, err := scalarOf(dt, "depth")
	if err != nil {
		return err
	}
	depth := int(dv)
	if depth < 0 || depth > maxElems {
		return fmt.Errorf("depth %v", dv)
	}
	if vt.Size() != 2 {
		return fmt.Errorf("values has %d elements, want 2", vt.Size())
	}
	r := len(it.Shape) + 1
	a, err := normAxis(k.axis, r)
	if err != nil {
		return err
	}
	shape := append(append(append([]int{}, it.Shape[:a]...), depth), it.Shape[a:]...)
	if err := checkShapeSize(shape); err != nil {
		return err
	}
	o := out[0]
	o.Reset(vt.DType, shape)
	for i := range o.Size() {
		setElem(o, i, vt, 0)
	}
	outer, inner := numel(it.Shape[:a]), numel(it.Shape[a:])
	for i := range outer {
		for j := range inner {
			v := int64(it.Float64At(i*inner + j))
			if v < 0 {
				v += int64(depth)
			}
			if v >= 0 && v < int64(depth) {
				setElem(o, (i*depth+int(v))*inner+j, vt, 1)
			}
		}
	}
	return nil
}

// axisOrFlat resolves the optional axis of Compress and Unique: with one,
// x itself and the axis normalised; without, x viewed as 1-D (sharing its
// elements) and axis 0.
func axisOrFlat(x *Tensor, hasAxis bool, axis int) (*Tensor, int, error) {
	if !hasAxis {
		return &Tensor{DType: x.DType, Shape: []int{x.Size()}, F32: x.F32, F64: x.F64, I64: x.I64, B: x.B, S: x.S}, 0, nil
	}
	a, err := normAxis(axis, len(x.Shape))
	return x, a, err
}

func newCompress(n *Node) (Kernel, error) {
	hasAxis := n.Has("axis")
	axis := int(n.Int("axis", 0))
	return KernelFunc(func(in, out []*Tensor) error {
		x, c := in[0], in[1]
		if c.DType != Bool {
			return fmt.Errorf("condition is %v, want bool", c.DType)
		}
		xx, a, err := axisOrFlat(x, hasAxis, axis)
		if err != nil {
			return err
		}
		d := xx.Shape[a]
		var keep []int
		for i, b := range c.B {
			if b && i < d {
				keep = append(keep, i)
			}
		}
		shape := append([]int{}, xx.Shape...)
		shape[a] = len(keep)
		outer, inner := numel(xx.Shape[:a]), numel(xx.Shape[a+1:])
		o := out[0]
		o.Reset(x.DType, shape)
		for i := range outer {
			for j, k := range keep {
				copyRange(o, (i*len(keep)+j)*inner, xx, (i*d+k)*inner, inner)
			}
		}
		return nil
	}), nil
}

func runNonZero(in, out []*Tensor) error {
	x := in[0]
	r := len(x.Shape)
	n := x.Size()
	var nz []int
	for i := 0; i < n; i++ {
		var z bool
		switch x.DType.Storage() {
		case StoreBool:
			z = !x.B[i]
		case StoreStr:
			z = x.S[i] == ""
		default:
			z = x.Float64At(i) == 0
		}
		if !z {
			nz = append(nz, i)
		}
	}
	o := out[0]
	o.Reset(Int64, []int{r, len(nz)})
	st := strides(x.Shape)
	for j, f := range nz {
		for d := range r {
			o.I64[d*len(nz)+j] = int64(f / st[d])
			f %= st[d]
		}
	}
	return nil
}

func newTopK(n *Node) (Kernel, error) {
	axis := int(n.Int("axis", -1))
	largest := n.Int("largest", 1) != 0
	sorted := n.Int("sorted", 1) != 0
	kAttr := int(n.Int("k", 0))
	opset := n.Opset
	_ = sorted // results are always sorted, which sorted=0 allows
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		k := kAttr
		if opset >= 10 {
			kv, err := scalarOf(in[1], "K")
			if err != nil {
				return err
			}
			k = int(kv)
		}
		a, err := normAxis(axis, len(x.Shape))
		if err != nil {
			return err
		}
		d := x.Shape[a]
		if k < 0 || k > d {
			return fmt.Errorf("k %d out of range for dimension %d", k, d)
		}
		switch x.DType.Storage() {
		case StoreF32, StoreF64, StoreI64:
		default:
			return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
		}
		shape := append([]int{}, x.Shape...)
		shape[a] = k
		vals, inds := out[0], out[1]
		vals.Reset(x.DType, shape)
		inds.Reset(Int64, shape)
		outer, inner := numel(x.Shape[:a]), numel(x.Shape[a+1:])
		idx := make([]int, d)
		for i := range outer {
			for j := range inner {
				base := i*d*inner + j
				for t := range idx {
					idx[t] = t
				}
				sort.SliceStable(idx, func(p, q int) bool {
					vp, vq := x.Float64At(base+idx[p]*inner), x.Float64At(base+idx[q]*inner)
					if largest {
						return vp > vq || (vp == vq && idx[p] < idx[q])
					}
					return vp < vq || (vp == vq && idx[p] < idx[q])
				})
				for t := range k {
					oi := (i*k+t)*inner + j
					setElem(vals, oi, x, base+idx[t]*inner)
					inds.I64[oi] = int64(idx[t])
				}
			}
		}
		return nil
	}), nil
}

func newCumSum(n *Node) (Kernel, error) {
	excl := n.Int("exclusive", 0) != 0
	rev := n.Int("reverse", 0) != 0
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		av, err := scalarOf(in[1], "axis")
		if err != nil {
			return err
		}
		a, err := normAxis(int(av), len(x.Shape))
		if err != nil {
			return err
		}
		o := out[0]
		o.Reset(x.DType, x.Shape)
		outer, d, inner := numel(x.Shape[:a]), x.Shape[a], numel(x.Shape[a+1:])
		for i := range outer {
			for j := range inner {
				var fs float64
				var is int64
				for t := range d {
					tt := t
					if rev {
						tt = d - 1 - t
					}
					p := (i*d+tt)*inner + j
					switch x.DType.Storage() {
					case StoreI64:
						if excl {
							o.I64[p] = is
							is += x.I64[p]
						} else {
							is += x.I64[p]
							o.I64[p] = is
						}
					case StoreF32, StoreF64:
						v := x.Float64At(p)
						if excl {
							setFloat(o, p, fs)
							fs += v
						} else {
							fs += v
							setFloat(o, p, fs)
						}
					default:
						return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
					}
				}
			}
		}
		return nil
	}), nil
}

func newUnique(n *Node) (Kernel, error) {
	hasAxis := n.Has("axis")
	axis := int(n.Int("axis", 0))
	sorted := n.Int("sorted", 1) != 0
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		xx, a, err := axisOrFlat(x, hasAxis, axis)
		if err != nil {
			return err
		}
		outer, d, inner := numel(xx.Shape[:a]), xx.Shape[a], numel(xx.Shape[a+1:])
		// key of slice t along axis a
		key := func(t int) string {
			s := make([]byte, 0, 16*outer*inner)
			for i := range outer {
				for j := range inner {
					s = append(s, formatElem(xx, (i*d+t)*inner+j)...)
					s = append(s, 0)
				}
			}
			return string(s)
		}
		less := func(p, q int) bool {
			for i := range outer {
				for j := range inner {
					ip, iq := (i*d+p)*inner+j, (i*d+q)*inner+j
					if xx.DType == String {
						if xx.S[ip] != xx.S[iq] {
							return xx.S[ip] < xx.S[iq]
						}
						continue
					}
					vp, vq := xx.Float64At(ip), xx.Float64At(iq)
					if vp != vq {
						return vp < vq
					}
				}
			}
			return false
		}
		first := map[string]int{}
		var uniq []int // slice index of each unique value, first occurrence
		inv := make([]int, d)
		for t := range d {
			kk := key(t)
			u, ok := first[kk]
			if !ok {
				u = len(uniq)
				first[kk] = u
				uniq = append(uniq, t)
			}
			inv[t] = u
		}
		order := make([]int, len(uniq)) // position -> unique id
		for i := range order {
			order[i] = i
		}
		if sorted {
			sort.SliceStable(order, func(p, q int) bool { return less(uniq[order[p]], uniq[order[q]]) })
		}
		pos := make([]int, len(uniq))
		for p, u := range order {
			pos[u] = p
		}
		shape := append([]int{}, xx.Shape...)
		shape[a] = len(uniq)
		y := out[0]
		y.Reset(x.DType, shape)
		counts := make([]int64, len(uniq))
		for _, u := range inv {
			counts[u]++
		}
		for p, u := range order {
			for i := range outer {
				copyRange(y, (i*len(uniq)+p)*inner, xx, (i*d+uniq[u])*inner, inner)
			}
		}
		if len(out) > 1 {
			out[1].Reset(Int64, []int{len(uniq)})
			for p, u := range order {
				out[1].I64[p] = int64(uniq[u])
			}
		}
		if len(out) > 2 {
			out[2].Reset(Int64, []int{d})
			for t, u := range inv {
				out[2].I64[t] = int64(pos[u])
			}
		}
		if len(out) > 3 {
			out[3].Reset(Int64, []int{len(uniq)})
			for p, u := range order {
				out[3].I64[p] = counts[u]
			}
		}
		return nil
	}), nil
}

func newReverseSequence(n *Node) (Kernel, error) {
	bAxis := int(n.Int("batch_axis", 1))
	tAxis := int(n.Int("time_axis", 0))
	if !((bAxis == 0 && tAxis == 1) || (bAxis == 1 && tAxis == 0)) {
		return nil, n.Errorf("batch_axis %d, time_axis %d", bAxis, tAxis)
	}
	return KernelFunc(func(in, out []*Tensor) error {
		x, lt := in[0], in[1]
		lens, err := indicesOf(lt)
		if err != nil {
			return err
		}
		if len(x.Shape) < 2 || len(lens) != x.Shape[bAxis] {
			return fmt.Errorf("sequence_lens %v for shape %v", lt.Shape, x.Shape)
		}
		o := out[0]
		o.CopyFrom(x)
		inner := numel(x.Shape[2:])
		st := strides(x.Shape)
		T := x.Shape[tAxis]
		for b, l := range lens {
			if l < 0 || l > int64(T) {
				return fmt.Errorf("sequence length %d out of range [0, %d]", l, T)
			}
			for t := range int(l) {
				src := b*st[bAxis] + (int(l)-1-t)*st[tAxis]
				dst := b*st[bAxis] + t*st[tAxis]
				copyRange(o, dst, x, src, inner)
			}
		}
		return nil
	}), nil
}
