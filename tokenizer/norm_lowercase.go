package tokenizer

import (
	"encoding/json"
)

type lowercaseNorm struct{}

func (lowercaseNorm) normalize(n *normStr) { lowercase(n) }

func init() {
	registerNormalizer("Lowercase", func(json.RawMessage) (normalizer, error) { return lowercaseNorm{}, nil })
}
