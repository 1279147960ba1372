package autograd

import (
	"math"
	"slices"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/freelist"
	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// BatchNormOptions configures BatchNorm2d.
type BatchNormOptions struct {
	// Training normalises with the batch's statistics and updates the
	// running ones; otherwise (evaluation) the running statistics are
	// used and left unchanged.
	Training bool
	// Momentum of the running statistics: r ← (1 − m)·r + m·batch.
	// 0 means PyTorch's default 0.1.
	Momentum float64
	// Eps is added to the variance before the square root. 0 means
	// PyTorch's default 1e-5.
	Eps float64
	// CumulativeAverage makes the running statistics the plain average of
	// every training batch's statistics so far (PyTorch's momentum=None):
	// the momentum of this batch is 1/BatchesTracked, and Momentum is
	// ignored.
	CumulativeAverage bool
	// BatchesTracked is the number of training batches seen, this one
	// included (PyTorch's num_batches_tracked after its increment). It must
	// be at least 1 when CumulativeAverage updates running statistics.
	BatchesTracked int64
}

// BatchNorm2d normalises each channel of x (N×C×H×W) over N, H and W and
// applies the per-channel affine map: y = (x − μ)/√(σ² + ε)·γ + β, as
// PyTorch's BatchNorm2d. gamma and beta have C elements, or are nil (no
// scale, no shift). runMean and runVar (C elements each, or both nil) are
// the running statistics, updated in place in training mode.
//
// In training mode μ and σ² are the batch's mean and biased variance (the
// normalisation PyTorch uses) and the running statistics move towards the
// batch's mean and unbiased variance (σ²·M/(M − 1), M = N·H·W) with the
// momentum. In evaluation mode μ and σ² are the running statistics; with
// none given, the batch's are used in both modes. The statistics are
// accumulated in float64.
//
// Backward is fused, one pass per channel given Σȳ and Σȳ·x̂ (x̂ the
// normalised input): γ̄ += Σȳ·x̂, β̄ += Σȳ and, in training mode,
// x̄ += γ/√(σ² + ε)·(ȳ − Σȳ/M − x̂·Σȳ·x̂/M) (the statistics' own adjoints
// folded in); in evaluation mode x̄ += γ/√(σ² + ε)·ȳ.
//
// It panics (ErrShape) if x is not 4-D, a parameter or statistic does not
// have C elements, only one of runMean and runVar is given, or training
// has a single value per channel (M = 1, whose variance is undefined).
func (tp *Tape[T]) BatchNorm2d(x, gamma, beta *Var[T], runMean, runVar *tensor.Dense[T], o BatchNormOptions) *Var[T] {
	tp.check("BatchNorm2d", x)
	sx := x.value.Shape()
	if len(sx) != 4 {
		fail(ErrShape, "BatchNorm2d: x shape %v is not N×C×H×W", sx)
	}
	c := sx[1]
	vec := func(name string, d *tensor.Dense[T]) []T {
		if d == nil {
			return nil
		}
		if s := d.Shape(); len(s) != 1 || s[0] != c {
			fail(ErrShape, "BatchNorm2d: %s shape %v does not fit x shape %v (want [%d])", name, s, sx, c)
		}
		if !d.IsContiguous() {
			fail(ErrShape, "BatchNorm2d: %s is not contiguous", name)
		}
		return d.Data()
	}
	var gd, bd []T
	if gamma != nil {
		tp.check("BatchNorm2d", gamma)
		gd = vec("gamma", gamma.value)
	}
	if beta != nil {
		tp.check("BatchNorm2d", beta)
		bd = vec("beta", beta.value)
	}
	if (runMean == nil) != (runVar == nil) {
		fail(ErrShape, "BatchNorm2d: runMean and runVar must both be given or both be nil")
	}
	rm, rv := vec("runMean", runMean), vec("runVar", runVar)
	batchStats := o.Training || rm == nil
	m := sx[0] * sx[2] * sx[3]
	if batchStats && m <= 1 {
		fail(ErrShape, "BatchNorm2d: x shape %v has %d value per channel; training needs more than 1", sx, m)
	}
	mom, eps := o.Momentum, o.Eps
	if mom == 0 {
		mom = 0.1
	}
	if o.CumulativeAverage && o.Training && rm != nil {
		if o.BatchesTracked < 1 {
			fail(ErrMisuse, "BatchNorm2d: cumulative average with %d batches tracked (want >= 1, this batch included)", o.BatchesTracked)
		}
		mom = 1 / float64(o.BatchesTracked)
	}
	if eps == 0 {
		eps = 1e-5
	}
	xd, _ := tp.contig(x.value)
	out := tp.alloc(sx...)
	xhat := tp.alloc(sx...)
	invstd := tp.alloc(c)
	j := tp.bnJob()
	j.back, j.n, j.chunks = false, c, parallel.NumChunks(c, max(1, 16384/max(m, 1)))
	j.x, j.y = xd, out.Data()
	j.bn = bnArgs[T]{n: sx[0], hw: sx[2] * sx[3], gamma: gd, beta: bd, rm: rm, rv: rv,
		xhat: xhat.Data(), invstd: invstd.Data(), batch: batchStats, update: o.Training && rm != nil,
		mom: mom, eps: eps}
	j.runAll()
	n := newNode[batchNormNode[T]](tp, batchNormKey)
	n.x, n.gamma, n.beta, n.xhat, n.invstd, n.batch = x, gamma, beta, xhat, invstd, batchStats
	return tp.record("BatchNorm2d", n, out, x, gamma, beta)
}

// batchNormNode is the saved state of BatchNorm2d: the normalised input,
// each channel's 1/√(σ² + ε), and whether the batch's statistics were used
// (whose own adjoints backward then folds in).
type batchNormNode[T tensor.Float] struct {
	x, gamma, beta *Var[T]
	xhat, invstd   *tensor.Dense[T]
	batch          bool
}

var batchNormKey = newPoolKey()

// bnJob is a BatchNorm2d pass over the channels of an NCHW tensor, split
// into chunks of whole channels (so results do not depend on the thread
// count). The tape has one, reused by every batch norm.
type bnJob[T tensor.Float] struct {
	back      bool
	n, chunks int  // channels, chunks
	x, y      []T  // forward: input and output; backward: x̄ (or nil) and ȳ
	acc       bool // backward: add into x̄
	bn        bnArgs[T]
	run       func(i int)
}

// bnJob returns the tape's batch-norm job, binding its method value on
// first use so that handing it to parallel.Do allocates nothing.
func (tp *Tape[T]) bnJob() *bnJob[T] {
	j := &tp.bj
	if j.run == nil {
		j.run = j.chunk
	}
	return j
}

func (j *bnJob[T]) runAll() {
	runChunks(j.n, j.chunks, j.run)
	j.x, j.y, j.bn = nil, nil, bnArgs[T]{}
}

func (j *bnJob[T]) chunk(i int) {
	lo, hi := chunkBounds(i, j.n, j.chunks)
	if j.back {
		j.batchNormBack(lo, hi)
	} else {
		j.batchNorm(lo, hi)
	}
}

// bnArgs are BatchNorm2d's operands inside the tape's bnJob.
type bnArgs[T tensor.Float] struct {
	n, hw               int
	gamma, beta, rm, rv []T
	xhat, invstd        []T
	gg, gb              []T
	accG, accB          bool
	batch, update       bool
	mom, eps            float64
}

// batchNorm normalises channels [lo, hi).
func (j *bnJob[T]) batchNorm(lo, hi int) {
	a := &j.bn
	c, hw := j.n, a.hw
	m := float64(a.n * hw)
	for ch := lo; ch < hi; ch++ {
		var mean, vr float64
		if a.batch {
			s := 0.0
			for i := range a.n {
				for _, v := range j.x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
					s += float64(v)
				}
			}
			mean = s / m
			s = 0
			for i := range a.n {
				for _, v := range j.x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
					d := float64(v) - mean
					s += d * d
				}
			}
			vr = s / m
			if a.update {
				a.rm[ch] = T((1-a.mom)*float64(a.rm[ch]) + a.mom*mean)
				a.rv[ch] = T((1-a.mom)*float64(a.rv[ch]) + a.mom*vr*m/(m-1))
			}
		} else {
			mean, vr = float64(a.rm[ch]), float64(a.rv[ch])
		}
		is := 1 / math.Sqrt(vr+a.eps)
		a.invstd[ch] = T(is)
		gm, bt := T(1), T(0)
		if a.gamma != nil {
			gm = a.gamma[ch]
		}
		if a.beta != nil {
			bt = a.beta[ch]
		}
		mu, ist := T(mean), T(is)
		for i := range a.n {
			o := (i*c + ch) * hw
			x, xh, y := j.x[o:o+hw], a.xhat[o:o+hw], j.y[o:o+hw]
			for k, v := range x {
				h := (v - mu) * ist
				xh[k] = h
				y[k] = h*gm + bt
			}
		}
	}
}

