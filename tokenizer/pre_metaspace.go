package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// metaspace replaces spaces by ▁ (or the configured character), may
// prepend one, and splits before each.
type metaspace struct {
	repl    rune
	replStr string
	prepend string // "always", "first", "never"
	split   bool
}

func parseMetaspace(raw json.RawMessage) (*metaspace, error) {
	var j struct {
		Replacement    *string `json:"replacement"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
		PrependScheme  *string `json:"prepend_scheme"`
		Split          *bool   `json:"split"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	m := &metaspace{repl: '▁', prepend: "always", split: true}
	if j.Replacement != nil {
		if utf8.RuneCountInString(*j.Replacement) != 1 {
			return nil, fmt.Errorf("replacement %q is not one character", *j.Replacement)
		}
		m.repl, _ = utf8.DecodeRuneInString(*j.Replacement)
	}
	m.replStr = string(m.repl)
	if j.PrependScheme != nil {
		switch *j.PrependScheme {
		case "always", "first", "never":
			m.prepend = *j.PrependScheme
		default:
			return nil, fmt.Errorf("prepend_scheme %q", *j.PrependScheme)
		}
	}
	if j.AddPrefixSpace != nil && !*j.AddPrefixSpace {
		m.prepend = "never"
	}
	if j.Split != nil {
		m.split = *j.Split
	}
	return m, nil
}

func init() {
	registerPreTokenizer("Metaspace", func(raw json.RawMessage) (preTokenizer, error) { return parseMetaspace(raw) })
	registerDecoder("Metaspace", func(raw json.RawMessage) (decoder, error) { return parseMetaspace(raw) })
}

func (m *metaspace) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		var rs [][2]int
		for i := 0; i < len(n.s); i++ {
			if n.s[i] == ' ' {
				rs = append(rs, [2]int{i, i + 1})
			}
		}
		n.replaceMatches(rs, m.replStr)
		switch m.prepend {
		case "always":
			if !hasPrefixRune(n.s, m.repl) {
				n.prepend(m.replStr)
			}
		case "first":
			if !hasPrefixRune(n.s, m.repl) && n.orig[0] == 0 {
				n.prepend(m.replStr)
			}
		}
		if !m.split {
			return []*normStr{n}, nil
		}
		return n.splitMatches(matchRunes(n.s, func(r rune) bool { return r == m.repl }), splitMergedWithNext), nil
	})
}

func hasPrefixRune(s string, r rune) bool {
	c, _ := utf8.DecodeRuneInString(s)
	return s != "" && c == r
}

// decodeChain turns ▁ back into spaces, dropping them from the first token
// when a prefix was added.
func (m *metaspace) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		b := make([]rune, 0, len(t))
		for _, c := range t {
			if c == m.repl {
				if i == 0 && m.prepend != "never" {
					continue
				}
				c = ' '
			}
			b = append(b, c)
		}
		out[i] = string(b)
	}
	return out
}
