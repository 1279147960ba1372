package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/tensor"
)

// Generator runs a GPT forward for sampling, one token after another,
// without a tape: no gradient is recorded and nothing is allocated per
// token. It keeps every layer's keys and values of the tokens seen (a KV
// cache), so a new token costs one row through each matrix instead of a
// pass over the whole context.
//
// When the cache holds BlockSize tokens, the next token cannot be placed;
// the generator then restarts from the last Keep tokens (recomputed in one
// batched pass) and continues. With Keep = BlockSize−1 that is nanoGPT's
// generate exactly (the context cropped to the last BlockSize tokens, every
// token recomputing the window); the default BlockSize/2 recomputes once
// every BlockSize/2 tokens, so each prediction sees between BlockSize/2 and
// BlockSize tokens of context.
//
// A Generator reads the model's current weights at every call; it must not
// be used while another goroutine updates them.
type Generator[T tensor.Float] struct {
	g    *GPT[T]
	Keep int // tokens kept when the context is full; default BlockSize/2

	n      int   // tokens in the cache
	hist   []int // those tokens
	kc, vc [][]T // per layer: keys and values, [BlockSize, Embd]
	x, h   []T   // residual stream and normalised rows, [BlockSize, Embd]
	qkv    []T   // [BlockSize, 3·Embd]
	y      []T   // attention output, [BlockSize, Embd]
	fc     []T   // [BlockSize, Hidden]
	tmp    []T   // GELU scratch, [BlockSize, Hidden]
	att    []T   // one query's scores, [BlockSize]
	logits []T   // [VocabSize]
	probs  []float64
}

// NewGenerator returns a Generator for g with an empty context.
func NewGenerator[T tensor.Float](g *GPT[T]) *Generator[T] {
	c := g.Config
	bs := c.BlockSize
	gen := &Generator[T]{
		g: g, Keep: bs / 2,
		hist: make([]int, 0, bs),
		x:    make([]T, bs*c.Embd), h: make([]T, bs*c.Embd),
		qkv: make([]T, bs*3*c.Embd), y: make([]T, bs*c.Embd),
		fc: make([]T, bs*c.Hidden), tmp: make([]T, bs*c.Hidden), att: make([]T, bs),
		logits: make([]T, c.VocabSize), probs: make([]float64, c.VocabSize),
	}
	for range c.Layers {
		gen.kc = append(gen.kc, make([]T, bs*c.Embd))
		gen.vc = append(gen.vc, make([]T, bs*c.Embd))
	}
	return gen
}

// Reset empties the context.
func (gen *Generator[T]) Reset() {
	gen.n = 0
	gen.hist = gen.hist[:0]
}

// Len returns the number of tokens in the context.
func (gen *Generator[T]) Len() int { return gen.n }

// Feed appends tokens to the context and returns the logits for the token
// that follows them (valid until the next call). Feeding an empty slice
// returns the logits of the last call. It panics (wrapping ErrArg) if a
// token is out of range or Keep is not in [1, BlockSize).
func (gen *Generator[T]) Feed(tokens ...int) []T {
	c := gen.g.Config
	if gen.Keep < 1 || gen.Keep >= c.BlockSize {
		panic(fmt.Errorf("%w: Generator: Keep %d outside [1, %d)", ErrArg, gen.Keep, c.BlockSize))
	}
	for i, t := range tokens {
		if t < 0 || t >= c.VocabSize {
			panic(fmt.Errorf("%w: Generator.Feed: token %d at %d out of range [0, %d)", ErrArg, t, i, c.VocabSize))
		}
	}
	for len(tokens) > 0 {
		if gen.n == c.BlockSize {
			// Full: restart from the last Keep tokens.
			keep := gen.hist[c.BlockSize-gen.Keep:]
			copy(gen.hist, keep)
			gen.hist = gen.hist[:len(keep)]
			gen.n = 0
			gen.run(gen.hist)
		}
		m := min(len(tokens), c.BlockSize-gen.n)
		gen.hist = append(gen.hist, tokens[:m]...)
		gen.run(tokens[:m])
		tokens = tokens[m:]
	}
	return gen.logits
}

