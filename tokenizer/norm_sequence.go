package tokenizer

import (
	"encoding/json"
)

type sequenceNorm struct{ list []normalizer }

func (s *sequenceNorm) normalize(n *normStr) {
	for _, x := range s.list {
		if x != nil {
			x.normalize(n)
		}
	}
}

func init() {
	registerNormalizer("Sequence", func(raw json.RawMessage) (normalizer, error) {
		var j struct {
			Normalizers json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		list, err := subComponents("normalizer", j.Normalizers, normalizers)
		if err != nil {
			return nil, err
		}
		return &sequenceNorm{list}, nil
	})
}
