package hf

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SampleOptions chooses the next token from logits, as transformers'
// logits processors do, in their order: repetition penalty, temperature,
// top-k, top-p; then a draw. The zero value is greedy decoding.
type SampleOptions struct {
	// Temperature divides the logits; 0 picks the most likely token
	// (greedy: no randomness, the other settings but the penalty unused).
	Temperature float64
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the most likely tokens whose probabilities sum to at
	// least TopP (0 or 1: all).
	TopP float64
	// RepetitionPenalty divides the positive logits, and multiplies the
	// negative ones, of tokens already in the context (0 or 1: none).
	RepetitionPenalty float64
}

// Validate reports a setting that cannot sample.
func (o SampleOptions) Validate() error {
	switch {
	case !(o.Temperature >= 0) || math.IsInf(o.Temperature, 0):
		return fmt.Errorf("temperature %v (want finite and >= 0)", o.Temperature)
	case o.TopK < 0:
		return fmt.Errorf("top-k %d (want >= 0)", o.TopK)
	case !(o.TopP >= 0 && o.TopP <= 1):
		return fmt.Errorf("top-p %v (want in [0, 1])", o.TopP)
	case !(o.RepetitionPenalty >= 0) || math.IsInf(o.RepetitionPenalty, 0):
		return fmt.Errorf("repetition penalty %v (want finite and >= 0)", o.RepetitionPenalty)
	}
	return nil
}

// Sample picks the next token from the logits of the last Feed, with one
// draw from rng when sampling (rng may be nil for greedy decoding). The
// logits are left unchanged. It panics if o does not validate or rng is
// nil when needed.
func (g *Generator[T]) Sample(rng *rand.Rand, o SampleOptions) int {
	if err := o.Validate(); err != nil {
		panic("hf: Generator.Sample: " + err.Error())
	}
	return g.sample(g.logits, g.kv, rng, o)
}

// sample is Sample for the logits of the sequence of kv.
func (g *engine[T]) sample(logits []T, kv *kvCache[T], rng *rand.Rand, o SampleOptions) int {
	p := g.probs
	for i, v := range logits {
		p[i] = float64(v)
	}
	if o.RepetitionPenalty > 0 && o.RepetitionPenalty != 1 {
		for _, t := range kv.seenList {
			if p[t] > 0 {
				p[t] /= o.RepetitionPenalty
			} else {
				p[t] *= o.RepetitionPenalty
			}
		}
	}
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	if o.Temperature == 0 {
		return best
	}
	if rng == nil {
		panic("hf: Sample: nil rng with temperature > 0")
	}
	// Candidates: every token, or the top-k / top-p set, most likely first
	// (ties by token id). Top-k selects its k with a heap before sorting
	// them, so a large vocabulary is not sorted for every token.
	idx := g.idx[:len(p)]
	for i := range idx {
		idx[i] = i
	}
	k := len(p)
	before := func(a, b int) bool { return p[a] > p[b] || (p[a] == p[b] && a < b) }
	if o.TopK > 0 && o.TopK < len(p) {
		k = o.TopK
		topK(idx, k, before)
		idx = idx[:k]
	}
	if k < len(p) || (o.TopP > 0 && o.TopP < 1) {
		slices.SortFunc(idx, func(a, b int) int {
			if c := cmp.Compare(p[b], p[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
	}
	mx := p[best]
	var sum float64
	for _, i := range idx[:k] {
		sum += math.Exp((p[i] - mx) / o.Temperature)
	}
	if o.TopP > 0 && o.TopP < 1 {
		// The smallest most-likely set with probability >= TopP (at least
		// one token).
		var cum float64
		for j, i := range idx[:k] {
			cum += math.Exp((p[i]-mx)/o.Temperature) / sum
			if cum >= o.TopP {
				k = j + 1
				break
			}
		}
		sum = 0
		for _, i := range idx[:k] {
			sum += math.Exp((p[i] - mx) / o.Temperature)
		}
	}
	u := rng.Float64() * sum
	for _, i := range idx[:k] {
		u -= math.Exp((p[i] - mx) / o.Temperature)
		if u < 0 {
			return i
		}
	}
	return idx[0] // rounding left u >= 0: the most likely candidate
}

// GenerateOptions configures Generate.
type GenerateOptions struct {
	SampleOptions
	MaxNewTokens int   // tokens to generate at most
	Stop         []int // tokens that end generation (kept in the output)
	// Stream, when set, receives each token as it is chosen; returning
	// false ends generation.
	Stream func(token int) bool
	// StreamBatch is Stream for BatchGenerator: it receives the index of
	// the sequence with each token; returning false ends that sequence.
	StreamBatch func(seq, token int) bool
}

// Generate feeds prompt, then samples up to o.MaxNewTokens tokens, each fed
// back in, and returns dst with them appended; each is fed too (but for the last, when
// the context is full). It stops after a stop token,
// when Stream returns false, or when the context is full. With dst of
// enough capacity it allocates nothing. It panics if the prompt is empty
// and the context too, the prompt does not fit, or the options do not
// validate.
func (g *Generator[T]) Generate(dst, prompt []int, o GenerateOptions, rng *rand.Rand) []int {
	if err := o.Validate(); err != nil {
		panic("hf: Generator.Generate: " + err.Error())
	}
	if o.MaxNewTokens < 0 {
		panic(fmt.Sprintf("hf: Generator.Generate: MaxNewTokens %d < 0", o.MaxNewTokens))
	}
	if len(prompt) == 0 && g.kv.n == 0 && o.MaxNewTokens > 0 {
		panic("hf: Generator.Generate: empty prompt and empty context")
	}
	if len(prompt) > 0 {
		g.Feed(prompt...)
	}
	for range o.MaxNewTokens {
		t := g.Sample(rng, o.SampleOptions)
		dst = append(dst, t)
		stop := (o.Stream != nil && !o.Stream(t)) || slices.Contains(o.Stop, t)
		if g.kv.n == g.max {
			break // the context is full: t cannot be fed
		}
		g.Feed(t) // so that the context holds everything returned
		if stop {
			break
		}
	}
	return dst
}

// topK moves the k candidates that come first by before into idx[:k], in
// no particular order: a heap of the k best so far whose root is the worst
// of them.
func topK(idx []int, k int, before func(a, b int) bool) {
	h := idx[:k]
	down := func(i int) {
		for {
			w, l, r := i, 2*i+1, 2*i+2
			if l < k && before(h[w], h[l]) {
				w = l
			}
			if r < k && before(h[w], h[r]) {
				w = r
			}
			if w == i {
				return
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for j := k; j < len(idx); j++ {
		if before(idx[j], h[0]) {
			h[0], idx[j] = idx[j], h[0]
			down(0)
		}
	}
}
