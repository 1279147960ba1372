package hf

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/parallel"
)

// TestGreedyMatchesPyTorch: the KV-cache generator's greedy tokens are
// PyTorch's (32 tokens from its own KV-cache loop), and the logits of
// every step agree with PyTorch's full recomputation of the sequence.
func TestGreedyMatchesPyTorch(t *testing.T) {
	for _, name := range decoders {
		t.Run(name, func(t *testing.T) {
			m, fx := loadDecoder(t, name)
			g := NewGenerator(m.LM, 0)
			got := g.Generate(nil, fx.Prompt, GenerateOptions{MaxNewTokens: len(fx.Greedy)}, nil)
			require.Equal(t, fx.Greedy, got)
			t.Logf("%d greedy tokens identical to PyTorch's (smallest top-2 logit gap %.3g)", len(got), fx.Margin)

			// Step by step, against the full-sequence logits.
			full := fx.exp["full_logits"].Data()
			v := m.Config.VocabSize
			seq := append(append([]int{}, fx.Prompt...), fx.Greedy...)
			g.Reset()
			worst := 0.0
			for i, tok := range seq {
				lg := g.Feed(tok)
				worst = max(worst, relErr(lg, full[i*v:(i+1)*v]))
			}
			t.Logf("KV-cache logits vs PyTorch full recomputation: max rel error %.3g", worst)
			require.LessOrEqual(t, worst, 1e-5)
		})
	}
}

// TestKVCacheEqualsRecompute: feeding a sequence in pieces of any size
// gives the logits of the tape's full recomputation.
func TestKVCacheEqualsRecompute(t *testing.T) {
	defer func(n int) { kvInitial = n }(kvInitial)
	kvInitial = 3 // the caches grow several times
	for _, name := range decoders {
		t.Run(name, func(t *testing.T) {
			m, fx := loadDecoder(t, name)
			seq := append(append([]int{}, fx.Prompt...), fx.Greedy...)
			tp := autograd.NewTape[float32]()
			tp.NoGrad(true)
			full := m.LM.Logits(tp, seq, 1, len(seq)).Value().Data()
			v := m.Config.VocabSize
			g := NewGenerator(m.LM, 0)
			for _, step := range []int{1, 3, 7, len(seq)} {
				g.Reset()
				for i := 0; i < len(seq); i += step {
					j := min(i+step, len(seq))
					lg := g.Feed(seq[i:j]...)
					require.LessOrEqual(t, relErr(lg, full[(j-1)*v:j*v]), 1e-5, "step %d at %d", step, j)
				}
			}
		})
	}
}

