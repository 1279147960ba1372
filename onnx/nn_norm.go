package onnx

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/parallel"
)

// Normalisations: BatchNormalization (inference, and the training mode of
// opset 14 with its running statistics), InstanceNormalization,
// LayerNormalization, GroupNormalization, MeanVarianceNormalization and
// LRN. Statistics are accumulated in float64 whatever the element type, so
// a long row's mean does not drift. A per-channel affine (x − mean)·s + b
// is one multiply-add per element, s and b folded per channel first.

func init() {
	Register("", "BatchNormalization", 1, Latest, newBatchNorm)
	Register("", "InstanceNormalization", 1, Latest, newInstanceNorm)
	Register("", "LayerNormalization", 17, Latest, newLayerNorm)
	Register("", "GroupNormalization", 18, Latest, newGroupNorm)
	Register("", "MeanVarianceNormalization", 9, Latest, newMVN)
	Register("", "LRN", 1, Latest, newLRN)
}

// planes returns N·C and the product of the dimensions after C.
func planes(shape []int) (nc, size int) {
	if len(shape) < 2 {
		return 0, 0
	}
	return shape[0] * shape[1], numel(shape[2:])
}

// ---------------------------------------------------------------- BatchNormalization

type batchNormKernel struct {
	eps, momentum float32
	training      bool
}

func newBatchNorm(n *Node) (Kernel, error) {
	k := &batchNormKernel{eps: n.Float("epsilon", 1e-5), momentum: n.Float("momentum", 0.9)}
	if n.Opset >= 14 {
		k.training = n.Int("training_mode", 0) != 0
	} else if n.Opset < 7 && n.Int("is_test", 0) == 0 && len(n.Outputs) > 1 {
		return nil, n.Errorf("training outputs before opset 7: %w", ErrUnsupported)
	} else if len(n.Outputs) > 1 {
		return nil, n.Errorf("training outputs before opset 14: %w", ErrUnsupported)
	}
	if len(n.Inputs) != 5 {
		return nil, n.Errorf("want 5 inputs, have %d", len(n.Inputs))
	}
	return k, n.Err()
}

func (k *batchNormKernel) Run(in, out []*Tensor) error {
	x := in[0]
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("BatchNormalization: element type %v: %w", x.DType, ErrUnsupported)
	}
	if x.Rank() < 2 {
		return fmt.Errorf("BatchNormalization: X shape %v: want N×C×…", x.Shape)
	}
	c := x.Shape[1]
	_, size := planes(x.Shape)
	per := 0 // elements per parameter: 1 per channel, or per (channel, position) (spatial = 0)
	for i, p := range in[1:5] {
		if p == nil {
			return fmt.Errorf("BatchNormalization: input %d missing", i+1)
		}
		switch {
		case p.Size() == c:
			if per == 0 {
				per = 1
			}
		case p.Size() == c*size && !k.training:
			per = size
		default:
			return fmt.Errorf("BatchNormalization: input %d shape %v does not fit X shape %v", i+1, p.Shape, x.Shape)
		}
		if p.DType.Storage() != x.DType.Storage() {
			return fmt.Errorf("BatchNormalization: input %d type %v differs from X's %v", i+1, p.DType, x.DType)
		}
	}
	if per != 1 {
		for _, p := range in[1:5] {
			if p.Size() != c*size {
				return fmt.Errorf("BatchNormalization: parameters mix per-channel and per-element shapes")
			}
		}
	}
	out[0].Reset(x.DType, x.Shape)
	if k.training {
		for i := 1; i < len(out) && i < 3; i++ {
			out[i].Reset(in[3+i-1].DType, []int{c})
		}
		if f32 {
			batchNormTrain(k, x.Shape, x.F32, in[1].F32, in[2].F32, in[3].F32, in[4].F32, out)
		} else {
			batchNormTrain(k, x.Shape, x.F64, in[1].F64, in[2].F64, in[3].F64, in[4].F64, out)
		}
		return nil
	}
	if f32 {
		batchNormRun(k.eps, x.Shape, per, x.F32, in[1].F32, in[2].F32, in[3].F32, in[4].F32, out[0].F32)
	} else {
		batchNormRun(k.eps, x.Shape, per, x.F64, in[1].F64, in[2].F64, in[3].F64, in[4].F64, out[0].F64)
	}
	return nil
}