func (n *batchNormNode[T]) backward(tp *Tape[T], u *Var[T]) {
	x, gamma, beta := n.x, n.gamma, n.beta
	sx := x.value.Shape()
	j := tp.bnJob()
	j.back, j.n = true, sx[1]
	m := sx[0] * sx[2] * sx[3]
	j.chunks = parallel.NumChunks(sx[1], max(1, 16384/max(m, 1)))
	j.y = u.grad.Data()
	a := bnArgs[T]{n: sx[0], hw: sx[2] * sx[3], xhat: n.xhat.Data(), invstd: n.invstd.Data(), batch: n.batch}
	if gamma != nil {
		a.gamma = gamma.value.Data()
		if gamma.requiresGrad {
			a.gg, a.accG = tp.grad(gamma)
		}
	}
	if beta != nil && beta.requiresGrad {
		a.gb, a.accB = tp.grad(beta)
	}
	if x.requiresGrad {
		j.x, j.acc = tp.grad(x)
	}
	j.bn = a
	j.runAll()
}

// batchNormBack runs the fused backward of channels [lo, hi).
func (j *bnJob[T]) batchNormBack(lo, hi int) {
	a := &j.bn
	c, hw := j.n, a.hw
	m := float64(a.n * hw)
	for ch := lo; ch < hi; ch++ {
		var sg, sgx float64 // Σȳ, Σȳ·x̂
		for i := range a.n {
			o := (i*c + ch) * hw
			xh := a.xhat[o : o+hw]
			for k, g := range j.y[o : o+hw] {
				sg += float64(g)
				sgx += float64(g) * float64(xh[k])
			}
		}
		if a.gg != nil {
			if a.accG {
				a.gg[ch] += T(sgx)
			} else {
				a.gg[ch] = T(sgx)
			}
		}
		if a.gb != nil {
			if a.accB {
				a.gb[ch] += T(sg)
			} else {
				a.gb[ch] = T(sg)
			}
		}
		if j.x == nil {
			continue
		}
		gm := T(1)
		if a.gamma != nil {
			gm = a.gamma[ch]
		}
		k0 := gm * a.invstd[ch]
		mg, mgx := T(0), T(0)
		if a.batch {
			mg, mgx = T(sg/m), T(sgx/m)
		}
		for i := range a.n {
			o := (i*c + ch) * hw
			xh, gy, gx := a.xhat[o:o+hw], j.y[o:o+hw], j.x[o:o+hw]
			if j.acc {
				for k, g := range gy {
					gx[k] += k0 * (g - mg - xh[k]*mgx)
				}
			} else {
				for k, g := range gy {
					gx[k] = k0 * (g - mg - xh[k]*mgx)
				}
			}
		}
	}
}

