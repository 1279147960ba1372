package tokenizer

import (
	"encoding/json"
	"unicode"
)

type stripAccentsNorm struct{}

// StripAccents alone removes combining marks (Mn, Mc, Me) without
// decomposing first (files put an NFD normalizer before it).
func (stripAccentsNorm) normalize(n *normStr) {
	n.filter(func(r rune) bool { return !unicode.IsMark(r) })
}

func init() {
	registerNormalizer("StripAccents", func(json.RawMessage) (normalizer, error) { return stripAccentsNorm{}, nil })
}
