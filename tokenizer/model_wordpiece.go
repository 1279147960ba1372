package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// wordPiece is BERT's model: greedy longest match from the left, pieces
// after the first carrying the continuing-subword prefix ("##"); a word
// with any unmatched rest becomes the unknown token whole.
type wordPiece struct {
	vocab    map[string]int
	vocabR   []string
	hasID    []bool
	unk      string
	prefix   string
	maxChars int
}

func init() {
	registerModel("WordPiece", func(raw json.RawMessage) (model, error) { return newWordPiece(raw) })
}

func newWordPiece(raw json.RawMessage) (*wordPiece, error) {
	j := struct {
		Unk      string         `json:"unk_token"`
		Prefix   string         `json:"continuing_subword_prefix"`
		MaxChars int            `json:"max_input_chars_per_word"`
		Vocab    map[string]int `json:"vocab"`
	}{Unk: "[UNK]", Prefix: "##", MaxChars: 100}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	w := &wordPiece{vocab: j.Vocab, unk: j.Unk, prefix: j.Prefix, maxChars: j.MaxChars}
	var err error
	if w.vocabR, w.hasID, err = reverseVocab(j.Vocab); err != nil {
		return nil, err
	}
	return w, nil
}

func reverseVocab(vocab map[string]int) ([]string, []bool, error) {
	mx, err := checkIDs(vocab)
	if err != nil {
		return nil, nil, err
	}
	r := make([]string, mx+1)
	has := make([]bool, mx+1)
	for s, id := range vocab {
		r[id] = s
		has[id] = true
	}
	return r, has, nil
}

func lookupID(r []string, has []bool, id int) (string, bool) {
	if id < 0 || id >= len(r) || !has[id] {
		return "", false
	}
	return r[id], true
}

func (w *wordPiece) tokenToID(s string) (int, bool)  { id, ok := w.vocab[s]; return id, ok }
func (w *wordPiece) idToToken(id int) (string, bool) { return lookupID(w.vocabR, w.hasID, id) }
func (w *wordPiece) vocabSize() int                  { return len(w.vocab) }

func (w *wordPiece) unkToken(n int) ([]token, error) {
	id, ok := w.vocab[w.unk]
	if !ok {
		return nil, errMissingUnk(w.unk)
	}
	return []token{{id: id, value: w.unk, off: [2]int{0, n}}}, nil
}

func (w *wordPiece) tokenize(s string) ([]token, error) {
	if utf8.RuneCountInString(s) > w.maxChars {
		return w.unkToken(len(s))
	}
	var out []token
	buf := make([]byte, 0, len(w.prefix)+len(s))
	for start := 0; start < len(s); {
		end := len(s)
		found := false
		for start < end {
			var id int
			var ok bool
			var sub string
			if start > 0 {
				buf = append(append(buf[:0], w.prefix...), s[start:end]...)
				id, ok = w.vocab[string(buf)]
				if ok {
					sub = w.vocabR[id]
				}
			} else {
				id, ok = w.vocab[s[start:end]]
				if ok {
					sub = w.vocabR[id]
				}
			}
			if ok {
				out = append(out, token{id: id, value: sub, off: [2]int{start, end}})
				found = true
				break
			}
			_, size := utf8.DecodeLastRuneInString(s[start:end])
			end -= size
		}
		if !found {
			return w.unkToken(len(s))
		}
		start = end
	}
	return out, nil
}

func errMissingUnk(unk string) error {
	return fmt.Errorf("tokenizer: WordPiece: unk token %q not in the vocabulary", unk)
}