// run pushes tokens (at most BlockSize − n) through the model at positions
// n, n+1, … and leaves the logits of the last in gen.logits.
func (gen *Generator[T]) run(tokens []int) {
	g, c := gen.g, gen.g.Config
	e, hd := c.Embd, c.Embd/c.Heads
	m, p0 := len(tokens), gen.n
	if m == 0 {
		return
	}
	wte, wpe := g.WTE.Weight.Value().Data(), g.WPE.Weight.Value().Data()
	x := gen.x[:m*e]
	for r, t := range tokens {
		xr := x[r*e : r*e+e]
		te, pe := wte[t*e:t*e+e], wpe[(p0+r)*e:(p0+r)*e+e]
		for j := range xr {
			xr[j] = te[j] + pe[j]
		}
	}
	h, qkv, y, fc := gen.h[:m*e], gen.qkv[:m*3*e], gen.y[:m*e], gen.fc[:m*c.Hidden]
	scale := T(1 / math.Sqrt(float64(hd)))
	for l, bl := range g.H {
		layerNormRows(h, x, e, bl.LN1)
		linearRows(qkv, h, m, bl.Attn.Attn, 0)
		kc, vc := gen.kc[l], gen.vc[l]
		for r := range m {
			copy(kc[(p0+r)*e:(p0+r+1)*e], qkv[r*3*e+e:r*3*e+2*e])
			copy(vc[(p0+r)*e:(p0+r+1)*e], qkv[r*3*e+2*e:r*3*e+3*e])
		}
		for r := range m {
			nk := p0 + r + 1 // keys visible to this query
			for hh := range c.Heads {
				q := qkv[r*3*e+hh*hd : r*3*e+hh*hd+hd]
				att := gen.att[:nk]
				mx := T(math.Inf(-1))
				for j := range att {
					kj := kc[j*e+hh*hd : j*e+hh*hd+hd]
					var s T
					for d, qv := range q {
						s += qv * kj[d]
					}
					att[j] = s * scale
					mx = max(mx, att[j])
				}
				var sum T
				for j, s := range att {
					ex := T(math.Exp(float64(s - mx)))
					att[j] = ex
					sum += ex
				}
				yr := y[r*e+hh*hd : r*e+hh*hd+hd]
				clear(yr)
				inv := 1 / sum
				for j, pj := range att {
					vj := vc[j*e+hh*hd : j*e+hh*hd+hd]
					w := pj * inv
					for d := range yr {
						yr[d] += w * vj[d]
					}
				}
			}
		}
		linearRows(x, y, m, bl.Attn.Proj, 1) // x += y·W + b
		layerNormRows(h, x, e, bl.LN2)
		linearRows(fc, h, m, bl.FC, 0)
		geluInPlace(fc, gen.tmp[:len(fc)])
		linearRows(x, fc, m, bl.Proj, 1)
	}
	last := h[(m-1)*e : m*e]
	layerNormRows(last, x[(m-1)*e:m*e], e, g.LNF)
	// logits = h·wteᵀ (the tied head).
	matmul(false, true, 1, c.VocabSize, e, last, e, wte, e, 0, gen.logits, c.VocabSize)
	gen.n += m
}

