package hf

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/adjoint-go/adjoint/tensor"
)

// BatchGenerator continues several prompts at once. Prompts of different
// lengths need no padding: each sequence keeps its own positions and KV
// cache, which is what the attention mask of a padded batch achieves, and
// each prompt is fed alone. Every step then pushes one token of each
// unfinished sequence through the model as one batch of rows (one matrix
// product per layer for all of them), so B sequences cost far less than B
// generators. Greedy results equal a Generator's on each prompt alone (up
// to the rounding of a product over B rows instead of one).
type BatchGenerator[T tensor.Float] struct {
	*engine[T]
	kvs    []*kvCache[T]
	logits []T // per sequence: the logits of its next token, [B, VocabSize]
	step   []T // one step's logits, [B, VocabSize]
	rowSeq []int
	toks   []int
	done   []bool
}

// NewBatchGenerator returns a BatchGenerator of up to batch sequences, each
// with room for maxLen tokens (0: the model's MaxPositions). It panics as
// NewGenerator does, or if batch < 1.
func NewBatchGenerator[T tensor.Float](m CausalLM[T], batch, maxLen int) *BatchGenerator[T] {
	if batch < 1 {
		panic(fmt.Sprintf("hf: NewBatchGenerator: batch %d < 1", batch))
	}
	rows := min(chunk, m.Cfg().MaxPositions)
	if maxLen > 0 {
		rows = min(rows, maxLen)
	}
	e := newEngine("NewBatchGenerator", m, maxLen, max(rows, batch))
	v := e.c.VocabSize
	b := &BatchGenerator[T]{engine: e, logits: make([]T, batch*v), step: make([]T, batch*v),
		rowSeq: make([]int, batch), toks: make([]int, batch), done: make([]bool, batch)}
	for range batch {
		b.kvs = append(b.kvs, newKVCache[T](e.c, e.max))
	}
	return b
}

// Generate continues each prompt (at most the batch size of them, none
// empty, each fitting the context) by up to o.MaxNewTokens tokens, as
// Generator.Generate does for one, and returns dst with one slice per
// prompt (dst's slices are reused when it has them). Sampling draws from
// rng for the sequences in order at each step. o.Stream, if set, is not
// used; o.StreamBatch receives (sequence, token) as tokens are chosen, and
// returning false ends that sequence. It panics if the prompts do not fit
// or the options do not validate.
func (b *BatchGenerator[T]) Generate(dst [][]int, prompts [][]int, o GenerateOptions, rng *rand.Rand) [][]int {
	if err := o.Validate(); err != nil {
		panic("hf: BatchGenerator.Generate: " + err.Error())
	}
	if len(prompts) == 0 || len(prompts) > len(b.kvs) || o.MaxNewTokens < 0 {
		panic(fmt.Sprintf("hf: BatchGenerator.Generate: %d prompts for a batch of %d, MaxNewTokens %d", len(prompts), len(b.kvs), o.MaxNewTokens))
	}
	v := b.c.VocabSize
	for s, p := range prompts {
		if len(p) == 0 || len(p) > b.max {
			panic(fmt.Sprintf("hf: BatchGenerator.Generate: prompt %d has %d tokens (want 1 to %d)", s, len(p), b.max))
		}
		b.checkTokens("BatchGenerator.Generate", p)
	}
	dst = dst[:0:cap(dst)]
	for s, p := range prompts {
		kv := b.kvs[s]
		kv.reset()
		b.prefill(kv, p, b.logits[s*v:(s+1)*v])
		if len(dst) < cap(dst) {
			dst = dst[:s+1]
			dst[s] = dst[s][:0]
		} else {
			dst = append(dst, nil)
		}
		b.done[s] = o.MaxNewTokens == 0
	}
	for {
		m := 0
		for s := range prompts {
			if b.done[s] {
				continue
			}
			kv := b.kvs[s]
			t := b.sample(b.logits[s*v:(s+1)*v], kv, rng, o.SampleOptions)
			dst[s] = append(dst[s], t)
			stop := (o.StreamBatch != nil && !o.StreamBatch(s, t)) || slices.Contains(o.Stop, t) || len(dst[s]) == o.MaxNewTokens
			if kv.n == b.max {
				b.done[s] = true
				continue
			}
			b.done[s] = stop
			kv.reserve(kv.n + 1)
			b.reserveAtt(kv.n + 1)
			b.rowSeq[m], b.toks[m] = s, t
			b.rowKV[m], b.rowPos[m] = kv, kv.n
			m++
		}
		if m == 0 {
			return dst
		}
		// Feed every sampled token (stopped sequences too, so each cache
		// holds everything returned).
		b.run(b.toks[:m], m, b.step)
		for r, s := range b.rowSeq[:m] {
			kv := b.kvs[s]
			kv.see(b.toks[r : r+1])
			kv.n++
			copy(b.logits[s*v:(s+1)*v], b.step[r*v:(r+1)*v])
		}
	}
}
