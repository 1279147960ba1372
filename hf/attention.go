package hf

import (
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
// strided batched GEMMs over the heads straight from the projections and
// into the [B·T, H·D] output, without the four Permute copies and the
// Scale pass the recorded ops take. Same
// formula and kernels (the scale is GEMM's alpha, softmax rows
// math32's), so the result matches the recorded path to rounding.
type headsAttention[T tensor.Float] struct {
	b, t, nh, d int
	scale       T
	mask        []T // [B, T] additive key mask, or nil
}

func (*headsAttention[T]) Name() string { return "BertSelfAttention (no grad)" }

func (f *headsAttention[T]) Forward(ctx *autograd.Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T] {
	b, t, nh, d := f.b, f.t, f.nh, f.d
	q, k, v := in[0].Contiguous().Data(), in[1].Contiguous().Data(), in[2].Contiguous().Data()
	hd := nh * d
	s := ctx.Alloc(nh, t, t).Data()
	y := ctx.Alloc(b*t, hd)
	o := y.Data()
	// Each head runs whole (scores, mask and softmax rows, product with v)
	// while its t×t scores are in cache, the heads in parallel: a head's
	// products are below GEMM's own parallel cut-off.
	head := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			bi, h := i/nh, i%nh
			off := bi*t*hd + h*d
			sh := s[h*t*t : (h+1)*t*t]
			gemm.Gemm(gemm.NoTrans, gemm.Trans, t, t, d, f.scale, q[off:], hd, k[off:], hd, 0, sh, t)
			for r := range t {
				row := sh[r*t : (r+1)*t]
				if f.mask != nil {
					for j, mv := range f.mask[bi*t : (bi+1)*t] {
						row[j] += mv
					}
				}
				softmaxRow(row)
			}
			gemm.Gemm(gemm.NoTrans, gemm.NoTrans, t, d, t, 1, sh, t, v[off:], hd, 0, o[off:], hd)
		}
	}
	g := headGrain(t, d)
	for bi := range b {
		// The scores buffer holds one sequence's heads.
		if parallel.NumChunks(nh, g) <= 1 {
			head(bi*nh, (bi+1)*nh)
			continue
		}
		parallel.For(nh, g, func(lo, hi int) { head(bi*nh+lo, bi*nh+hi) })
	}
	return y
}

// headGrain is how many heads a parallel chunk takes at least: one head of
// 128 tokens (4 MFLOP) pays for the hand-off; shorter ones are grouped.
func headGrain(t, d int) int {
	return max(1, (1<<21)/max(1, 4*t*t*d))
}

// softmaxRow normalises one row of scores in place: float32 through
// math32's row kernels (as tensor's softmax), float64 directly.
func softmaxRow[T tensor.Float](row []T) {
	if is32[T]() {
		r := f32s(row)
		inv := 1 / math32.ExpShiftSum(r, r, math32.Max(r))
		for i := range r {
			r[i] *= inv
		}
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
