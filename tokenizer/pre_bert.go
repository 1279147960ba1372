package tokenizer

import (
	"encoding/json"
)

// bertPre splits on white space (removed) and punctuation (kept alone).
type bertPre struct{}

func init() {
	registerPreTokenizer("BertPreTokenizer", func(json.RawMessage) (preTokenizer, error) { return bertPre{}, nil })
}

// isBertPunc is ASCII punctuation or the P categories of the Rust crate's
// tables (bert_tables.go).
func isBertPunc(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return inRanges(bertPunct, r)
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
