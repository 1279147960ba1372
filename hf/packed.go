package hf

import (
	"sync"
	"unsafe"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// Packed weights: a Linear's weight, [out, in] as PyTorch stores it, is
// multiplied with the transpose flag, and every GEMM call packs all of it
// (a transposing copy) into its panels: for BERT at 128 tokens that was a
// tenth of the forward pass. PackWeights packs them once (gemm.PackB) for
// inference, as ONNX Runtime does with its initializers.

// packedLinear is a Linear whose forward multiplies by pb, its weight
// packed by PackWeights; the backward is Linear's, from the weight itself.
type packedLinear[T tensor.Float] struct {
	w   *autograd.Var[T]
	f32 *gemm.PackedB[float32]
	f64 *gemm.PackedB[float64]
}

func (*packedLinear[T]) Name() string { return "Linear (packed)" }

func is32[T tensor.Float]() bool { return unsafe.Sizeof(T(0)) == 4 }

func f32s[T tensor.Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func f64s[T tensor.Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func newPackedLinear[T tensor.Float](w *autograd.Var[T]) *packedLinear[T] {
	v := w.Value()
	s := v.Shape()
	if len(s) != 2 || !v.IsContiguous() {
		return nil
	}
	out, in := s[0], s[1]
	p := &packedLinear[T]{w: w}
	if is32[T]() {
		p.f32 = gemm.PackB(gemm.Trans, in, out, f32s(v.Data()), in)
	} else {
		p.f64 = gemm.PackB(gemm.Trans, in, out, f64s(v.Data()), in)
	}
	return p
}

// Forward computes x·wᵀ (+ b) for x [n, in]: the rows filled with the bias,
// then the product added with beta = 1, as Tape.Linear, so the bits are
// Linear's.
func (p *packedLinear[T]) Forward(ctx *autograd.Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T] {
	ctx.Save(in[0], in[1])
	x := in[0].Contiguous()
	sw := in[1].Shape()
	n, out, k := x.Shape()[0], sw[0], sw[1]
	y := ctx.Alloc(n, out)
	z := y.Data()
	beta := T(0)
	if len(in) > 2 {
		b := in[2].Contiguous().Data()
		for r := range n {
			copy(z[r*out:(r+1)*out], b)
		}
		beta = 1
	}
	if is32[T]() {
		gemm.GemmPacked(gemm.NoTrans, n, out, k, 1, f32s(x.Data()), k, p.f32, float32(beta), f32s(z), out)
	} else {
		gemm.GemmPacked(gemm.NoTrans, n, out, k, 1, f64s(x.Data()), k, p.f64, float64(beta), f64s(z), out)
	}
	return y
}

// Backward is Linear's: x̄ += ȳ·w, w̄ += ȳᵀ·x, b̄ += the column sums of ȳ.
func (p *packedLinear[T]) Backward(ctx *autograd.Context[T], g *tensor.Dense[T], grad ...*tensor.Dense[T]) {
	sv := ctx.Saved()
	x, w := sv[0].Contiguous(), sv[1].Contiguous()
	gd := g.Contiguous().Data()
	n, out, k := x.Shape()[0], w.Shape()[0], w.Shape()[1]
	if grad[0] != nil {
		gemm.Gemm(gemm.NoTrans, gemm.NoTrans, n, k, out, 1, gd, out, w.Data(), k, 1, grad[0].Data(), k)
	}
	if grad[1] != nil {
		gemm.Gemm(gemm.Trans, gemm.NoTrans, out, k, n, 1, gd, out, x.Data(), k, 1, grad[1].Data(), k)
	}
	if len(grad) > 2 && grad[2] != nil {
		gb := grad[2].Data()
		for r := range n {
			for j, v := range gd[r*out : (r+1)*out] {
				gb[j] += v
			}
		}
	}
}

// PackWeights packs the weights of every Linear of the encoder (query,
// key, value, attention output, intermediate, output) into GEMM panels
// once; Forward then multiplies by the packed copies, with the same result
// bit for bit, and skips the per-call packing. It is for inference: the
// packed copies do not follow later changes to the weights (training,
// loading a state dict); call PackWeights again after such a change, or
// UnpackWeights. Gradients, if recorded, are Linear's.
func (m *BertModel[T]) PackWeights() {
	m.packs = map[*nn.Linear[T]]*packedLinear[T]{}
	m.fused = map[*nn.Linear[T]]*fusedLinear[T]{}
	m.qkv = map[*BertLayer[T]]*qkvPack[T]{}
	for _, l := range m.Layers {
		if q := newQKVPack(l); q != nil {
			m.qkv[l] = q
		}
		for _, lin := range []*nn.Linear[T]{l.Query, l.Key, l.Value, l.AttnOut, l.Intermediate, l.Output} {
			if p := newPackedLinear(lin.Weight); p != nil {
				m.packs[lin] = p
				m.fused[lin] = &fusedLinear[T]{p: p, gelu: lin == l.Intermediate}
			}
		}
	}
}

// UnpackWeights drops the packed copies of PackWeights.
func (m *BertModel[T]) UnpackWeights() { m.packs, m.fused, m.qkv = nil, nil, nil }

// qkvPack is a layer's query, key and value weights packed as one
// [3·out, in] matrix (their rows one after the other) with the biases
// concatenated, for tapes that record no gradients: one product of width
// 3·out instead of three, so the activation is packed once, not three
// times, and the team starts once. Each output element is summed over the
// same depth in the same order as in the separate products, so the bits
// are theirs. q, k, v, bq, bk, bv are what it was packed from (the
// packed copy is used only while the layer still holds them).
type qkvPack[T tensor.Float] struct {
	f                   *fusedLinear[T]
	q, k, v, bq, bk, bv *autograd.Var[T]
}

func newQKVPack[T tensor.Float](l *BertLayer[T]) *qkvPack[T] {
	lins := []*nn.Linear[T]{l.Query, l.Key, l.Value}
	var out, in int
	for i, lin := range lins {
		v := lin.Weight.Value()
		s := v.Shape()
		if len(s) != 2 || !v.IsContiguous() || lin.Bias == nil || lin.Bias.Value().Size() != s[0] || i > 0 && (s[0] != out || s[1] != in) {
			return nil
		}
		out, in = s[0], s[1]
	}
	w := make([]T, 0, 3*out*in)
	b := make([]T, 0, 3*out)
	for _, lin := range lins {
		w = append(w, lin.Weight.Value().Data()...)
		b = append(b, lin.Bias.Value().Contiguous().Data()...)
	}
	p := &packedLinear[T]{}
	if is32[T]() {
		p.f32 = gemm.PackB(gemm.Trans, in, 3*out, f32s(w), in)
	} else {
		p.f64 = gemm.PackB(gemm.Trans, in, 3*out, f64s(w), in)
	}
	return &qkvPack[T]{f: &fusedLinear[T]{p: p, out: 3 * out, k: in, bias: b},
		q: l.Query.Weight, k: l.Key.Weight, v: l.Value.Weight, bq: l.Query.Bias, bk: l.Key.Bias, bv: l.Value.Bias}
}

// qkvNoGrad records l's query, key and value projections of x for a tape
// that records no gradients, side by side in one [n, 3·out] result, when
// PackWeights packed them together and l still holds what was packed;
// else nil.
func (m *BertModel[T]) qkvNoGrad(tp *autograd.Tape[T], l *BertLayer[T], x *autograd.Var[T]) *autograd.Var[T] {
	q := m.qkv[l]
	if q == nil || len(x.Shape()) != 2 || x.Shape()[1] != q.f.k || q.q != l.Query.Weight || q.k != l.Key.Weight || q.v != l.Value.Weight ||
		q.bq != l.Query.Bias || q.bk != l.Key.Bias || q.bv != l.Value.Bias {
		return nil
	}
	return tp.Apply(q.f, x)
}

// linear records l on x, through its packed weight when PackWeights made
// one and x is a matrix.
func (m *BertModel[T]) linear(tp *autograd.Tape[T], l *nn.Linear[T], x *autograd.Var[T]) *autograd.Var[T] {
	p := m.packs[l]
	if p == nil || len(x.Shape()) != 2 || p.w != l.Weight {
		return l.Forward(tp, x)
	}
	if l.Bias == nil {
		return tp.Apply(p, x, l.Weight)
	}
	return tp.Apply(p, x, l.Weight, l.Bias)
}

// fusedLinear is a packed Linear for tapes that record no gradients, with
// what follows it in a BERT layer done in the GEMM's epilogue, on each
// strip of the output while it is in cache (gemm.GemmPackedEpilogue): the
// residual input added (attention output and output dense, before their
// LayerNorm) or the GELU applied (intermediate). The bias is in the rows
// before the product, as packedLinear does. Same formulas, order and
// kernels as the recorded ops (Linear, Add, GeluErf), so the same bits.
type fusedLinear[T tensor.Float] struct {
	p    *packedLinear[T]
	gelu bool

	// For the query, key and value packed side by side (qkvPack): the
	// product's width and depth and the three biases, concatenated; the
	// call then has x as its only input.
	out, k int
	bias   []T

	mu   sync.Mutex
	free []*linearEpi[T] // epilogue blocks, one per concurrent call
}

func (*fusedLinear[T]) Name() string { return "Linear (packed, fused epilogue)" }

// linearEpi is one call's epilogue: y's rows of n, the residual (or nil),
// and run bound to apply once.
type linearEpi[T tensor.Float] struct {
	y, res, bias []T
	n            int
	gelu         bool
	run          gemm.Epilogue
	fill         func(lo, hi int) // fillBlock
}

func (e *linearEpi[T]) apply(i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		row := e.y[i*e.n+j0 : i*e.n+j1]
		if e.res != nil {
			addTo(row, e.res[i*e.n+j0:i*e.n+j1])
		}
		if e.gelu {
			mathx.GeluErfSlice(row, row)
		}
	}
}

// Forward computes x·wᵀ (+ b) (+ res, or GELU) for in = x [n, in], w, and
// b and res when present (b is in[2] when len(in) > 2 and the Linear has
// a bias; res is the last input when residual).
func (f *fusedLinear[T]) Forward(ctx *autograd.Context[T], in ...*tensor.Dense[T]) *tensor.Dense[T] {
	x := in[0].Contiguous()
	n, out, k := x.Shape()[0], f.out, f.k
	if len(in) > 1 {
		sw := in[1].Shape()
		out, k = sw[0], sw[1]
	}
	y := ctx.Alloc(n, out)
	f.mu.Lock()
	var e *linearEpi[T]
	if l := len(f.free); l > 0 {
		e, f.free = f.free[l-1], f.free[:l-1]
	}
	f.mu.Unlock()
	if e == nil {
		e = &linearEpi[T]{}
		e.run, e.fill = e.apply, e.fillBlock
	}
	e.y, e.n, e.gelu, e.res = y.Data(), out, f.gelu, nil
	beta := T(0)
	if f.bias != nil {
		e.bias = f.bias
		e.fillRows(n)
		beta = 1
	}
	for _, t := range in[min(2, len(in)):] {
		if len(t.Shape()) != 1 {
			e.res = t.Contiguous().Data()
			continue
		}
		e.bias = t.Contiguous().Data()
		e.fillRows(n)
		beta = 1
	}
	run := e.run
	if e.res == nil && !e.gelu {
		run = nil
	}
	if is32[T]() {
		gemm.GemmPackedEpilogue(gemm.NoTrans, n, out, k, 1, f32s(x.Data()), k, f.p.f32, float32(beta), f32s(e.y), out, run)
	} else {
		gemm.GemmPackedEpilogue(gemm.NoTrans, n, out, k, 1, f64s(x.Data()), k, f.p.f64, float64(beta), f64s(e.y), out, run)
	}
	e.y, e.res, e.bias = nil, nil, nil
	f.mu.Lock()
	if len(f.free) < 8 {
		f.free = append(f.free, e)
	}
	f.mu.Unlock()
	return y
}

// Backward is never reached: fusedLinear runs only without gradients.
func (*fusedLinear[T]) Backward(*autograd.Context[T], *tensor.Dense[T], ...*tensor.Dense[T]) {
	panic("hf: fusedLinear has no backward (used only without gradients)")
}

// linearNoGrad records l on x for a tape that records no gradients, with
// res added to its output (res non-nil) or GELU applied to it (the
// intermediate dense): in the GEMM's epilogue when PackWeights packed l,
// else as Linear, Add and GeluErf.
func (m *BertModel[T]) linearNoGrad(tp *autograd.Tape[T], l *nn.Linear[T], x, res *autograd.Var[T], gelu bool) *autograd.Var[T] {
	f := m.fused[l]
	if f == nil || len(x.Shape()) != 2 || f.p.w != l.Weight || f.gelu != gelu {
		y := m.linear(tp, l, x)
		if res != nil {
			y = tp.Add(y, res)
		}
		if gelu {
			y = geluErf(tp, y)
		}
		return y
	}
	switch {
	case l.Bias != nil && res != nil:
		return tp.Apply(f, x, l.Weight, l.Bias, res)
	case l.Bias != nil:
		return tp.Apply(f, x, l.Weight, l.Bias)
	case res != nil:
		return tp.Apply(f, x, l.Weight, res)
	}
	return tp.Apply(f, x, l.Weight)
}

// addTo adds r to row (len(r) >= len(row)), four at a time without bounds
// checks in the loop.
func addTo[T tensor.Float](row, r []T) {
	r = r[:len(row)]
	j := 0
	for ; j+4 <= len(row); j += 4 {
		d, s := row[j:j+4:j+4], r[j:j+4:j+4]
		d[0] += s[0]
		d[1] += s[1]
		d[2] += s[2]
		d[3] += s[3]
	}
	for ; j < len(row); j++ {
		row[j] += r[j]
	}
}

// fillRows copies e.bias into each of the n rows of e.y, in parallel when
// the rows are large enough to pay for the hand-off (the intermediate
// dense's 128×1536 at two threads; 128×384 is not), through e.fill bound
// once (no closure per call).
func (e *linearEpi[T]) fillRows(n int) {
	w := len(e.bias)
	if n*w < 1<<16 || parallel.Threads() == 1 {
		e.fillBlock(0, n)
		return
	}
	parallel.For(n, max(1, (1<<15)/max(w, 1)), e.fill)
}

func (e *linearEpi[T]) fillBlock(lo, hi int) {
	w := len(e.bias)
	for r := lo; r < hi; r++ {
		copy(e.y[r*w:(r+1)*w], e.bias)
	}
}
