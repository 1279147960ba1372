package onnx

import (
	"fmt"

	"github.com/adjoint-go/adjoint/parallel"
)

// Shape ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split,
// Slice, Expand, Tile, Pad, Shape, Size, ConstantOfShape, Range, Trilu, EyeLike.

func init() {
	Register("", "Reshape", 1, 4, func(n *Node) (Kernel, error) {
		shape := n.IntsAsInt("shape")
		if shape == nil {
			return nil, n.Errorf("missing shape")
		}
		return KernelFunc(func(in, out []*Tensor) error {
			var sb [8]int
			s, err := reshapeShape(sb[:0], in[0].Shape, shape, false)
			if err != nil {
				return err
			}
			reshapeTo(out[0], in[0], s)
			return nil
		}), nil
	})
	Register("", "Reshape", 5, Latest, newReshape)
	Register("", "Flatten", 1, Latest, newFlatten)
	Register("", "Squeeze", 1, 12, func(n *Node) (Kernel, error) { return squeezeKernel{axes: n.IntsAsInt("axes"), attr: true}, nil })
	Register("", "Squeeze", 13, Latest, func(n *Node) (Kernel, error) { return squeezeKernel{}, nil })
	Register("", "Unsqueeze", 1, 12, func(n *Node) (Kernel, error) {
		if !n.Has("axes") {
			return nil, n.Errorf("missing axes")
		}
		return unsqueezeKernel{axes: n.IntsAsInt("axes"), attr: true}, nil
	})
	Register("", "Unsqueeze", 13, Latest, func(n *Node) (Kernel, error) { return unsqueezeKernel{}, nil })
	Register("", "Transpose", 1, Latest, func(n *Node) (Kernel, error) { return transposeKernel{perm: n.IntsAsInt("perm")}, nil })
	Register("", "Concat", 1, 3, func(n *Node) (Kernel, error) {
		return concatKernel{axis: int(n.Int("axis", 1))}, nil // axis defaulted to 1
	})
	Register("", "Concat", 4, Latest, func(n *Node) (Kernel, error) {
		if !n.Has("axis") {
			return nil, n.Errorf("missing axis")
		}
		return concatKernel{axis: int(n.Int("axis", 0))}, nil
	})
	Register("", "Split", 2, Latest, newSplit)
	Register("", "Slice", 1, 9, newSlice1)
	Register("", "Slice", 10, Latest, func(n *Node) (Kernel, error) { return sliceKernel{}, nil })
	Register("", "Expand", 8, Latest, func(n *Node) (Kernel, error) { return KernelFunc(runExpand), nil })
	Register("", "Tile", 6, Latest, func(n *Node) (Kernel, error) { return KernelFunc(runTile), nil })
	Register("", "Pad", 2, 10, newPad2)
	Register("", "Pad", 11, Latest, newPad)
	Register("", "Shape", 1, Latest, newShape)
	Register("", "Size", 1, Latest, func(n *Node) (Kernel, error) {
		return KernelFunc(func(in, out []*Tensor) error {
			out[0].Reset(Int64, nil)
			out[0].I64[0] = int64(in[0].Size())
			return nil
		}), nil
	})
	Register("", "ConstantOfShape", 9, Latest, newConstantOfShape)
	Register("", "Range", 11, Latest, func(n *Node) (Kernel, error) { return KernelFunc(runRange), nil })
	Register("", "Trilu", 14, Latest, func(n *Node) (Kernel, error) { return triluKernel{upper: n.Int("upper", 1) != 0}, nil })
	Register("", "EyeLike", 9, Latest, newEyeLike)
}

// reshapeTo copies x into o with a new shape of the same size.
func reshapeTo(o, x *Tensor, shape []int) {
	if o == x {
		panic("onnx: reshapeTo: output aliases input")
	}
	o.Reset(x.DType, shape)
	copyRange(o, 0, x, 0, x.Size())
}