// batchNormRun: y = (x − mean)/√(var + ε)·scale + b, as y = x·s + t with
// s = scale/√(var + ε), t = b − mean·s per parameter.
func batchNormRun[T real](eps float32, shape []int, per int, x, scale, b, mean, vr, y []T) {
	nc, size := planes(shape)
	c := shape[1]
	body := func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ch := p % c
			xs, ys := x[p*size:(p+1)*size], y[p*size:(p+1)*size]
			if per == 1 {
				s := T(float64(scale[ch]) / math.Sqrt(float64(vr[ch])+float64(eps)))
				t := b[ch] - mean[ch]*s
				ys = ys[:len(xs)]
				for i, v := range xs {
					ys[i] = v*s + t
				}
				continue
			}
			for i, v := range xs {
				j := ch*size + i
				s := T(float64(scale[j]) / math.Sqrt(float64(vr[j])+float64(eps)))
				ys[i] = (v-mean[j])*s + b[j]
			}
		}
	}
	if nc*size < 1<<15 || parallel.Threads() == 1 {
		body(0, nc)
		return
	}
	parallel.For(nc, max(1, (1<<15)/(size+1)), body)
}

// batchNormTrain normalises with the batch's own statistics (biased
// variance) and writes the running statistics mean·momentum +
// batch·(1 − momentum), as ONNX's reference does.
func batchNormTrain[T real](k *batchNormKernel, shape []int, x, scale, b, mean, vr []T, out []*Tensor) {
	n, c := shape[0], shape[1]
	_, size := planes(shape)
	y := floatsOf[T](out[0])
	cnt := float64(n * size)
	for ch := range c {
		var s, s2 float64
		for i := range n {
			for _, v := range x[(i*c+ch)*size : (i*c+ch+1)*size] {
				s += float64(v)
			}
		}
		mu := s / cnt
		for i := range n {
			for _, v := range x[(i*c+ch)*size : (i*c+ch+1)*size] {
				d := float64(v) - mu
				s2 += d * d
			}
		}
		v := s2 / cnt
		inv := 1 / math.Sqrt(v+float64(k.eps))
		for i := range n {
			xs := x[(i*c+ch)*size : (i*c+ch+1)*size]
			ys := y[(i*c+ch)*size : (i*c+ch+1)*size]
			for j, xv := range xs {
				ys[j] = T((float64(xv)-mu)*inv*float64(scale[ch]) + float64(b[ch]))
			}
		}
		mom := float64(k.momentum)
		if len(out) > 1 {
			floatsOf[T](out[1])[ch] = T(float64(mean[ch])*mom + mu*(1-mom))
		}
		if len(out) > 2 {
			floatsOf[T](out[2])[ch] = T(float64(vr[ch])*mom + v*(1-mom))
		}
	}
}

// ---------------------------------------------------------------- InstanceNormalization

type instanceNormKernel struct{ eps float32 }

func newInstanceNorm(n *Node) (Kernel, error) {
	if len(n.Inputs) != 3 {
		return nil, n.Errorf("want 3 inputs, have %d", len(n.Inputs))
	}
	return &instanceNormKernel{eps: n.Float("epsilon", 1e-5)}, n.Err()
}

func (k *instanceNormKernel) Run(in, out []*Tensor) error {
	x, s, b := in[0], in[1], in[2]
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("InstanceNormalization: element type %v: %w", x.DType, ErrUnsupported)
	}
	if x.Rank() < 3 {
		return fmt.Errorf("InstanceNormalization: X shape %v: want N×C×D…", x.Shape)
	}
	c := x.Shape[1]
	if s.Size() != c || b.Size() != c || s.DType != x.DType || b.DType != x.DType {
		return fmt.Errorf("InstanceNormalization: scale %v and B %v do not fit X shape %v", s.Shape, b.Shape, x.Shape)
	}
	out[0].Reset(x.DType, x.Shape)
	nc, size := planes(x.Shape)
	if f32 {
		normRows(nc, size, float64(k.eps), x.F32, out[0].F32, func(r int) (float32, float32) { return s.F32[r%c], b.F32[r%c] })
	} else {
		normRows(nc, size, float64(k.eps), x.F64, out[0].F64, func(r int) (float64, float64) { return s.F64[r%c], b.F64[r%c] })
	}
	return nil
}

// normRows normalises each of the rows contiguous runs of length size
// to mean 0 and variance 1 (biased, + eps) and applies the affine that
// aff gives for the row.
func normRows[T real](rows, size int, eps float64, x, y []T, aff func(r int) (T, T)) {
	for r := range rows {
		xs, ys := x[r*size:(r+1)*size], y[r*size:(r+1)*size]
		mu, inv := meanInv(xs, eps)
		s, b := aff(r)
		sc := T(inv) * s
		t := b - T(mu)*sc
		for i, v := range xs {
			ys[i] = v*sc + t
		}
	}
}

