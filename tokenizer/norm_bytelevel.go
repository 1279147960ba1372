package tokenizer

import "encoding/json"

// byteLevelNorm is the ByteLevel normalizer: every byte becomes its GPT-2
// stand-in character (as the ByteLevel pre-tokenizer does after its
// split), each aligned to the whole original character.
type byteLevelNorm struct{}

func (byteLevelNorm) normalize(n *normStr) {
	if n.s == "" {
		return
	}
	*n = *toByteChars(n)
}

func init() {
	registerNormalizer("ByteLevel", func(json.RawMessage) (normalizer, error) { return byteLevelNorm{}, nil })
}