// Sample draws the next token from the logits of the last Feed at the
// given temperature (probabilities ∝ exp(logit/temperature)), using one
// draw from rng; a temperature of 0 picks the most likely token. It panics
// (wrapping ErrArg) if temperature is negative or not finite.
func (gen *Generator[T]) Sample(rng *rand.Rand, temperature float64) int {
	if !(temperature >= 0) || math.IsInf(temperature, 0) {
		panic(fmt.Errorf("%w: Generator.Sample: temperature %v (want finite and >= 0)", ErrArg, temperature))
	}
	best := 0
	for i, v := range gen.logits {
		if v > gen.logits[best] {
			best = i
		}
	}
	if temperature == 0 {
		return best
	}
	mx := float64(gen.logits[best])
	var sum float64
	for i, v := range gen.logits {
		p := math.Exp((float64(v) - mx) / temperature)
		gen.probs[i] = p
		sum += p
	}
	u := rng.Float64() * sum
	for i, p := range gen.probs {
		u -= p
		if u < 0 {
			return i
		}
	}
	return best // rounding left u ≥ 0: the most likely token
}

// Generate feeds prompt (which may be empty only if the context is not),
// then samples n tokens, each fed back in, and returns dst with them
// appended. It allocates nothing when dst has room for them.
func (gen *Generator[T]) Generate(dst []int, prompt []int, n int, temperature float64, rng *rand.Rand) []int {
	if len(prompt) == 0 && gen.n == 0 && n > 0 {
		panic(fmt.Errorf("%w: Generator.Generate: empty prompt and empty context", ErrArg))
	}
	gen.Feed(prompt...)
	for range n {
		t := gen.Sample(rng, temperature)
		dst = append(dst, t)
		gen.Feed(t)
	}
	return dst
}

// layerNormRows writes LayerNorm l of each e-wide row of x into dst,
// computing as autograd's LayerNorm does (float64 statistics).
func layerNormRows[T tensor.Float](dst, x []T, e int, l *LayerNorm[T]) {
	w := l.Weight.Value().Data()
	var b []T
	if l.Bias != nil {
		b = l.Bias.Value().Data()
	}
	for r := 0; r < len(x)/e; r++ {
		row, out := x[r*e:r*e+e], dst[r*e:r*e+e]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(e)
		var ss float64
		for _, v := range row {
			d := float64(v) - mean
			ss += d * d
		}
		m, rs := T(mean), T(1/math.Sqrt(ss/float64(e)+l.Eps))
		for j, v := range row {
			o := (v - m) * rs * w[j]
			if b != nil {
				o += b[j]
			}
			out[j] = o
		}
	}
}

// linearRows sets dst = x·Wᵀ + b (beta 0) or adds it to dst (beta 1), for
// m rows.
func linearRows[T tensor.Float](dst, x []T, m int, l *Linear[T], beta T) {
	matmul(false, true, m, l.Out, l.In, x, l.In, l.Weight.Value().Data(), l.In, beta, dst, l.Out)
	if l.Bias == nil {
		return
	}
	b := l.Bias.Value().Data()
	for r := range m {
		row := dst[r*l.Out : r*l.Out+l.Out]
		for j, v := range b {
			row[j] += v
		}
	}
}

// geluInPlace applies the tanh approximation of GELU, as autograd's Gelu
// (float32 through math32's vector tanh, scratch the size of x in tmp).
func geluInPlace[T tensor.Float](x, tmp []T) {
	const c, k = 0.7978845608028654, 0.044715 // √(2/π)
	if x32, ok := any(x).([]float32); ok {
		t32 := any(tmp).([]float32)[:len(x32)]
		for i, v := range x32 {
			t32[i] = c * (v + k*v*v*v)
		}
		math32.TanhSlice(t32, t32)
		for i, v := range x32 {
			x32[i] = 0.5 * v * (1 + t32[i])
		}
		return
	}
	for i, v := range x {
		f := float64(v)
		x[i] = T(0.5 * f * (1 + math.Tanh(c*(f+k*f*f*f))))
	}
}

// matmul is C = op(A)·op(B) + beta·C through gemm for T.
func matmul[T tensor.Float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := gemm.NoTrans, gemm.NoTrans
	if tA {
		ta = gemm.Trans
	}
	if tB {
		tb = gemm.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		gemm.Sgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		gemm.Dgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
