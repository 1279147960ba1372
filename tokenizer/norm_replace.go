package tokenizer

import (
	"encoding/json"
)

type replaceNorm struct {
	pat     pattern
	content string
}

func (r *replaceNorm) normalize(n *normStr) {
	var rs [][2]int
	for _, m := range r.pat.find(n.s) {
		if m.isMatch {
			rs = append(rs, [2]int{m.a, m.b})
		}
	}
	n.replaceMatches(rs, r.content)
}

func init() {
	registerNormalizer("Replace", func(raw json.RawMessage) (normalizer, error) {
		var j struct {
			Pattern json.RawMessage `json:"pattern"`
			Content string          `json:"content"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		p, err := parsePattern(j.Pattern)
		if err != nil {
			return nil, err
		}
		return &replaceNorm{pat: p, content: j.Content}, nil
	})
}
