package hf

import (
	"sync"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// headsAttention is BERT's self-attention on the projections q, k, v as
// the Linear layers return them, [B·T, H·D], for a tape that records no
// gradients: each head is the T×D block of those rows at column h·D, so
// the scores softmax(q·kᵀ·scale + mask) and their product with v run as
// strided batched GEMMs over the heads (gemm.GemmStrided, as the onnx
// runtime's head views do) straight from the projections and into the
// [B·T, H·D] output, without the four Permute copies and the Scale pass
// the recorded ops take. Same formula and kernels (the scale is GEMM's
// alpha, each head's product computed as Gemm computes it alone, softmax
// rows math32's), so the result matches the recorded path to rounding.
//
// One value serves a whole BertModel.Forward (all its layers, one after
// the other) and is then returned to the model's free list, with the
// buffers it holds (positions, token types), so that a forward allocates
// none of them.
type headsAttention[T tensor.Float] struct {
	b, t, nh, d int
	scale       T
	mask        []T // [B, T] additive key mask, or nil

	pos, types []int // the forward's position and token-type ids

	s    []T              // the scores of the sequence bi during Forward
	bi   int              // that sequence
	rows func(lo, hi int) // softmaxRows, bound once (no closure per call)
}

// attnFree is a BertModel's free list of headsAttention values, one per
// concurrent no-grad Forward.
type attnFree[T tensor.Float] struct {
	mu   sync.Mutex
	free []*headsAttention[T]
}

// take returns a headsAttention from l (a new one if l is nil or empty).
func (l *attnFree[T]) take() *headsAttention[T] {
	if l != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		if n := len(l.free); n > 0 {
			f := l.free[n-1]
			l.free = l.free[:n-1]
			return f
		}
	}
	f := &headsAttention[T]{}
	f.rows = f.softmaxRows
	return f
}

// put returns f to l, dropping what it points into (a few are kept).
func (l *attnFree[T]) put(f *headsAttention[T]) {
	if l == nil {
		return
	}
	f.mask, f.s = nil, nil
	l.mu.Lock()
	if len(l.free) < 8 {
		l.free = append(l.free, f)
	}
	l.mu.Unlock()
}

// ids returns f's position and token-type buffers for n tokens.
func (f *headsAttention[T]) ids(n int) (pos, types []int) {
	if cap(f.pos) < n {
		f.pos, f.types = make([]int, n), make([]int, n)
	}
	return f.pos[:n], f.types[:n]
}

func (*headsAttention[T]) Name() string { return "BertSelfAttention (no grad)" }

func (f *headsAttention[T]) Forward(ctx *autograd.Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T] {
	b, t, nh, d := f.b, f.t, f.nh, f.d
	hd := nh * d
	// q, k and v as three [B·T, H·D] inputs, or one [B·T, 3·H·D] with
	// their rows side by side (qkvPack), rows of ld.
	var q, k, v []T
	ld := hd
	if len(in) == 1 {
		qkv := in[0].Contiguous().Data()
		q, k, v, ld = qkv, qkv[hd:], qkv[2*hd:], 3*hd
	} else {
		q, k, v = in[0].Contiguous().Data(), in[1].Contiguous().Data(), in[2].Contiguous().Data()
	}
	s := ctx.Alloc(nh, t, t).Data() // one sequence's heads
	y := ctx.Alloc(b*t, hd)
	o := y.Data()
	g := max(1, (1<<14)/t) // rows of scores a parallel chunk takes at least
	for bi := range b {
		off, in := bi*t*hd, bi*t*ld
		// Head h's q, k and v are the T×D blocks at column h·D (stride D
		// between heads, rows of ld); its scores the T×T block h of s.
		gemm.GemmStrided(gemm.NoTrans, gemm.Trans, t, t, d, f.scale, q[in:], ld, d, k[in:], ld, d, 0, s, t, t*t, nh)
		f.s, f.bi = s, bi
		if parallel.NumChunks(nh*t, g) <= 1 {
			f.softmaxRows(0, nh*t)
		} else {
			parallel.For(nh*t, g, f.rows)
		}
		gemm.GemmStrided(gemm.NoTrans, gemm.NoTrans, t, d, t, 1, s, t, t*t, v[in:], ld, d, 0, o[off:], hd, d, nh)
	}
	f.s = nil
	return y
}

// softmaxRows adds the mask to the score rows [lo, hi) of the sequence
// f.bi (rows of all its heads, one after the other) and normalises them.
func (f *headsAttention[T]) softmaxRows(lo, hi int) {
	t := f.t
	var mask []T
	if f.mask != nil {
		mask = f.mask[f.bi*t : (f.bi+1)*t]
	}
	for r := lo; r < hi; r++ {
		row := f.s[r*t : (r+1)*t]
		if mask != nil {
			addTo(row, mask)
		}
		softmaxRow(row)
	}
}

// softmaxRow normalises one row of scores in place: float32 through
// math32's row kernels (as tensor's softmax), float64 directly.
func softmaxRow[T tensor.Float](row []T) {
	if is32[T]() {
		r := f32s(row)
		math32.Scale(r, r, 1/math32.ExpShiftSum(r, r, math32.Max(r)))
		return
	}
	m := row[0]
	for _, x := range row {
		if x > m || x != x {
			m = x
		}
	}
	var sum T
	for i, x := range row {
		e := mathx.Exp(x - m)
		row[i] = e
		sum += e
	}
	for i := range row {
		row[i] /= sum
	}
}

// Backward is never reached: Forward uses headsAttention only on tapes
// that record no gradients.
func (*headsAttention[T]) Backward(*autograd.Context[T], *tensor.Dense[T], ...*tensor.Dense[T]) {
	panic("hf: headsAttention has no backward (used only without gradients)")
}

// noGrad reports whether tp records no gradients.
func noGrad[T tensor.Float](tp *autograd.Tape[T]) bool {
	on := tp.NoGrad(true)
	tp.NoGrad(on)
	return on
}