func TestGenerateNoAllocs(t *testing.T) {
	m, fx := loadDecoder(t, "llama")
	g := NewGenerator(m.LM, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	dst := make([]int, 0, 64)
	o := GenerateOptions{SampleOptions: SampleOptions{Temperature: 0.8, TopK: 20, TopP: 0.9, RepetitionPenalty: 1.3}, MaxNewTokens: 8}
	allocs := testing.AllocsPerRun(10, func() {
		g.Reset()
		dst = g.Generate(dst[:0], fx.Prompt, o, rng)
	})
	require.Zero(t, allocs)
	g.Reset()
	g.Feed(fx.Prompt...)
	allocs = testing.AllocsPerRun(20, func() {
		if g.Len() == g.Cap() {
			g.Reset()
			g.Feed(fx.Prompt...)
		}
		g.Feed(g.Sample(rng, o.SampleOptions))
	})
	require.Zero(t, allocs)
}

func TestSampling(t *testing.T) {
	m, fx := loadDecoder(t, "qwen2")
	g := NewGenerator(m.LM, 0)
	g.Feed(fx.Prompt...)
	lg := g.Logits()
	greedy := g.Sample(nil, SampleOptions{})
	// Top-k 1 and a tiny top-p are greedy whatever the draw.
	for i := range 20 {
		rng := rand.New(rand.NewPCG(uint64(i), 0))
		require.Equal(t, greedy, g.Sample(rng, SampleOptions{Temperature: 1, TopK: 1}))
		require.Equal(t, greedy, g.Sample(rng, SampleOptions{Temperature: 1, TopP: 1e-9}))
	}
	// Top-k 5: only the 5 most likely appear; every one of them does.
	top := map[int]bool{}
	for range 5 {
		best := -1
		for i, v := range lg {
			if !top[i] && (best < 0 || v > lg[best]) {
				best = i
			}
		}
		top[best] = true
	}
	seen := map[int]int{}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 2000 {
		tok := g.Sample(rng, SampleOptions{Temperature: 5, TopK: 5})
		require.True(t, top[tok], "token %d not in the top 5", tok)
		seen[tok]++
	}
	require.Len(t, seen, 5)
	// The same seed gives the same tokens.
	a := g.Sample(rand.New(rand.NewPCG(3, 4)), SampleOptions{Temperature: 1})
	b := g.Sample(rand.New(rand.NewPCG(3, 4)), SampleOptions{Temperature: 1})
	require.Equal(t, a, b)
	// Repetition penalty, against a naive loop over transformers' rule.
	g.Reset()
	g.Feed(append(append([]int{}, fx.Prompt...), greedy)...)
	ctx := map[int]bool{greedy: true}
	for _, tok := range fx.Prompt {
		ctx[tok] = true
	}
	for _, pen := range []float64{1.5, 4, 1e6} {
		best, bv := -1, 0.0
		for i, v := range g.Logits() {
			f := float64(v)
			if ctx[i] && f > 0 {
				f /= pen
			} else if ctx[i] {
				f *= pen
			}
			if best < 0 || f > bv {
				best, bv = i, f
			}
		}
		require.Equal(t, best, g.Sample(nil, SampleOptions{RepetitionPenalty: pen}), "penalty %v", pen)
	}
}

func TestGenerateStops(t *testing.T) {
	m, fx := loadDecoder(t, "llama")
	g := NewGenerator(m.LM, 0)
	// The greedy continuation holds token 2 (an EOS id of the config) at
	// some step: generation stops right after it.
	stopAt := -1
	for i, tok := range fx.Greedy {
		if tok == 2 {
			stopAt = i
			break
		}
	}
	require.GreaterOrEqual(t, stopAt, 0)
	got := g.Generate(nil, fx.Prompt, GenerateOptions{MaxNewTokens: 32, Stop: m.Config.EosTokenID}, nil)
	require.Equal(t, fx.Greedy[:stopAt+1], got)
	// Streaming sees every token; returning false stops.
	g.Reset()
	var streamed []int
	got = g.Generate(nil, fx.Prompt, GenerateOptions{MaxNewTokens: 32, Stream: func(tok int) bool {
		streamed = append(streamed, tok)
		return len(streamed) < 5
	}}, nil)
	require.Equal(t, fx.Greedy[:5], got)
	require.Equal(t, got, streamed)
	// A full context ends generation.
	g = NewGenerator(m.LM, len(fx.Prompt)+3)
	got = g.Generate(nil, fx.Prompt, GenerateOptions{MaxNewTokens: 32}, nil)
	require.Equal(t, fx.Greedy[:4], got)
}

// TestBatchEqualsOneAtATime: prompts of different lengths generated as one
// batch give each prompt's tokens alone, stop tokens included.
func TestBatchEqualsOneAtATime(t *testing.T) {
	for _, name := range decoders {
		t.Run(name, func(t *testing.T) {
			m, fx := loadDecoder(t, name)
			prompts := [][]int{fx.Prompt, fx.Prompt[:3], append(append([]int{}, fx.Prompt...), fx.Greedy[:6]...), {fx.Prompt[5]}}
			o := GenerateOptions{MaxNewTokens: 20, Stop: m.Config.EosTokenID, SampleOptions: SampleOptions{RepetitionPenalty: 1.2}}
			g := NewGenerator(m.LM, 0)
			var want [][]int
			for _, p := range prompts {
				g.Reset()
				want = append(want, g.Generate(nil, p, o, nil))
			}
			kvInitial = 2 // the caches grow as they fill
			bg := NewBatchGenerator(m.LM, len(prompts), 0)
			kvInitial = 256
			got := bg.Generate(nil, prompts, o, nil)
			require.Equal(t, want, got)
			// Again, reusing dst, and allocation-free.
			require.Equal(t, want, bg.Generate(got, prompts, o, nil))
			allocs := testing.AllocsPerRun(5, func() { got = bg.Generate(got, prompts, o, nil) })
			require.Zero(t, allocs)
			// Sampling with a seed is reproducible.
			so := o
			so.Temperature, so.TopP = 0.9, 0.95
			a := bg.Generate(nil, prompts, so, rand.New(rand.NewPCG(5, 6)))
			b := bg.Generate(nil, prompts, so, rand.New(rand.NewPCG(5, 6)))
			require.Equal(t, a, b)
		})
	}
}

// TestTopK: the heap selection keeps the k tokens a full sort puts first
// (ties broken by id).
func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		n := 1 + rng.IntN(60)
		p := make([]float64, n)
		for i := range p {
			p[i] = float64(rng.IntN(8)) // many ties
		}
		k := 1 + rng.IntN(n)
		before := func(a, b int) bool { return p[a] > p[b] || (p[a] == p[b] && a < b) }
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sorted := slices.Clone(idx)
		slices.SortFunc(sorted, func(a, b int) int {
			if before(a, b) {
				return -1
			}
			return 1
		})
		topK(idx, k, before)
		got := slices.Clone(idx[:k])
		slices.Sort(got)
		want := slices.Clone(sorted[:k])
		slices.Sort(want)
		require.Equal(t, want, got)
	}
}