// LayerNorm normalises x over its last axis (C elements) and applies the
// affine w and b ([C] each; either may be nil): for each row,
//
//	y = (x − mean) / √(var + eps) · w + b
//
// with the biased variance (divided by C), as torch.nn.LayerNorm computes
// it (PyTorch's default eps is 1e-5). Forward and backward are each one
// fused pass over a row; backward uses the saved mean and 1/√(var + eps):
// with x̂ the normalised row and ĝ = ȳ ⊙ w,
//
//	x̄ += (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / √(var + eps)
//	w̄ += Σ_rows ȳ ⊙ x̂,  b̄ += Σ_rows ȳ
//
// A constant row has x̂ = 0 and a finite adjoint. Statistics accumulate in
// float64. Rows are split across threads (and w̄, b̄ by columns, each summed
// over the rows in order), so results are the same for every thread count.
// It panics (ErrShape) if x has rank 0 or w or b is not [C], and
// (ErrMisuse) if eps is not positive and finite.
func (tp *Tape[T]) LayerNorm(x, w, b *Var[T], eps float64) *Var[T] {
	return tp.layerNorm("LayerNorm", x, nil, w, b, eps)
}

// LayerNormShape is LayerNorm over the trailing dimensions normalizedShape
// of x, as PyTorch's F.layer_norm(x, normalized_shape, w, b, eps): each
// slice x[i, ...] over those dimensions is normalised as one row, and w and
// b (either may be nil) have shape normalizedShape. LayerNorm(x, w, b, eps)
// is LayerNormShape(x, x.Shape()[rank−1:], w, b, eps). It panics
// (ErrShape) if normalizedShape is empty or is not x's trailing dimensions,
// or w or b does not have its shape, and (ErrMisuse) if eps is not
// positive and finite.
func (tp *Tape[T]) LayerNormShape(x *Var[T], normalizedShape []int, w, b *Var[T], eps float64) *Var[T] {
	const op = "LayerNormShape"
	tp.check(op, x)
	s := x.value.Shape()
	k := len(normalizedShape)
	if k == 0 || k > len(s) || !sameShape(s[len(s)-k:], normalizedShape) {
		fail(ErrShape, "%s: normalized shape %v is not the trailing dimensions of x shape %v", op, slices.Clone(normalizedShape), s)
	}
	return tp.layerNorm(op, x, normalizedShape, w, b, eps)
}