func newReshape(n *Node) (Kernel, error) {
	allowZero := n.Int("allowzero", 0) != 0
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		var rb, sb [8]int
		req, err := intsTo(rb[:0], in[1], "shape")
		if err != nil {
			return err
		}
		shape, err := reshapeShape(sb[:0], x.Shape, req, allowZero)
		if err != nil {
			return err
		}
		reshapeTo(out[0], x, shape)
		return nil
	}), nil
}

func reshapeShape(dst, in, req []int, allowZero bool) ([]int, error) {
	shape := append(dst[:0], make([]int, len(req))...)
	infer := -1
	known := 1
	for i, d := range req {
		switch {
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dimension %d of %v", cp(req), i, cp(in))
			}
			shape[i] = in[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1", cp(req))
			}
			infer = i
			continue
		case d < 0:
			return nil, fmt.Errorf("shape %v has a negative dimension", cp(req))
		default:
			shape[i] = d
		}
		known *= shape[i]
	}
	total := numel(in)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", cp(in), cp(req))
		}
		shape[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v to %v", cp(in), cp(req))
	}
	return shape, nil
}

func newFlatten(n *Node) (Kernel, error) {
	axis := int(n.Int("axis", 1))
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		a := axis
		if a < 0 {
			a += len(x.Shape)
		}
		if a < 0 || a > len(x.Shape) {
			return fmt.Errorf("axis %d out of range for rank %d", axis, len(x.Shape))
		}
		reshapeTo(out[0], x, []int{numel(x.Shape[:a]), numel(x.Shape[a:])})
		return nil
	}), nil
}

type squeezeKernel struct {
	axes []int
	attr bool
}

func (k squeezeKernel) Run(in, out []*Tensor) error {
	x := in[0]
	var ab, sb [8]int
	axes, err := intsArg(ab[:0], k.axes, k.attr, in, "axes")
	if err != nil {
		return err
	}
	shape, err := squeezeShape(sb[:0], x.Shape, axes)
	if err != nil {
		return err
	}
	reshapeTo(out[0], x, shape)
	return nil
}

type unsqueezeKernel struct {
	axes []int
	attr bool
}

func (k unsqueezeKernel) Run(in, out []*Tensor) error {
	x := in[0]
	var ab, sb [8]int
	axes, err := intsArg(ab[:0], k.axes, k.attr, in, "axes")
	if err != nil {
		return err
	}
	shape, err := unsqueezeShape(sb[:0], x.Shape, axes)
	if err != nil {
		return err
	}
	reshapeTo(out[0], x, shape)
	return nil
}

type transposeKernel struct{ perm []int }

func (k transposeKernel) Run(in, out []*Tensor) error {
	x := in[0]
	r := len(x.Shape)
	perm := k.perm
	var pb, sb, xb, tb [8]int
	var seenb [8]bool
	if perm == nil {
		perm = append(pb[:0], make([]int, r)...)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	if len(perm) != r {
		return fmt.Errorf("perm %v for rank %d", cp(perm), r)
	}
	seen := append(seenb[:0], make([]bool, r)...)
	shape := append(sb[:0], make([]int, r)...)
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return fmt.Errorf("perm %v is not a permutation", cp(perm))
		}
		seen[p] = true
		shape[i] = x.Shape[p]
	}
	o := out[0]
	o.Reset(x.DType, shape)
	xs := rowStridesTo(xb[:0], x.Shape)
	st := append(tb[:0], make([]int, r)...)
	for i, p := range perm {
		st[i] = xs[p]
	}
	permuteTensor(o, x, 0, shape, st)
	return nil
}

// permuteTensor is permuteAt on the elements of x and o (same storage
// type).
func permuteTensor(o, x *Tensor, base int, shape, st []int) {
	switch x.DType.Storage() {
	case StoreF32:
		permuteAt(o.F32, x.F32, base, shape, st)
	case StoreF64:
		permuteAt(o.F64, x.F64, base, shape, st)
	case StoreI64:
		permuteAt(o.I64, x.I64, base, shape, st)
	case StoreBool:
		permuteAt(o.B, x.B, base, shape, st)
	case StoreStr:
		permuteAt(o.S, x.S, base, shape, st)
	}
}

