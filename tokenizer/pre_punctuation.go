package tokenizer

import (
	"encoding/json"
)

type punctuationPre struct{ behavior splitBehavior }

func (q punctuationPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, isBertPunc), q.behavior), nil
	})
}

func init() {
	registerPreTokenizer("Punctuation", func(raw json.RawMessage) (preTokenizer, error) {
		b, err := behaviorField(raw, splitIsolated)
		return punctuationPre{b}, err
	})
}
