package tokenizer

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

const okModel = `{"type": "WordLevel", "vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]"}`

func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       error
		mention    string
	}{
		{"empty", ``, ErrFormat, ""},
		{"not json", `model: BPE`, ErrFormat, ""},
		{"truncated", `{"model": {"type": "BPE", "vocab": {"a": 0`, ErrFormat, ""},
		{"no model", `{"normalizer": null}`, ErrFormat, "no model"},
		{"version", `{"version": "2.0", "model": ` + okModel + `}`, ErrUnsupported, "2.0"},
		{"unknown model", `{"model": {"type": "Quantum"}}`, ErrUnsupported, `"Quantum"`},
		{"unknown normalizer", `{"normalizer": {"type": "Bogus"}, "model": ` + okModel + `}`, ErrUnsupported, `normalizer type "Bogus"`},
		{"unknown in sequence", `{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "Nope"}]}, "model": ` + okModel + `}`, ErrUnsupported, `"Nope"`},
		{"unknown decoder", `{"decoder": {"type": "Mystery"}, "model": ` + okModel + `}`, ErrUnsupported, `"Mystery"`},
		{"unknown processor", `{"post_processor": {"type": "Magic"}, "model": ` + okModel + `}`, ErrUnsupported, `"Magic"`},
		{"huge id", `{"model": {"type": "BPE", "vocab": {"a": 4000000000}, "merges": []}}`, ErrFormat, "4000000000"},
		{"negative id", `{"model": {"type": "WordPiece", "vocab": {"a": -1}}}`, ErrFormat, "negative"},
		{"merge not in vocab", `{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}`, ErrFormat, `"ab"`},
		{"merge shape", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}}`, ErrFormat, "merge 0"},
		{"dropout", `{"model": {"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}}`, ErrUnsupported, "dropout"},
		{"unigram unk", `{"model": {"type": "Unigram", "unk_id": 5, "vocab": [["a", -1.0]]}}`, ErrFormat, "unk_id 5"},
		{"unigram entry", `{"model": {"type": "Unigram", "vocab": [["a"]]}}`, ErrFormat, "entry 0"},
		{"look-behind", `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<=a)b"}, "behavior": "Isolated"}, "model": ` + okModel + `}`, ErrUnsupported, "look-around"},
		{"bad regex", `{"normalizer": {"type": "Replace", "pattern": {"Regex": "(("}, "content": ""}, "model": ` + okModel + `}`, ErrUnsupported, "(("},
		{"template", `{"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]", "type_id": 0}}], "special_tokens": {}}, "model": ` + okModel + `}`, ErrFormat, `"[X]"`},
		{"padding claim", `{"padding": {"strategy": {"Fixed": 1000000000000}}, "model": ` + okModel + `}`, ErrFormat, "padding"},
		{"truncation strategy", `{"truncation": {"max_length": 4, "strategy": "Sideways"}, "model": ` + okModel + `}`, ErrFormat, "truncation"},
		{"behavior", `{"pre_tokenizer": {"type": "Punctuation", "behavior": "Sometimes"}, "model": ` + okModel + `}`, ErrFormat, "Sometimes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.json))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

// TestBoundedAllocation: a small file claiming a huge vocabulary or
// padding costs memory in proportion to its size only.
func TestBoundedAllocation(t *testing.T) {
	for _, js := range []string{
		`{"model": {"type": "BPE", "vocab": {"a": 2000000000}, "merges": []}}`,
		`{"model": {"type": "WordLevel", "vocab": {"a": 900000000}, "unk_token": "a"}}`,
		`{"model": {"type": "WordPiece", "vocab": {"a": 1, "b": 123456789}}}`,
		`{"padding": {"strategy": {"Fixed": 500000000}}, "model": ` + okModel + `}`,
		`{"padding": {"strategy": "BatchLongest", "pad_to_multiple_of": 900000000}, "model": ` + okModel + `}`,
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Read(strings.NewReader(js))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: no error", js)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("%s: allocated %d bytes", js, d)
		}
	}
}

func TestSetters(t *testing.T) {
	tk, err := Read(strings.NewReader(`{"model": ` + okModel + `, "pre_tokenizer": {"type": "Whitespace"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"negative max length": func() { tk.SetTruncation(&Truncation{MaxLength: -1}) },
		"bad strategy":        func() { tk.SetTruncation(&Truncation{MaxLength: 3, Strategy: "Sideways"}) },
		"negative padding":    func() { tk.SetPadding(&Padding{Length: -2}) },
		"bad direction":       func() { tk.SetPadding(&Padding{Direction: "Up"}) },
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), "tokenizer: Set") {
					t.Errorf("%s: panic %v, want one naming the setter", name, r)
				}
			}()
			f()
		}()
	}
	tk.SetTruncation(&Truncation{MaxLength: 2})
	tk.SetPadding(&Padding{Length: 4, PadID: 0, PadToken: "[UNK]"})
	e, err := tk.Encode("a a a", false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 1, 0, 0}; !equalInts(e.IDs, want) || !equalInts(e.AttentionMask, []int{1, 1, 0, 0}) {
		t.Errorf("ids %v mask %v, want %v and [1 1 0 0]", e.IDs, e.AttentionMask, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