// permuteAt writes o (row-major, shape) from x read with strides st from
// x[base]: element idx of o is x[base + sum(idx*st)].
func permuteAt[T any](o, x []T, base int, shape, st []int) {
	n := len(o)
	if n == 0 {
		return
	}
	r := len(shape)
	if r == 0 {
		o[0] = x[base]
		return
	}
	inner := shape[r-1]
	if inner == 0 {
		return
	}
	rows := n / inner
	if n >= 4*grain && rows > 1 {
		// Large copies (a transformer's head transposes) split by rows.
		// Copies, so that only this branch moves anything to the heap.
		oo, xx, bb, sh, stt := o, x, base, cp(shape), cp(st)
		parallel.For(rows, max(1, grain/inner), func(lo, hi int) {
			permuteRows(oo, xx, bb, sh, stt, lo, hi)
		})
		return
	}
	permuteRows(o, x, base, shape, st, 0, rows)
}

// permuteRows writes output rows [lo, hi) of permuteAt.
func permuteRows[T any](o, x []T, base int, shape, st []int, lo, hi int) {
	r := len(shape)
	inner, is := shape[r-1], st[r-1]
	var cb [8]int
	ctr := append(cb[:0], make([]int, r)...)
	// Unravel row lo into the counter and the source offset.
	src := base
	rem := lo
	for d := r - 2; d >= 0; d-- {
		ctr[d] = rem % shape[d]
		rem /= shape[d]
		src += ctr[d] * st[d]
	}
	for row := lo; row < hi; row++ {
		i := row * inner
		s := src
		for j := 0; j < inner; j++ {
			o[i+j] = x[s]
			s += is
		}
		for d := r - 2; d >= 0; d-- {
			ctr[d]++
			src += st[d]
			if ctr[d] < shape[d] {
				break
			}
			src -= st[d] * shape[d]
			ctr[d] = 0
		}
	}
}

type concatKernel struct{ axis int }