// meanInv returns the mean of xs and 1/√(biased variance + eps), in float64.
func meanInv[T real](xs []T, eps float64) (mu, inv float64) {
	if len(xs) == 0 {
		return 0, 1 / math.Sqrt(eps)
	}
	var s float64
	for _, v := range xs {
		s += float64(v)
	}
	mu = s / float64(len(xs))
	var s2 float64
	for _, v := range xs {
		d := float64(v) - mu
		s2 += d * d
	}
	return mu, 1 / math.Sqrt(s2/float64(len(xs))+eps)
}

// ---------------------------------------------------------------- LayerNormalization

type layerNormKernel struct {
	axis int
	eps  float32
	jobs jobList // parallel row loops' argument blocks
}

func newLayerNorm(n *Node) (Kernel, error) {
	if len(n.Inputs) < 2 || len(n.Inputs) > 3 {
		return nil, n.Errorf("want 2 or 3 inputs, have %d", len(n.Inputs))
	}
	return &layerNormKernel{axis: int(n.Int("axis", -1)), eps: n.Float("epsilon", 1e-5)}, n.Err()
}

func (k *layerNormKernel) Run(in, out []*Tensor) error {
	x, s, b := in[0], in[1], Input(in, 2)
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("LayerNormalization: element type %v: %w", x.DType, ErrUnsupported)
	}
	r := x.Rank()
	ax := k.axis
	if ax < 0 {
		ax += r
	}
	if ax < 0 || ax >= r {
		return fmt.Errorf("LayerNormalization: axis %d out of range for X shape %v", k.axis, x.Shape)
	}
	rows, size := numel(x.Shape[:ax]), numel(x.Shape[ax:])
	// Scale and B broadcast (unidirectionally) to X.shape[axis:]; each
	// repeats with a period of its own size when it is a suffix.
	for _, p := range []*Tensor{s, b} {
		if p == nil {
			continue
		}
		if p.DType != x.DType || p.Size() == 0 || size%p.Size() != 0 || !suffixBroadcast(p.Shape, x.Shape[ax:]) {
			return fmt.Errorf("LayerNormalization: scale/B shape %v does not broadcast to %v", p.Shape, x.Shape[ax:])
		}
	}
	out[0].Reset(x.DType, x.Shape)
	var stat [maxBatchRank + 2]int
	st := append(stat[:0], x.Shape[:ax]...)
	for range r - ax {
		st = append(st, 1)
	}
	var mean, inv []float32
	if len(out) > 1 {
		out[1].Reset(Float, st)
		mean = out[1].F32
	}
	if len(out) > 2 {
		out[2].Reset(Float, st)
		inv = out[2].F32
	}
	if f32 {
		layerNormRun(&k.jobs, rows, size, float64(k.eps), x.F32, s.F32, biasOf[float32](b), out[0].F32, mean, inv)
	} else {
		layerNormRun(&k.jobs, rows, size, float64(k.eps), x.F64, s.F64, biasOf[float64](b), out[0].F64, mean, inv)
	}
	return nil
}

// suffixBroadcast reports whether p broadcasts to want by repeating a
// trailing block: p is want's trailing dimensions, with leading 1s.
func suffixBroadcast(p, want []int) bool {
	if len(p) > len(want) {
		for _, d := range p[:len(p)-len(want)] {
			if d != 1 {
				return false
			}
		}
		p = p[len(p)-len(want):]
	}
	off := len(want) - len(p)
	lead := true
	for i, d := range p {
		if lead && d == 1 {
			continue
		}
		lead = false
		if d != want[off+i] {
			return false
		}
	}
	return true
}

// layerNormRun normalises rows rows of size elements of x into y, in
// parallel over rows (argument blocks from l) when there are enough.
func layerNormRun[T real](l *jobList, rows, size int, eps float64, x, s, b, y []T, mean, inv []float32) {
	// float32 rows of a transformer's width with a full scale (and bias,
	// if any) take math32's row kernels; their statistics are float32 sums
	// over 16 partial lanes, within a few ulp for rows this short.
	var z T
	a := lnArgs[T]{size: size, eps: eps, x: x, s: s, b: b, y: y, mean: mean, inv: inv}
	a.fast = unsafe.Sizeof(z) == 4 && size > 0 && size <= ln32MaxRow && len(s) == size && (len(b) == 0 || len(b) == size)
	if rows*size < lnParallelWork && !forceParallel || parallel.Threads() == 1 {
		a.block(0, rows)
		return
	}
	forArgs(l, rows, max(1, lnGrain/(size+1)), a)
}

