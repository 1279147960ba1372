package tokenizer

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// goSourceCorpus is the repository's Go source (up to limit bytes), one
// text per file, in a fixed order.
func goSourceCorpus(tb testing.TB, limit int) []string {
	root := filepath.Join("..")
	var out []string
	total := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || total >= limit {
			return nil
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") && p != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			b, err := os.ReadFile(p)
			if err == nil {
				out = append(out, string(b))
				total += len(b)
			}
		}
		return nil
	})
	if total == 0 {
		tb.Skip("no Go source found")
	}
	return out
}

func benchEncode(b *testing.B, tk *Tokenizer, texts []string) {
	n := 0
	for _, s := range texts {
		n += len(s)
	}
	b.SetBytes(int64(n))
	b.ResetTimer()
	for b.Loop() {
		for _, s := range texts {
			if _, err := tk.Encode(s, false); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEncode: GPT-2 BPE (OpenAI's vocabulary) and a WordPiece BERT
// tokenizer over the repository's Go source; MB/s is the figure compared
// with tiktoken and the Rust tokenizers in BenchmarkVsReference.
func BenchmarkEncode(b *testing.B) {
	texts := goSourceCorpus(b, 4<<20)
	b.Run("model=gpt2", func(b *testing.B) {
		benchEncode(b, loadGPT2(b), texts)
	})
	b.Run("model=wordpiece", func(b *testing.B) {
		benchEncode(b, loadFixtureTokenizer(b, "bert_uncased.tokenizer.json.gz"), texts)
	})
}

// nodeModules finds the npm packages bench/tokenizer_ref.js needs.
func nodeModules() string {
	for _, d := range []string{os.Getenv("ADJOINT_NODE_MODULES"), "/work/npmref/node_modules", filepath.Join("..", "node_modules")} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "@anush008", "tokenizers")); err == nil {
			return d
		}
	}
	return ""
}

// BenchmarkVsReference alternates the Go encoder and the references on the
// repository's Go source at one thread: GPT-2 BPE against tiktoken (WASM)
// and the Rust tokenizers (native, through node), and a WordPiece
// tokenizer.json against the Rust tokenizers. Each side's figure is the
// best of 3 timings per round, rounds alternate ours, theirs; reported are
// the best over rounds and the ratios ours/theirs. Not run with -short.
func BenchmarkVsReference(b *testing.B) {
	if testing.Short() {
		b.Skip("runs node for several seconds; run without -short")
	}
	mods := nodeModules()
	node, err := exec.LookPath("node")
	if mods == "" || err != nil {
		b.Skip("needs node and npm @anush008/tokenizers, tiktoken, gpt-3-encoder (set ADJOINT_NODE_MODULES)")
	}
	gpt2 := loadGPT2(b)
	wp := loadFixtureTokenizer(b, "bert_uncased.tokenizer.json.gz")
	texts := goSourceCorpus(b, 4<<20)
	dir := b.TempDir()
	cj, _ := json.Marshal(texts)
	corpus := filepath.Join(dir, "corpus.json")
	wpFile := filepath.Join(dir, "wordpiece.json")
	if err := os.WriteFile(corpus, cj, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(wpFile, readGz(b, filepath.Join("testdata", "bert_uncased.tokenizer.json.gz")), 0o644); err != nil {
		b.Fatal(err)
	}
	total := 0
	for _, s := range texts {
		total += len(s)
	}
	ours := func(tk *Tokenizer) float64 {
		bestT := time.Duration(1 << 62)
		for range 3 {
			t0 := time.Now()
			for _, s := range texts {
				if _, err := tk.Encode(s, false); err != nil {
					b.Fatal(err)
				}
			}
			bestT = min(bestT, time.Since(t0))
		}
		return float64(total) / 1e6 / bestT.Seconds()
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	best := map[string]float64{}
	keep := func(k string, v float64) { best[k] = max(best[k], v) }
	for b.Loop() {
		for round := 0; round < 3; round++ {
			keep("gpt2_ours", ours(gpt2))
			keep("wordpiece_ours", ours(wp))
			cmd := exec.Command(node, filepath.Join("..", "bench", "tokenizer_ref.js"), corpus, wpFile)
			cmd.Env = append(os.Environ(), "NODE_PATH="+mods, "TOKENIZERS_PARALLELISM=false", "RAYON_NUM_THREADS=1")
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("node: %v", err)
			}
			var ref map[string]any
			if err := json.Unmarshal(out, &ref); err != nil {
				b.Fatalf("node output %q: %v", out, err)
			}
			for k, v := range ref {
				if f, ok := v.(float64); ok {
					keep(k, f)
				} else {
					b.Logf("reference: %s: %v", k, v)
				}
			}
		}
	}
	b.ReportMetric(best["gpt2_ours"], "MB/s-gpt2-go")
	b.ReportMetric(best["tiktoken_gpt2"], "MB/s-gpt2-tiktoken")
	b.ReportMetric(best["hf_gpt2"], "MB/s-gpt2-rust")
	b.ReportMetric(best["wordpiece_ours"], "MB/s-wordpiece-go")
	b.ReportMetric(best["hf_wordpiece"], "MB/s-wordpiece-rust")
	if best["tiktoken_gpt2"] > 0 {
		b.ReportMetric(best["gpt2_ours"]/best["tiktoken_gpt2"], "x-vs-tiktoken")
	}
	if best["hf_wordpiece"] > 0 {
		b.ReportMetric(best["wordpiece_ours"]/best["hf_wordpiece"], "x-wordpiece-vs-rust")
	}
}
