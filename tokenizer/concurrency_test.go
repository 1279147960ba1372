package tokenizer

import (
	"reflect"
	"sync"
	"testing"
)

// TestConcurrentEncode: one Tokenizer used from several goroutines (the
// BPE word cache is shared) gives what serial use gives, and EncodeBatch
// (parallel) equals Encode text by text.
func TestConcurrentEncode(t *testing.T) {
	limit := 200 << 10
	if testing.Short() {
		limit = 30 << 10
	}
	texts := goSourceCorpus(t, limit)
	for _, name := range []string{"gpt2_small", "bert_uncased", "unigram_metaspace", "llama2_bytefallback"} {
		t.Run(name, func(t *testing.T) {
			tk := loadFixtureTokenizer(t, name+".tokenizer.json.gz")
			want := make([]*Encoding, len(texts))
			for i, s := range texts {
				e, err := tk.Encode(s, true)
				if err != nil {
					t.Fatal(err)
				}
				want[i] = e
			}
			tk2 := loadFixtureTokenizer(t, name+".tokenizer.json.gz")
			var wg sync.WaitGroup
			errs := make(chan string, 4)
			for g := 0; g < 4; g++ {
				wg.Go(func() {
					for k := range texts {
						i := (k + g*len(texts)/4) % len(texts)
						e, err := tk2.Encode(texts[i], true)
						if err != nil || !reflect.DeepEqual(e, want[i]) {
							errs <- "concurrent Encode differs from serial"
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Fatal(e)
			}
			got, err := loadFixtureTokenizer(t, name+".tokenizer.json.gz").EncodeBatch(texts, true)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Error("EncodeBatch differs from Encode")
			}
		})
	}
}
