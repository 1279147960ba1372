package tokenizer

import "encoding/json"

// nmtNorm is the Nmt normalizer (SentencePiece's nmt_nfkc without the
// NFKC): ASCII control characters removed, a few white-space-like code
// points made ' '.
type nmtNorm struct{}

func (nmtNorm) normalize(n *normStr) {
	n.filter(func(r rune) bool {
		return !((r >= 1 && r <= 8) || r == 0x0B || (r >= 0x0E && r <= 0x1F) || r == 0x7F || r == 0x8F || r == 0x9F)
	})
	n.mapRunes(func(r rune) rune {
		switch {
		case r == 0x09, r == 0x0A, r == 0x0C, r == 0x0D, r == 0x1680, r >= 0x200B && r <= 0x200F,
			r == 0x2028, r == 0x2029, r == 0x2581, r == 0xFEFF, r == 0xFFFD:
			return ' '
		}
		return r
	})
}

func init() {
	registerNormalizer("Nmt", func(json.RawMessage) (normalizer, error) { return nmtNorm{}, nil })
}