// layerNorm normalises x over its trailing dimensions ns (nil: the last
// one, with LayerNorm's messages).
func (tp *Tape[T]) layerNorm(op string, x *Var[T], ns []int, w, b *Var[T], eps float64) *Var[T] {
	tp.check(op, x)
	s := x.value.Shape()
	if len(s) == 0 {
		fail(ErrShape, "%s: x is a scalar", op)
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		fail(ErrMisuse, "%s: eps %v is not positive and finite", op, eps)
	}
	c := s[len(s)-1]
	if ns != nil {
		c = 1
		for _, d := range ns {
			c *= d
		}
	}
	var wd, bd []T
	for i, p := range [2]*Var[T]{w, b} {
		if p == nil {
			continue
		}
		tp.check(op, p)
		ps := p.value.Shape()
		switch {
		case ns == nil && (len(ps) != 1 || ps[0] != c):
			fail(ErrShape, "LayerNorm: %s shape %v does not fit x shape %v (want [%d])", [2]string{"w", "b"}[i], ps, s, c)
		case ns != nil && !sameShape(ps, ns):
			fail(ErrShape, "%s: %s shape %v does not fit x shape %v (want %v)", op, [2]string{"w", "b"}[i], ps, s, slices.Clone(ns))
		}
		d, _ := tp.contig(p.value)
		if i == 0 {
			wd = d
		} else {
			bd = d
		}
	}
	xd, cx := tp.contig(x.value)
	rows := 0
	if c > 0 {
		rows = len(xd) / c
	}
	out := tp.allocLike(x.value)
	stats := tp.alloc(2, rows) // mean, then 1/√(var + eps)
	l := getLN[T]()
	l.x, l.y, l.st, l.w, l.b, l.c, l.rows, l.eps = xd, out.Data(), stats.Data(), wd, bd, c, rows, eps
	l.run(rows, c, l.fwdBody)
	l.release()
	n := newNode[layerNormNode[T]](tp, layerNormKey)
	n.x, n.w, n.b, n.stats, n.xc, n.c = x, w, b, stats, cx, c
	return tp.record(op, n, out, x, w, b)
}

