package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/tensor"
)

// Generator runs a GPT forward for sampling, one token after another, on
// its own tape in no-grad mode: the same layer code as training (Block's
// forward), no gradient recorded, and nothing allocated per token once
// warm. It keeps every layer's keys and values of the tokens seen (a KV
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

	tp     *autograd.Tape[T]
	n      int          // tokens in the cache
	hist   []int        // those tokens
	pos    []int        // positions of the tokens being run
	kv     []kvCache[T] // per layer
	att    []T          // one query's scores, [BlockSize]
	y      []T          // attention output rows, [BlockSize, Embd]
	ys     []*tensor.Dense[T]
	logits []T // [VocabSize]
	probs  []float64
}

// kvCache is one layer's cached keys and values ([BlockSize, Embd] each)
// and the Generator's scratch that attend writes into.
type kvCache[T tensor.Float] struct {
	gen  *Generator[T]
	k, v []T
}

// NewGenerator returns a Generator for g with an empty context.
func NewGenerator[T tensor.Float](g *GPT[T]) *Generator[T] {
	c := g.Config
	bs := c.BlockSize
	gen := &Generator[T]{
		g: g, Keep: bs / 2,
		tp:   autograd.NewTape[T](),
		hist: make([]int, 0, bs), pos: make([]int, 0, bs),
		att: make([]T, bs), y: make([]T, bs*c.Embd), ys: make([]*tensor.Dense[T], bs+1),
		logits: make([]T, c.VocabSize), probs: make([]float64, c.VocabSize),
	}
	gen.tp.NoGrad(true)
	for range c.Layers {
		gen.kv = append(gen.kv, kvCache[T]{gen: gen, k: make([]T, bs*c.Embd), v: make([]T, bs*c.Embd)})
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
	g, tp := gen.g, gen.tp
	m := len(tokens)
	if m == 0 {
		return
	}
	tp.Reset()
	gen.pos = gen.pos[:0]
	for r := range m {
		gen.pos = append(gen.pos, gen.n+r)
	}
	x := tp.Add(g.WTE.Lookup(tp, tokens), g.WPE.Lookup(tp, gen.pos)) // [m, Embd]
	for l, bl := range g.H {
		x = bl.forward(tp, x, 1, m, &gen.kv[l])
	}
	if m > 1 {
		x = tp.Slice(x, 0, m-1, m)
	}
	// logits = ln_f(x)·wteᵀ (the tied head), as Logits computes them.
	logits := tp.MatMulT(g.LNF.Forward(tp, x), g.WTE.Weight, gemm.NoTrans, gemm.Trans)
	copy(gen.logits, logits.Value().Data())
	gen.n += m
}

// attend adds the keys and values of qkv's rows ([m, 3·Embd], positions
// gen.n, gen.n+1, …) to the cache and returns the attention output [m,
// Embd]: for each head, softmax(q·Kᵀ/√d)·V over the cached positions up to
// the query's own. The result lives in the Generator's scratch until the
// next call.
func (kv *kvCache[T]) attend(qkv *tensor.Dense[T], heads int) *tensor.Dense[T] {
	gen := kv.gen
	e := gen.g.Config.Embd
	hd := e / heads
	m, p0 := qkv.Shape()[0], gen.n
	q3 := qkv.Contiguous().Data()
	for r := range m {
		copy(kv.k[(p0+r)*e:(p0+r+1)*e], q3[r*3*e+e:r*3*e+2*e])
		copy(kv.v[(p0+r)*e:(p0+r+1)*e], q3[r*3*e+2*e:r*3*e+3*e])
	}
	y := gen.y[:m*e]
	scale := T(1 / math.Sqrt(float64(hd)))
	for r := range m {
		nk := p0 + r + 1 // keys visible to this query
		for hh := range heads {
			q := q3[r*3*e+hh*hd : r*3*e+hh*hd+hd]
			att := gen.att[:nk]
			mx := T(math.Inf(-1))
			for j := range att {
				kj := kv.k[j*e+hh*hd : j*e+hh*hd+hd]
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
				vj := kv.v[j*e+hh*hd : j*e+hh*hd+hd]
				w := pj * inv
				for d := range yr {
					yr[d] += w * vj[d]
				}
			}
		}
	}
	if gen.ys[m] == nil {
		gen.ys[m] = tensor.FromSlice(y, m, e)
	}
	return gen.ys[m]
}

// Sample draws the next token from the logits of the last Feed at the
// given temperature (probabilities ∝ exp(logit/temperature)), using one
// draw from rng; a temperature of 0 picks the most likely token. It panics
// (wrapping ErrArg) if temperature is negative or not finite, and (wrapping
// ErrDiverged) if a logit is NaN or none is above −Inf: such a model has no
// distribution to sample (it used to return token 0, a NUL byte, every
// time), as torch.multinomial refuses NaN probabilities. A caller that
// cannot rule it out checks the model first (CheckLoss on its loss).
func (gen *Generator[T]) Sample(rng *rand.Rand, temperature float64) int {
	if !(temperature >= 0) || math.IsInf(temperature, 0) {
		panic(fmt.Errorf("%w: Generator.Sample: temperature %v (want finite and >= 0)", ErrArg, temperature))
	}
	best := 0
	for i, v := range gen.logits {
		if v != v {
			panic(fmt.Errorf("%w: Generator.Sample: logit %d is NaN (the model's weights are not finite)", ErrDiverged, i))
		}
		if v > gen.logits[best] {
			best = i
		}
	}
	if math.IsInf(float64(gen.logits[best]), -1) {
		panic(fmt.Errorf("%w: Generator.Sample: every logit is -Inf", ErrDiverged))
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