// lnParallelWork is the least number of elements LayerNorm splits over
// threads; lnGrain the elements a chunk takes at least (a chunk of a few
// rows pays for the hand-off at two threads: MiniLM's 128 rows of 384
// run as two chunks of 64).
const (
	lnParallelWork = 1 << 14
	lnGrain        = 1 << 13
)

// lnArgs is a LayerNorm's arguments; block normalises rows [lo, hi).
type lnArgs[T real] struct {
	size       int
	eps        float64
	fast       bool
	x, s, b, y []T
	mean, inv  []float32
}

func (a lnArgs[T]) block(lo, hi int) {
	size, s, b := a.size, a.s, a.b
	for r := lo; r < hi; r++ {
		xs, ys := a.x[r*size:(r+1)*size], a.y[r*size:(r+1)*size]
		if a.fast {
			var b32 []float32
			if len(b) > 0 {
				b32 = as32(b)
			}
			ln32Row(as32(xs), as32(ys), as32(s), b32, a.eps, a.mean, a.inv, r)
			continue
		}
		mu, iv := meanInv(xs, a.eps)
		if a.mean != nil {
			a.mean[r] = float32(mu)
		}
		if a.inv != nil {
			a.inv[r] = float32(iv)
		}
		m, v := T(mu), T(iv)
		ns, nb := len(s), len(b)
		for i, xv := range xs {
			t := (xv - m) * v * s[i%ns]
			if nb > 0 {
				t += b[i%nb]
			}
			ys[i] = t
		}
	}
}

// ln32MaxRow is the longest float32 row layerNormRun sums in float32 lanes
// (math32.Sum, SumSqDiff); longer rows keep meanInv's float64 sums.
const ln32MaxRow = 4096

// ln32Row normalises one float32 row of LayerNorm with math32's kernels:
// the mean, then the mean square deviation about it, then one affine pass.
func ln32Row(xs, ys, s, b []float32, eps float64, mean, inv []float32, r int) {
	n := float32(len(xs))
	mu := math32.Sum(xs) / n
	iv := float32(1 / math.Sqrt(float64(math32.SumSqDiff(xs, mu)/n)+eps))
	if mean != nil {
		mean[r] = mu
	}
	if inv != nil {
		inv[r] = iv
	}
	math32.NormAffine(ys, xs, s, b, mu, iv)
}

// ---------------------------------------------------------------- GroupNormalization

type groupNormKernel struct {
	groups int
	eps    float32
	opset  int
}

func newGroupNorm(n *Node) (Kernel, error) {
	k := &groupNormKernel{groups: int(n.Int("num_groups", 0)), eps: n.Float("epsilon", 1e-5), opset: n.Opset}
	if k.groups < 1 {
		return nil, n.Errorf("num_groups %d < 1", k.groups)
	}
	if len(n.Inputs) != 3 {
		return nil, n.Errorf("want 3 inputs, have %d", len(n.Inputs))
	}
	return k, n.Err()
}

func (k *groupNormKernel) Run(in, out []*Tensor) error {
	x, s, b := in[0], in[1], in[2]
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("GroupNormalization: element type %v: %w", x.DType, ErrUnsupported)
	}
	if x.Rank() < 2 || x.Shape[1]%k.groups != 0 {
		return fmt.Errorf("GroupNormalization: X shape %v and num_groups %d do not fit", x.Shape, k.groups)
	}
	c := x.Shape[1]
	// Opset 18 has one scale and bias per group, 21 per channel.
	perGroup := s.Size() == k.groups && b.Size() == k.groups
	if !perGroup && (s.Size() != c || b.Size() != c) || s.DType != x.DType || b.DType != x.DType {
		return fmt.Errorf("GroupNormalization: scale %v and bias %v fit neither %d groups nor %d channels", s.Shape, b.Shape, k.groups, c)
	}
	out[0].Reset(x.DType, x.Shape)
	_, size := planes(x.Shape)
	if f32 {
		groupNormRun(k, x.Shape[0], c, size, perGroup, x.F32, s.F32, b.F32, out[0].F32)
	} else {
		groupNormRun(k, x.Shape[0], c, size, perGroup, x.F64, s.F64, b.F64, out[0].F64)
	}
	return nil
}

func groupNormRun[T real](k *groupNormKernel, n, c, size int, perGroup bool, x, s, b, y []T) {
	cg := c / k.groups
	gs := cg * size
	for r := range n * k.groups {
		g := r % k.groups
		xs, ys := x[r*gs:(r+1)*gs], y[r*gs:(r+1)*gs]
		mu, inv := meanInv(xs, float64(k.eps))
		for ci := range cg {
			ch := g*cg + ci
			sv, bv := s[min(ch, len(s)-1)], b[min(ch, len(b)-1)]
			if perGroup {
				sv, bv = s[g], b[g]
			}
			sc := T(inv) * sv
			t := bv - T(mu)*sc
			for i, v := range xs[ci*size : (ci+1)*size] {
				ys[ci*size+i] = v*sc + t
			}
		}
	}
}

