package tokenizer

import (
	"encoding/json"
)

type splitPre struct {
	pat      pattern
	behavior splitBehavior
	invert   bool
}

func (sp *splitPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		ms := sp.pat.find(n.s)
		if sp.invert {
			ms = invertMatches(ms)
		}
		return n.splitMatches(ms, sp.behavior), nil
	})
}

func init() {
	registerPreTokenizer("Split", func(raw json.RawMessage) (preTokenizer, error) {
		var j struct {
			Pattern json.RawMessage `json:"pattern"`
			Invert  bool            `json:"invert"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		pat, err := parsePattern(j.Pattern)
		if err != nil {
			return nil, err
		}
		b, err := behaviorField(raw, splitIsolated)
		if err != nil {
			return nil, err
		}
		return &splitPre{pat: pat, behavior: b, invert: j.Invert}, nil
	})
}