func (k concatKernel) Run(in, out []*Tensor) error {
	var tb [16]*Tensor
	var sb [8]int
	ts := tb[:0]
	for _, t := range in {
		if t != nil {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return fmt.Errorf("no inputs")
	}
	x := ts[0]
	r := len(x.Shape)
	axis, err := normAxis(k.axis, r)
	if err != nil {
		return err
	}
	shape := append(sb[:0], x.Shape...)
	shape[axis] = 0
	for _, t := range ts {
		if len(t.Shape) != r || t.DType != x.DType {
			return fmt.Errorf("input %v%v does not match %v%v", t.DType, cp(t.Shape), x.DType, cp(x.Shape))
		}
		for i := range r {
			if i != axis && t.Shape[i] != x.Shape[i] {
				return fmt.Errorf("input shape %v does not match %v off axis %d", cp(t.Shape), cp(x.Shape), axis)
			}
		}
		shape[axis] += t.Shape[axis]
	}
	o := out[0]
	o.Reset(x.DType, shape)
	outer := numel(shape[:axis])
	inner := numel(shape[axis+1:])
	rowOut := shape[axis] * inner
	off := 0
	for _, t := range ts {
		row := t.Shape[axis] * inner
		for j := 0; j < outer; j++ {
			copyRange(o, j*rowOut+off, t, j*row, row)
		}
		off += row
	}
	return nil
}

func newSplit(n *Node) (Kernel, error) {
	k := splitKernel{axis: int(n.Int("axis", 0)), nout: len(n.Outputs)}
	if n.Opset < 13 {
		k.split = n.IntsAsInt("split")
		k.attr = true
	}
	if n.Opset >= 18 && n.Has("num_outputs") {
		k.numOutputs = int(n.Int("num_outputs", 0))
		if k.numOutputs != len(n.Outputs) {
			return nil, n.Errorf("num_outputs %d but %d outputs", k.numOutputs, len(n.Outputs))
		}
	}
	return k, nil
}

type splitKernel struct {
	axis, nout, numOutputs int
	split                  []int
	attr                   bool
}

func (k splitKernel) Run(in, out []*Tensor) error {
	x := in[0]
	axis, err := normAxis(k.axis, len(x.Shape))
	if err != nil {
		return err
	}
	var spb, shb [8]int
	split, err := intsArg(spb[:0], k.split, k.attr, in, "split")
	if err != nil {
		return err
	}
	d := x.Shape[axis]
	if split, err = splitSizes(spb[:0], split, d, len(out), k.numOutputs); err != nil {
		return err
	}
	outer := numel(x.Shape[:axis])
	inner := numel(x.Shape[axis+1:])
	off := 0
	shape := append(shb[:0], x.Shape...)
	for i, o := range out {
		shape[axis] = split[i]
		o.Reset(x.DType, shape)
		row := split[i] * inner
		for j := 0; j < outer; j++ {
			copyRange(o, j*row, x, j*d*inner+off, row)
		}
		off += row
	}
	return nil
}

func newSlice1(n *Node) (Kernel, error) {
	starts, ends := n.IntsAsInt("starts"), n.IntsAsInt("ends")
	axes := n.IntsAsInt("axes")
	return KernelFunc(func(in, out []*Tensor) error {
		return sliceRun(in[0], out[0], starts, ends, axes, nil)
	}), nil
}

type sliceKernel struct{}

func (sliceKernel) Run(in, out []*Tensor) error {
	var v [4][]int
	var bufs [4][8]int
	for i := range v {
		var err error
		if v[i], err = intsTo(bufs[i][:0], Input(in, i+1), "slice parameter"); err != nil {
			return err
		}
	}
	return sliceRun(in[0], out[0], v[0], v[1], v[2], v[3])
}

func sliceRun(x, o *Tensor, starts, ends, axes, steps []int) error {
	r := len(x.Shape)
	if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return fmt.Errorf("starts %v, ends %v, axes %v, steps %v differ in length", cp(starts), cp(ends), cp(axes), cp(steps))
	}
	var bb, stb, shb, xsb, sb [8]int
	var seenb [8]bool
	begin := append(bb[:0], make([]int, r)...)
	step := append(stb[:0], make([]int, r)...)
	shape := append(shb[:0], x.Shape...)
	for i := range step {
		step[i] = 1
	}
	seen := append(seenb[:0], make([]bool, r)...)
	for i := range starts {
		a := i
		if axes != nil {
			var err error
			if a, err = normAxis(axes[i], r); err != nil {
				return err
			}
		}
		if seen[a] {
			return fmt.Errorf("axis %d repeated", a)
		}
		seen[a] = true
		s := 1
		if steps != nil {
			s = steps[i]
		}
		if s == 0 {
			return fmt.Errorf("step 0")
		}
		begin[a], shape[a] = sliceAxis(starts[i], ends[i], s, x.Shape[a])
		step[a] = s
	}
	o.Reset(x.DType, shape)
	xs := rowStridesTo(xsb[:0], x.Shape)
	off := 0
	st := append(sb[:0], make([]int, r)...)
	for i := range r {
		off += begin[i] * xs[i]
		st[i] = step[i] * xs[i]
	}
	if o.Size() == 0 {
		return nil
	}
	permuteTensor(o, x, off, shape, st)
	return nil
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

// broadcastTo writes x broadcast to shape into o.
func broadcastTo(o, x *Tensor, shape []int) {
	o.Reset(x.DType, shape)
	var sb [8]int
	st := stridesTo(sb[:0], x.Shape, shape)
	for len(st) > len(shape) {
		st = st[1:]
	}
	if o.Size() == 0 {
		return
	}
	permuteTensor(o, x, 0, shape, st)
}

func runExpand(in, out []*Tensor) error {
	x := in[0]
	var rb, sb [8]int
	req, err := intsTo(rb[:0], in[1], "shape")
	if err != nil {
		return err
	}
	shape, err := broadcastTo2(sb[:0], x.Shape, req)
	if err != nil {
		return err
	}
	if err := checkShapeSize(shape); err != nil {
		return err
	}
	broadcastTo(out[0], x, shape)
	return nil
}

func runTile(in, out []*Tensor) error {
	x := in[0]
	var rb, sb, xb, cb [8]int
	reps, err := intsTo(rb[:0], in[1], "repeats")
	if err != nil {
		return err
	}
	r := len(x.Shape)
	if len(reps) != r {
		return fmt.Errorf("repeats %v for rank %d", cp(reps), r)
	}
	shape := append(sb[:0], make([]int, r)...)
	for i, d := range x.Shape {
		if reps[i] < 0 {
			return fmt.Errorf("negative repeat %v", cp(reps))
		}
		shape[i] = d * reps[i]
	}
	if err := checkShapeSize(shape); err != nil {
		return err
	}
	o := out[0]
	o.Reset(x.DType, shape)
	n := o.Size()
	if n == 0 {
		return nil
	}
	if r == 0 {
		copyRange(o, 0, x, 0, 1)
		return nil
	}
	// Row by row along the last axis: an output row is the matching input
	// row repeated reps[r-1] times.
	xs := rowStridesTo(xb[:0], x.Shape)
	ctr := append(cb[:0], make([]int, r)...)
	inner := x.Shape[r-1]
	for oi := 0; oi < n; oi += shape[r-1] {
		src := 0
		for d := 0; d < r-1; d++ {
			src += (ctr[d] % x.Shape[d]) * xs[d]
		}
		for k := 0; k < reps[r-1]; k++ {
			copyRange(o, oi+k*inner, x, src, inner)
		}
		nextIndex(ctr[:r-1], shape)
	}
	return nil
}

func newPad2(n *Node) (Kernel, error) {
	mode := n.String("mode", "constant")
	pads := n.IntsAsInt("pads")
	value := float64(n.Float("value", 0))
	if err := checkPadMode(n, mode); err != nil {
		return nil, err
	}
	return KernelFunc(func(in, out []*Tensor) error {
		return padRun(in[0], out[0], pads, nil, mode, value, nil)
	}), nil
}

func checkPadMode(n *Node, mode string) error {
	switch mode {
	case "constant", "reflect", "edge", "wrap":
		return nil
	}
	return n.Errorf("pad mode %q: %w", mode, ErrUnsupported)
}

func newPad(n *Node) (Kernel, error) {
	mode := n.String("mode", "constant")
	if err := checkPadMode(n, mode); err != nil {
		return nil, err
	}
	return KernelFunc(func(in, out []*Tensor) error {
		pads, err := intsInput(in[1], "pads")
		if err != nil {
			return err
		}
		axes, err := intsInput(Input(in, 3), "axes")
		if err != nil {
			return err
		}
		return padRun(in[0], out[0], pads, axes, mode, 0, Input(in, 2))
	}), nil
}

func padRun(x, o *Tensor, pads, axes []int, mode string, value float64, cv *Tensor) error {
	r := len(x.Shape)
	if axes == nil {
		axes = make([]int, r)
		for i := range axes {
			axes[i] = i
		}
	}
	if len(pads) != 2*len(axes) {
		return fmt.Errorf("pads %v for %d axes", pads, len(axes))
	}
	lo, hi := make([]int, r), make([]int, r)
	for i, a := range axes {
		a, err := normAxis(a, r)
		if err != nil {
			return err
		}
		lo[a], hi[a] = pads[i], pads[i+len(axes)]
	}
	shape := make([]int, r)
	for i, d := range x.Shape {
		shape[i] = d + lo[i] + hi[i]
		if shape[i] < 0 {
			return fmt.Errorf("pads %v make shape negative", pads)
		}
		if mode != "constant" && d == 0 && shape[i] > 0 {
			return fmt.Errorf("%s padding of an empty axis", mode)
		}
		if mode == "reflect" && (lo[i] >= d || hi[i] >= d) && (lo[i] > 0 || hi[i] > 0) && d < 2 {
			return fmt.Errorf("reflect padding %v of dimension %d", pads, d)
		}
	}
	if err := checkShapeSize(shape); err != nil {
		return err
	}
	o.Reset(x.DType, shape)
	n := o.Size()
	fill := &Tensor{}
	fill.Reset(x.DType, nil)
	if cv != nil && cv.Size() > 0 {
		if cv.DType != x.DType {
			return fmt.Errorf("constant_value is %v, data is %v", cv.DType, x.DType)
		}
		setElem(fill, 0, cv, 0)
	} else if x.DType.Storage() != StoreStr {
		setFloat(fill, 0, value)
	}
	if mode == "constant" && padRowsConstant(x, o, lo, hi, shape, fill) {
		return nil
	}
	xs := strides(x.Shape)
	idx := make([]int, n) // -1: constant
	ctr := make([]int, r)
	for i := 0; i < n; i++ {
		s := 0
		for d := 0; d < r && s >= 0; d++ {
			j := ctr[d] - lo[d]
			dim := x.Shape[d]
			if j < 0 || j >= dim {
				switch mode {
				case "constant":
					s = -1
					continue
				case "edge":
					j = clampInt(j, 0, dim-1)
				case "wrap":
					j = ((j % dim) + dim) % dim
				case "reflect":
					p := 2 * (dim - 1)
					j = ((j % p) + p) % p
					if j >= dim {
						j = p - j
					}
				}
			}
			s += j * xs[d]
		}
		idx[i] = s
		nextIndex(ctr, shape)
	}
	for i, s := range idx {
		if s < 0 {
			setElem(o, i, fill, 0)
		} else {
			setElem(o, i, x, s)
		}
	}
	return nil
}

func newShape(n *Node) (Kernel, error) {
	start, hasEnd := int(n.Int("start", 0)), n.Has("end")
	end := int(n.Int("end", 0))
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		r := len(x.Shape)
		e := r
		if hasEnd {
			e = end
		}
		s, k := sliceAxis(start, e, 1, r)
		o := out[0]
		o.Reset(Int64, []int{k})
		for i := range k {
			o.I64[i] = int64(x.Shape[s+i])
		}
		return nil
	}), nil
}

