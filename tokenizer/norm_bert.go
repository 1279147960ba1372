package tokenizer

import (
	"encoding/json"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// bertNormalizer is BERT's cleaning: control characters removed, white
// space made ' ', spaces around CJK ideographs, accents stripped,
// lowercase.
type bertNormalizer struct {
	CleanText          bool  `json:"clean_text"`
	HandleChineseChars bool  `json:"handle_chinese_chars"`
	StripAccents       *bool `json:"strip_accents"`
	Lowercase          bool  `json:"lowercase"`
}

func init() {
	registerNormalizer("BertNormalizer", func(raw json.RawMessage) (normalizer, error) {
		b := &bertNormalizer{CleanText: true, HandleChineseChars: true, Lowercase: true}
		if err := json.Unmarshal(raw, b); err != nil {
			return nil, err
		}
		return b, nil
	})
}

// isOther is the C categories (Cc, Cf, Cs, Co) as the Rust
// unicode_categories crate's tables have them (unassigned code points are
// kept; see bert_tables.go).
func isOther(r rune) bool { return inRanges(bertRemoved, r) }

// inRanges reports whether r is in the sorted ranges.
func inRanges(rs [][2]rune, r rune) bool {
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case r < rs[m][0]:
			hi = m
		case r > rs[m][1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) || (r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) || (r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

func (b *bertNormalizer) normalize(n *normStr) {
	if b.CleanText {
		n.filter(func(r rune) bool {
			if r == '\t' || r == '\n' || r == '\r' {
				return true
			}
			return !(r == 0 || r == 0xFFFD || isOther(r))
		})
		n.mapRunes(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' || isWhiteSpace(r) {
				return ' '
			}
			return r
		})
	}
	if b.HandleChineseChars {
		need := false
		for _, r := range n.s {
			if isChineseChar(r) {
				need = true
				break
			}
		}
		if need {
			dest := make([]rc, 0, len(n.s))
			for _, r := range n.s {
				if isChineseChar(r) {
					dest = append(dest, rc{' ', 0}, rc{r, 1}, rc{' ', 1})
				} else {
					dest = append(dest, rc{r, 0})
				}
			}
			n.transform(dest, 0)
		}
	}
	strip := b.Lowercase
	if b.StripAccents != nil {
		strip = *b.StripAccents
	}
	if strip {
		stripAccents(n)
	}
	if b.Lowercase {
		lowercase(n)
	}
}

// stripAccents decomposes (NFD) and removes non-spacing marks.
func stripAccents(n *normStr) {
	applyForm(n, norm.NFD)
	n.filter(func(r rune) bool { return !unicode.Is(unicode.Mn, r) })
}

// lowercase applies Unicode's full lowercase mapping per character (as
// Rust's char::to_lowercase: İ becomes two characters).
func lowercase(n *normStr) {
	ascii := true
	for i := 0; i < len(n.s); i++ {
		if n.s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		b := []byte(n.s)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 32
			}
		}
		n.s = string(b)
		return
	}
	same := true
	for _, r := range n.s {
		if r == 0x130 || utf8.RuneLen(unicode.ToLower(r)) != utf8.RuneLen(r) {
			same = false
			break
		}
	}
	if same {
		n.mapRunes(unicode.ToLower)
		return
	}
	dest := make([]rc, 0, len(n.s))
	for _, r := range n.s {
		if r == 0x130 {
			dest = append(dest, rc{'i', 0}, rc{0x307, 1})
			continue
		}
		dest = append(dest, rc{unicode.ToLower(r), 0})
	}
	n.transform(dest, 0)
}
