package tokenizer

import (
	"encoding/json"
	"fmt"
)

// wordLevel maps each pre-tokenised word to its id, or to the unknown token.
type wordLevel struct {
	vocab  map[string]int
	vocabR []string
	hasID  []bool
	unk    string
}

func init() {
	registerModel("WordLevel", func(raw json.RawMessage) (model, error) {
		j := struct {
			Vocab map[string]int `json:"vocab"`
			Unk   string         `json:"unk_token"`
		}{Unk: "<unk>"}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		w := &wordLevel{vocab: j.Vocab, unk: j.Unk}
		var err error
		if w.vocabR, w.hasID, err = reverseVocab(j.Vocab); err != nil {
			return nil, err
		}
		return w, nil
	})
}

func (w *wordLevel) tokenToID(s string) (int, bool)  { id, ok := w.vocab[s]; return id, ok }
func (w *wordLevel) idToToken(id int) (string, bool) { return lookupID(w.vocabR, w.hasID, id) }
func (w *wordLevel) vocabSize() int                  { return len(w.vocab) }

func (w *wordLevel) tokenize(s string) ([]token, error) {
	if id, ok := w.vocab[s]; ok {
		return []token{{id: id, value: s, off: [2]int{0, len(s)}}}, nil
	}
	if id, ok := w.vocab[w.unk]; ok {
		return []token{{id: id, value: w.unk, off: [2]int{0, len(s)}}}, nil
	}
	return nil, fmt.Errorf("tokenizer: WordLevel: unk token %q not in the vocabulary", w.unk)
}
