package tokenizer

import (
	"reflect"
	"testing"
)

// TestFastPaths: the GPT-2 and BERT fast paths give exactly what the
// general pipeline gives, on the Go source and the fixture inputs.
func TestFastPaths(t *testing.T) {
	limit := 400 << 10
	if testing.Short() {
		limit = 60 << 10
	}
	texts := goSourceCorpus(t, limit)
	for _, name := range []string{"gpt2_small", "roberta_small", "bert_uncased", "bert_cased_trunc"} {
		tk := loadFixtureTokenizer(t, name+".tokenizer.json.gz")
		var ref refFile
		if err := jsonUnmarshalGz(t, "testdata/"+name+".cases.json.gz", &ref); err != nil {
			t.Fatal(err)
		}
		all := append([]string{}, texts...)
		for _, c := range ref.Cases {
			all = append(all, c.text(t))
		}
		for _, add := range []bool{true, false} {
			for _, s := range all {
				noFastPaths = false
				fast, err1 := tk.Encode(s, add)
				noFastPaths = true
				slow, err2 := tk.Encode(s, add)
				noFastPaths = false
				if (err1 == nil) != (err2 == nil) || (err1 == nil && !sameEncoding(fast, slow)) {
					t.Fatalf("%s: fast path differs on %.60q:\n fast %v %v\n slow %v %v", name, s, fast, err1, slow, err2)
				}
			}
		}
	}
}

// sameEncoding compares field by field, an empty slice equal to nil.
func sameEncoding(a, b *Encoding) bool {
	if a.Len() == 0 && b.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}