// layerNormNode is the saved state of LayerNorm: each row's mean and
// 1/√(var + eps).
type layerNormNode[T tensor.Float] struct {
	x, w, b *Var[T]
	stats   *tensor.Dense[T] // [2, rows]: means, then 1/√(var + eps)
	xc      *tensor.Dense[T] // contiguous copy of a strided x, or nil
	c       int              // elements of a row (the normalised dimensions)
}

var layerNormKey = newPoolKey()

func (n *layerNormNode[T]) backward(tp *Tape[T], u *Var[T]) {
	x, w, b := n.x, n.w, n.b
	c := n.c
	xd := data(x.value, n.xc)
	rows := 0
	if c > 0 {
		rows = len(xd) / c
	}
	l := getLN[T]()
	l.x, l.g, l.st, l.c, l.rows = xd, u.grad.Data(), n.stats.Data(), c, rows
	if w != nil {
		l.w, _ = tp.contig(w.value)
	}
	if x.requiresGrad {
		l.gx, l.acc = tp.grad(x)
		l.run(rows, c, l.bwdBody)
	}
	if w != nil && w.requiresGrad {
		l.gw, l.accW = tp.grad(w)
	}
	if b != nil && b.requiresGrad {
		l.gb, l.accB = tp.grad(b)
	}
	if l.gw != nil || l.gb != nil {
		l.run(c, rows, l.colBody)
	}
	l.release()
}

// lnTask is one LayerNorm pass split across rows (or, for w̄ and b̄,
// columns). It is pooled and its bodies bound once, so a pass allocates
// nothing.
type lnTask[T tensor.Float] struct {
	x, y, g, st     []T
	w, b            []T
	gx, gw, gb      []T
	acc, accW, accB bool
	c, rows         int
	eps             float64

	fwdBody, bwdBody, colBody func(lo, hi int)
}

var lnPools [2]freelist.List[any] // not sync.Pools: they empty at every GC (see package freelist)

func getLN[T tensor.Float]() *lnTask[T] {
	if v := lnPools[typeIdx[T]()].Get(); v != nil {
		return v.(*lnTask[T])
	}
	l := new(lnTask[T])
	l.fwdBody, l.bwdBody, l.colBody = l.forward, l.backward, l.columns
	return l
}

func typeIdx[T tensor.Float]() int {
	if is32[T]() {
		return 0
	}
	return 1
}

// lnGrain is the fewest elements one LayerNorm task takes: a row costs
// several passes in float64, about 3 ns an element, so 16K elements
// outweigh a hand-off (10–16 µs) several times over.
const lnGrain = 1 << 14

// run splits n rows or columns of per elements each across the threads,
// at least lnGrain elements a task.
func (l *lnTask[T]) run(n, per int, body func(lo, hi int)) {
	parallel.For(n, rowGrain(lnGrain, per), body)
}

func (l *lnTask[T]) release() {
	*l = lnTask[T]{fwdBody: l.fwdBody, bwdBody: l.bwdBody, colBody: l.colBody}
	lnPools[typeIdx[T]()].Put(l)
}

