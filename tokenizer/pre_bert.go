package tokenizer

import (
	"encoding/json"
	"unicode/utf8"
)

// bertPre splits on white space (removed) and punctuation (kept alone).
type bertPre struct{}

func init() {
	registerPreTokenizer("BertPreTokenizer", func(json.RawMessage) (preTokenizer, error) { return bertPre{}, nil })
}

// isBertPunc is ASCII punctuation or the P categories of the Rust crate's
// tables (bert_tables.go).
func isBertPunc(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return inRanges(bertPunct, r)
}

// preTokenize does both splits in one pass: white space is dropped,
// each punctuation character is a piece, and the runs between are pieces.
func (bertPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		var rs [][2]int
		s := n.s
		start := -1
		for i := 0; i < len(s); {
			c := rune(s[i])
			size := 1
			if c >= utf8.RuneSelf {
				c, size = utf8.DecodeRuneInString(s[i:])
			}
			sp := isWhiteSpace(c)
			if sp || isBertPunc(c) {
				if start >= 0 {
					rs = append(rs, [2]int{start, i})
					start = -1
				}
				if !sp {
					rs = append(rs, [2]int{i, i + size})
				}
			} else if start < 0 {
				start = i
			}
			i += size
		}
		if start >= 0 {
			rs = append(rs, [2]int{start, len(s)})
		}
		slab := make([]normStr, len(rs))
		out := make([]*normStr, len(rs))
		for i, r := range rs {
			n.sliceInto(&slab[i], r[0], r[1])
			out[i] = &slab[i]
		}
		return out, nil
	})
}
