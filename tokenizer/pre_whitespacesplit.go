package tokenizer

import (
	"encoding/json"
)

type whitespaceSplitPre struct{}

func (whitespaceSplitPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, isWhiteSpace), splitRemoved), nil
	})
}

func init() {
	registerPreTokenizer("WhitespaceSplit", func(json.RawMessage) (preTokenizer, error) { return whitespaceSplitPre{}, nil })
}
