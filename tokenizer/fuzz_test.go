package tokenizer

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// FuzzRead: any bytes as tokenizer.json load or fail with an error, never
// a panic; what loads encodes and decodes without panicking.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"model": ` + okModel + `}`))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "pre_tokenizer": {"type": "ByteLevel"}}`))
	f.Add([]byte(`{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["a", -1], ["ab", -1.5]]}, "pre_tokenizer": {"type": "Metaspace"}}`))
	f.Add([]byte(`{"added_tokens": [{"id": 9, "content": "[X]", "lstrip": true, "rstrip": true, "single_word": true, "special": true}], "model": ` + okModel + `, "normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": {"type": "BertProcessing", "sep": ["[UNK]", 0], "cls": ["a", 1]}, "truncation": {"max_length": 3}, "padding": {"strategy": {"Fixed": 5}}}`))
	f.Add([]byte(`{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}}, "decoder": {"type": "WordPiece"}}`))
	for _, name := range []string{"wordlevel_whitespace", "zoo_split"} {
		f.Add(readGz(f, filepath.Join("testdata", name+".tokenizer.json.gz")))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := Read(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for _, s := range []string{"", "a b", "ab [X] a\u00e9\u0301 12", "\xff\xfe a"} {
			e, err := tk.Encode(s, true)
			if err != nil {
				continue
			}
			tk.Decode(e.IDs, true)
			tk.Decode(e.IDs, false)
			tk.EncodePair(s, s, true)
		}
		tk.Decode([]int{0, 1, 2, math.MaxInt32}, false)
	})
}

var fuzzTokenizers = sync.OnceValue(func() map[string]*Tokenizer {
	m := map[string]*Tokenizer{}
	files, _ := filepath.Glob("testdata/*.tokenizer.json.gz")
	for _, f := range files {
		tk, err := Read(strings.NewReader(string(readGzNoT(f))))
		if err == nil {
			m[strings.TrimSuffix(filepath.Base(f), ".tokenizer.json.gz")] = tk
		}
	}
	return m
})

// FuzzEncode: every fixture tokenizer encodes any bytes without panic,
// with offsets inside the text; the byte-level ones decode back to the
// text exactly (byte-level BPE is lossless).
func FuzzEncode(f *testing.F) {
	var ref struct {
		Cases []refCase `json:"cases"`
	}
	if err := json.Unmarshal(readGz(f, filepath.Join("testdata", "gpt2_small.cases.json.gz")), &ref); err != nil {
		f.Fatal(err)
	}
	for i, c := range ref.Cases {
		if c.In != nil && i%3 == 0 {
			f.Add(*c.In)
		}
	}
	f.Add("\xff\xc3\x28 \xe2\x82 <|endoftext|>[MASK]<mask>")
	f.Fuzz(func(t *testing.T, s string) {
		for name, tk := range fuzzTokenizers() {
			e, err := tk.Encode(s, true)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			n := len(e.IDs)
			if len(e.TypeIDs) != n || len(e.Offsets) != n || len(e.Tokens) != n || len(e.AttentionMask) != n || len(e.SpecialTokensMask) != n {
				t.Fatalf("%s: inconsistent lengths", name)
			}
			for _, o := range e.Offsets {
				if o[0] < 0 || o[0] > o[1] || o[1] > len(s) {
					t.Fatalf("%s: offset %v outside [0, %d]", name, o, len(s))
				}
			}
			d, err := tk.Decode(e.IDs, false)
			if err != nil {
				t.Fatalf("%s: decode: %v", name, err)
			}
			if name == "gpt2_small" && utf8.ValidString(s) && d != s {
				t.Fatalf("%s: decode %q, want %q", name, d, s)
			}
		}
	})
}