func newConstantOfShape(n *Node) (Kernel, error) {
	v := n.TensorAttr("value")
	if v == nil {
		v = &Tensor{DType: Float, Shape: []int{1}, F32: []float32{0}}
	}
	if v.Size() != 1 {
		return nil, n.Errorf("value has %d elements, want 1", v.Size())
	}
	return KernelFunc(func(in, out []*Tensor) error {
		var sb [8]int
		shape, err := intsTo(sb[:0], in[0], "shape")
		if err != nil {
			return err
		}
		if err := checkShapeSize(shape); err != nil {
			return err
		}
		o := out[0]
		o.Reset(v.DType, shape)
		for i := range o.Size() {
			setElem(o, i, v, 0)
		}
		return nil
	}), nil
}

func runRange(in, out []*Tensor) error {
	s, l, d := in[0], in[1], in[2]
	if s.DType != l.DType || s.DType != d.DType {
		return fmt.Errorf("start, limit, delta types %v %v %v differ", s.DType, l.DType, d.DType)
	}
	o := out[0]
	switch s.DType.Storage() {
	case StoreI64:
		a, b, c := s.I64[0], l.I64[0], d.I64[0]
		if c == 0 {
			return fmt.Errorf("delta 0")
		}
		n := max(0, (b-a+c-1*sign64(c))/c)
		if n > maxElems {
			return fmt.Errorf("range of %d elements", n)
		}
		o.Reset(s.DType, []int{int(n)})
		for i := range o.I64 {
			o.I64[i] = a + int64(i)*c
		}
	case StoreF32, StoreF64:
		a, b, c := s.Float64At(0), l.Float64At(0), d.Float64At(0)
		if c == 0 {
			return fmt.Errorf("delta 0")
		}
		nf := (b - a) / c
		if nf > maxElems {
			return fmt.Errorf("range of %g elements", nf)
		}
		n := 0
		if nf > 0 {
			n = int(ceil(nf))
		}
		o.Reset(s.DType, []int{n})
		if s.DType.Storage() == StoreF32 {
			a32, c32 := s.F32[0], d.F32[0]
			for i := range o.F32 {
				o.F32[i] = a32 + float32(i)*c32
			}
		} else {
			for i := range o.F64 {
				o.F64[i] = a + float64(i)*c
			}
		}
	default:
		return fmt.Errorf("type %v: %w", s.DType, ErrUnsupported)
	}
	return nil
}

