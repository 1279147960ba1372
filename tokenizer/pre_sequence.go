package tokenizer

import (
	"encoding/json"
)

type sequencePre struct{ list []preTokenizer }

func (s *sequencePre) preTokenize(p *pretok) error {
	for _, x := range s.list {
		if x == nil {
			continue
		}
		if err := x.preTokenize(p); err != nil {
			return err
		}
	}
	return nil
}

func init() {
	registerPreTokenizer("Sequence", func(raw json.RawMessage) (preTokenizer, error) {
		var j struct {
			List json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		list, err := subComponents("pre_tokenizer", j.List, preTokenizers)
		if err != nil {
			return nil, err
		}
		return &sequencePre{list}, nil
	})
}
