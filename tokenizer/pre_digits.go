package tokenizer

import (
	"encoding/json"
	"unicode"
)

type digitsPre struct{ individual bool }

func (d digitsPre) preTokenize(p *pretok) error {
	b := splitContiguous
	if d.individual {
		b = splitIsolated
	}
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, unicode.IsNumber), b), nil
	})
}

func init() {
	registerPreTokenizer("Digits", func(raw json.RawMessage) (preTokenizer, error) {
		var j struct {
			Individual bool `json:"individual_digits"`
		}
		err := json.Unmarshal(raw, &j)
		return digitsPre{j.Individual}, err
	})
}
