package tokenizer

import (
	"encoding/json"
	"strings"
)

type replaceDec struct {
	pat     pattern
	content string
}

func (r *replaceDec) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		var b strings.Builder
		for _, m := range r.pat.find(t) {
			if m.isMatch {
				b.WriteString(r.content)
			} else {
				b.WriteString(t[m.a:m.b])
			}
		}
		out[i] = b.String()
	}
	return out
}

func init() {
	registerDecoder("Replace", func(raw json.RawMessage) (decoder, error) {
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
		return &replaceDec{pat: p, content: j.Content}, nil
	})
}