func sign64(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

func ceil(f float64) float64 {
	i := float64(int64(f))
	if i < f {
		return i + 1
	}
	return i
}

type triluKernel struct{ upper bool }

func (k triluKernel) Run(in, out []*Tensor) error {
	x := in[0]
	if len(x.Shape) < 2 {
		return fmt.Errorf("input rank %d < 2", len(x.Shape))
	}
	kk := 0
	if t := Input(in, 1); t != nil {
		v, err := scalarOf(t, "k")
		if err != nil {
			return err
		}
		kk = int(v)
	}
	o := out[0]
	o.CopyFrom(x)
	r := len(x.Shape)
	rows, cols := x.Shape[r-2], x.Shape[r-1]
	zero := &Tensor{}
	zero.Reset(x.DType, nil)
	for b := 0; b < numel(x.Shape[:r-2]); b++ {
		for i := range rows {
			for j := range cols {
				keep := j-i >= kk
				if !k.upper {
					keep = j-i <= kk
				}
				if !keep {
					setElem(o, b*rows*cols+i*cols+j, zero, 0)
				}
			}
		}
	}
	return nil
}

func newEyeLike(n *Node) (Kernel, error) {
	dt := DataType(n.Int("dtype", 0))
	k := int(n.Int("k", 0))
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		if len(x.Shape) != 2 {
			return fmt.Errorf("input rank %d, want 2", len(x.Shape))
		}
		t := dt
		if t == Undefined {
			t = x.DType
		}
		o := out[0]
		o.Reset(t, x.Shape)
		o.Zero()
		for i := range x.Shape[0] {
			j := i + k
			if j >= 0 && j < x.Shape[1] {
				setFloat(o, i*x.Shape[1]+j, 1)
			}
		}
		return nil
	}), nil
}