// TestConcurrentGenerators: generators on one model in several goroutines
// give each the tokens of one alone.
func TestConcurrentGenerators(t *testing.T) {
	m, fx := loadDecoder(t, "qwen2")
	want := NewGenerator(m.LM, 0).Generate(nil, fx.Prompt, GenerateOptions{MaxNewTokens: 16}, nil)
	got := make([][]int, 4)
	done := make(chan int)
	for i := range got {
		go func() {
			got[i] = NewGenerator(m.LM, 0).Generate(nil, fx.Prompt, GenerateOptions{MaxNewTokens: 16}, nil)
			done <- i
		}()
	}
	for range got {
		<-done
	}
	for _, g := range got {
		require.Equal(t, want, g)
	}
}

// TestParallelDecodeMatchesSerial: one-row products split into tasks over
// two threads give the logits of one thread, bit for bit, and allocate
// nothing (tasks of 4 rows here, so that the tiny models split).
func TestParallelDecodeMatchesSerial(t *testing.T) {
	defer func(n int) { mvTask = n }(mvTask)
	mvTask = 1
	for _, name := range decoders {
		t.Run(name, func(t *testing.T) {
			m, fx := loadDecoder(t, name)
			seq := append(append([]int{}, fx.Prompt...), fx.Greedy...)
			logits := func(threads int) []float32 {
				defer parallel.SetThreads(parallel.SetThreads(threads))
				g := NewGenerator(m.LM, 0)
				var out []float32
				for _, tok := range seq {
					out = append(out, g.Feed(tok)...)
				}
				return out
			}
			require.Equal(t, logits(1), logits(2))

			// The split allocates nothing either.
			defer parallel.SetThreads(parallel.SetThreads(2))
			g := NewGenerator(m.LM, 0)
			g.Feed(fx.Prompt...)
			allocs := testing.AllocsPerRun(20, func() {
				if g.Len() == g.Cap() {
					g.Reset()
				}
				g.Feed(fx.Greedy[0])
			})
			require.Zero(t, allocs)
		})
	}
}
