package tokenizer

import (
	"encoding/json"
	"unicode"
)

// bertPre splits on white space (removed) and punctuation (kept alone).
type bertPre struct{}

func init() {
	registerPreTokenizer("BertPreTokenizer", func(json.RawMessage) (preTokenizer, error) { return bertPre{}, nil })
}

// isBertPunc is ASCII punctuation or Unicode P categories.
func isBertPunc(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}

func (bertPre) preTokenize(p *pretok) error {
	if err := p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, isWhiteSpace), splitRemoved), nil
	}); err != nil {
		return err
	}
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, isBertPunc), splitIsolated), nil
	})
}
