package tokenizer

import (
	"encoding/json"
)

type prependNorm struct {
	Prepend string `json:"prepend"`
}

func (p *prependNorm) normalize(n *normStr) { n.prepend(p.Prepend) }

func init() {
	registerNormalizer("Prepend", func(raw json.RawMessage) (normalizer, error) {
		p := &prependNorm{}
		return p, json.Unmarshal(raw, p)
	})
}