// ---------------------------------------------------------------- MeanVarianceNormalization

type mvnKernel struct{ axes []int }

func newMVN(n *Node) (Kernel, error) {
	axes := n.IntsAsInt("axes")
	if axes == nil {
		axes = []int{0, 2, 3}
	}
	return &mvnKernel{axes: axes}, n.Err()
}

// Run computes (x − mean)/(√var + 1e-9) over the axes, as ONNX's function
// body defines it.
func (k *mvnKernel) Run(in, out []*Tensor) error {
	x := in[0]
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("MeanVarianceNormalization: element type %v: %w", x.DType, ErrUnsupported)
	}
	r := x.Rank()
	var red [maxBatchRank + 2]bool
	if r > len(red) {
		return fmt.Errorf("MeanVarianceNormalization: rank %d: %w", r, ErrUnsupported)
	}
	for _, a := range k.axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return fmt.Errorf("MeanVarianceNormalization: axis out of range for shape %v", x.Shape)
		}
		red[a] = true
	}
	out[0].Reset(x.DType, x.Shape)
	if f32 {
		mvnRun(x.Shape, red[:r], x.F32, out[0].F32)
	} else {
		mvnRun(x.Shape, red[:r], x.F64, out[0].F64)
	}
	return nil
}

func mvnRun[T real](shape []int, red []bool, x, y []T) {
	// Group elements by their index over the kept axes.
	r := len(shape)
	keep := 1
	for i, d := range shape {
		if !red[i] {
			keep *= d
		}
	}
	sum := make([]float64, 2*keep)
	cnt := float64(numel(shape)) / float64(max(keep, 1))
	key := func(i int) int {
		k, mul := 0, 1
		for d := r - 1; d >= 0; d-- {
			v := i % shape[d]
			i /= shape[d]
			if !red[d] {
				k += v * mul
				mul *= shape[d]
			}
		}
		return k
	}
	for i, v := range x {
		sum[key(i)] += float64(v)
	}
	for j := range keep {
		sum[j] /= cnt
	}
	for i, v := range x {
		d := float64(v) - sum[key(i)]
		sum[keep+key(i)] += d * d
	}
	for i, v := range x {
		kk := key(i)
		y[i] = T((float64(v) - sum[kk]) / (math.Sqrt(sum[keep+kk]/cnt) + 1e-9))
	}
}

// ---------------------------------------------------------------- LRN

type lrnKernel struct {
	size              int
	alpha, beta, bias float32
}

func newLRN(n *Node) (Kernel, error) {
	k := &lrnKernel{size: int(n.Int("size", 0)), alpha: n.Float("alpha", 1e-4), beta: n.Float("beta", 0.75), bias: n.Float("bias", 1)}
	if k.size < 1 {
		return nil, n.Errorf("size %d < 1", k.size)
	}
	return k, n.Err()
}

// Run: y = x / (bias + alpha/size · Σ x²)^beta, the sum over channels
// c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉.
func (k *lrnKernel) Run(in, out []*Tensor) error {
	x := in[0]
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("LRN: element type %v: %w", x.DType, ErrUnsupported)
	}
	if x.Rank() < 3 {
		return fmt.Errorf("LRN: X shape %v: want N×C×D…", x.Shape)
	}
	out[0].Reset(x.DType, x.Shape)
	if f32 {
		lrnRun(k, x.Shape, x.F32, out[0].F32)
	} else {
		lrnRun(k, x.Shape, x.F64, out[0].F64)
	}
	return nil
}

func lrnRun[T real](k *lrnKernel, shape []int, x, y []T) {
	n, c := shape[0], shape[1]
	_, size := planes(shape)
	lo, hi := (k.size-1)/2, (k.size-1)-(k.size-1)/2
	a := float64(k.alpha) / float64(k.size)
	for i := range n {
		for ch := range c {
			for p := range size {
				var s float64
				for cc := max(0, ch-lo); cc <= min(c-1, ch+hi); cc++ {
					v := float64(x[(i*c+cc)*size+p])
					s += v * v
				}
				j := (i*c+ch)*size + p
				y[j] = T(float64(x[j]) / math.Pow(float64(k.bias)+a*s, float64(k.beta)))
			}
		}
	}
}
