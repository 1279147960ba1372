package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

type charDelimPre struct{ delim rune }

func (c charDelimPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, func(r rune) bool { return r == c.delim }), splitRemoved), nil
	})
}

func init() {
	registerPreTokenizer("CharDelimiterSplit", func(raw json.RawMessage) (preTokenizer, error) {
		var j struct {
			Delimiter string `json:"delimiter"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(j.Delimiter) != 1 {
			return nil, fmt.Errorf("delimiter %q is not one character", j.Delimiter)
		}
		r, _ := utf8.DecodeRuneInString(j.Delimiter)
		return charDelimPre{r}, nil
	})
}
