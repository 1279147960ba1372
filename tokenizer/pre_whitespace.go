package tokenizer

import (
	"encoding/json"
	"unicode/utf8"
)

// whitespacePre keeps runs of \w and runs of [^\w\s], dropping white space
// (the pattern \w+|[^\w\s]+).
type whitespacePre struct{}

func (whitespacePre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		var rs [][2]int
		s := n.s
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if isWhiteSpace(r) && !isWordChar(r) {
				i += size
				continue
			}
			w := isWordChar(r)
			j := i + size
			for j < len(s) {
				r2, size2 := utf8.DecodeRuneInString(s[j:])
				if isWordChar(r2) != w || (!w && isWhiteSpace(r2)) {
					break
				}
				j += size2
			}
			rs = append(rs, [2]int{i, j})
			i = j
		}
		return n.splitMatches(invertMatches(matchesFromRanges(s, rs)), splitRemoved), nil
	})
}

func init() {
	registerPreTokenizer("Whitespace", func(json.RawMessage) (preTokenizer, error) { return whitespacePre{}, nil })
}