// padRowsConstant is constant padding without negative pads: fill the
// output, then copy each input row (last axis) into place. It reports
// false when it does not apply.
func padRowsConstant(x, o *Tensor, lo, hi, shape []int, fill *Tensor) bool {
	r := len(x.Shape)
	for i := range r {
		if lo[i] < 0 || hi[i] < 0 {
			return false
		}
	}
	n := o.Size()
	switch o.DType.Storage() {
	case StoreF32:
		setAll(o.F32[:n], fill.F32[0])
	case StoreF64:
		setAll(o.F64[:n], fill.F64[0])
	case StoreI64:
		setAll(o.I64[:n], fill.I64[0])
	case StoreBool:
		setAll(o.B[:n], fill.B[0])
	case StoreStr:
		setAll(o.S[:n], fill.S[0])
	default:
		return false
	}
	if x.Size() == 0 || r == 0 {
		if r == 0 {
			copyRange(o, 0, x, 0, 1)
		}
		return true
	}
	var ob, cb [8]int
	os := rowStridesTo(ob[:0], shape)
	ctr := append(cb[:0], make([]int, r)...)
	inner := x.Shape[r-1]
	for xi := 0; xi < x.Size(); xi += inner {
		dst := lo[r-1] * os[r-1]
		for d := 0; d < r-1; d++ {
			dst += (ctr[d] + lo[d]) * os[d]
		}
		copyRange(o, dst, x, xi, inner)
		nextIndex(ctr[:r-1], x.Shape)
	}
	return true
}