func (l *lnTask[T]) forward(lo, hi int) {
	c, rows, wd, bd := l.c, l.rows, l.w, l.b
	if unsafe.Sizeof(T(0)) == 4 && wd != nil && c > 0 && c <= ln32MaxRow {
		// float32 rows of a transformer's width: math32's row kernels
		// (float32 sums over 16 partial lanes, within a few ulp at this
		// length), the same formula, one vector pass each.
		var b32 []float32
		if bd != nil {
			b32 = as32s(bd)
		}
		w32, n := as32s(wd), float32(c)
		for r := lo; r < hi; r++ {
			row, yr := as32s(l.x[r*c:r*c+c]), as32s(l.y[r*c:r*c+c])
			mu := math32.Sum(row) / n
			rs := float32(1 / math.Sqrt(float64(math32.SumSqDiff(row, mu)/n)+l.eps))
			l.st[r], l.st[rows+r] = T(mu), T(rs)
			math32.NormAffine(yr, row, w32, b32, mu, rs)
		}
		return
	}
	for r := lo; r < hi; r++ {
		row, yr := l.x[r*c:r*c+c], l.y[r*c:r*c+c]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(c)
		var ss float64
		for _, v := range row {
			d := float64(v) - mean
			ss += d * d
		}
		rstd := 1 / math.Sqrt(ss/float64(c)+l.eps)
		l.st[r], l.st[rows+r] = T(mean), T(rstd)
		m, rs := T(mean), T(rstd)
		switch {
		case wd != nil && bd != nil:
			for j, v := range row {
				yr[j] = (v-m)*rs*wd[j] + bd[j]
			}
		case wd != nil:
			for j, v := range row {
				yr[j] = (v - m) * rs * wd[j]
			}
		case bd != nil:
			for j, v := range row {
				yr[j] = (v-m)*rs + bd[j]
			}
		default:
			for j, v := range row {
				yr[j] = (v - m) * rs
			}
		}
	}
}

// ln32MaxRow is the longest float32 row forward normalises with math32's
// float32 lane sums; longer rows keep the float64 sums.
const ln32MaxRow = 4096

// as32s views a float32-sized element slice as []float32.
func as32s[T tensor.Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// backward computes x̄ for rows [lo, hi).
func (l *lnTask[T]) backward(lo, hi int) {
	c, rows, wd, acc := l.c, l.rows, l.w, l.acc
	for r := lo; r < hi; r++ {
		xr, gr, dr := l.x[r*c:r*c+c], l.g[r*c:r*c+c], l.gx[r*c:r*c+c]
		m, rs := l.st[r], l.st[rows+r]
		// mean(ĝ) and mean(ĝ ⊙ x̂), ĝ = ȳ ⊙ w.
		var s1, s2 float64
		for j, gv := range gr {
			gh := gv
			if wd != nil {
				gh *= wd[j]
			}
			s1 += float64(gh)
			s2 += float64(gh) * float64((xr[j]-m)*rs)
		}
		m1, m2 := T(s1/float64(c)), T(s2/float64(c))
		for j, gv := range gr {
			gh := gv
			if wd != nil {
				gh *= wd[j]
			}
			put(dr, j, acc, (gh-m1-(xr[j]-m)*rs*m2)*rs)
		}
	}
}

// columns computes w̄ and b̄ for columns [lo, hi), each summed over the
// rows in order.
func (l *lnTask[T]) columns(lo, hi int) {
	c, rows := l.c, l.rows
	if l.gw != nil && !l.accW {
		clear(l.gw[lo:hi])
	}
	if l.gb != nil && !l.accB {
		clear(l.gb[lo:hi])
	}
	for r := range rows {
		xr, gr := l.x[r*c+lo:r*c+hi], l.g[r*c+lo:r*c+hi]
		m, rs := l.st[r], l.st[rows+r]
		if l.gw != nil {
			gw := l.gw[lo:hi]
			for j, gv := range gr {
				gw[j] += gv * (xr[j] - m) * rs
			}
		}
		if l.gb != nil {
			addAcc(l.gb[lo:hi], gr)
		}
	}
}
