package tokenizer

import (
	"encoding/json"
)

type stripNorm struct {
	Left  bool `json:"strip_left"`
	Right bool `json:"strip_right"`
}

func (s *stripNorm) normalize(n *normStr) { n.stripSpace(s.Left, s.Right) }

func init() {
	registerNormalizer("Strip", func(raw json.RawMessage) (normalizer, error) {
		s := &stripNorm{Left: true, Right: true}
		return s, json.Unmarshal(raw, s)
	})
}
