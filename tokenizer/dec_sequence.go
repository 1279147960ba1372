package tokenizer

import (
	"encoding/json"
)

type sequenceDec struct{ list []decoder }

func (s *sequenceDec) decodeChain(toks []string) []string {
	for _, d := range s.list {
		if d != nil {
			toks = d.decodeChain(toks)
		}
	}
	return toks
}

func init() {
	registerDecoder("Sequence", func(raw json.RawMessage) (decoder, error) {
		var j struct {
			List json.RawMessage `json:"decoders"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		list, err := subComponents("decoder", j.List, decoders)
		if err != nil {
			return nil, err
		}
		return &sequenceDec{list}, nil
	})
}
