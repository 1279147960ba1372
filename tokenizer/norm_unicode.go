package tokenizer

import (
	"encoding/json"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// unicodeNorm is one of the NFC, NFD, NFKC, NFKD normalizers.
type unicodeNorm struct{ form norm.Form }

func init() {
	for name, f := range map[string]norm.Form{"NFC": norm.NFC, "NFD": norm.NFD, "NFKC": norm.NFKC, "NFKD": norm.NFKD} {
		registerNormalizer(name, func(json.RawMessage) (normalizer, error) { return unicodeNorm{f}, nil })
	}
}

func (u unicodeNorm) normalize(n *normStr) { applyForm(n, u.form) }

// applyForm normalises segment by segment (a segment runs from one
// normalisation boundary to the next) so alignments stay local: within a
// segment, output characters replace input characters one for one, extra
// output characters are insertions aligned to the previous one, and a
// shorter output removes the surplus input characters after its last one.
func applyForm(n *normStr, f norm.Form) {
	if f.IsNormalString(n.s) {
		return
	}
	dest := make([]rc, 0, len(n.s))
	s := n.s
	for len(s) > 0 {
		k := f.NextBoundaryInString(s, true)
		if k <= 0 {
			k = len(s)
		}
		seg := s[:k]
		s = s[k:]
		out := f.String(seg)
		nIn := utf8.RuneCountInString(seg)
		i := 0
		nOut := utf8.RuneCountInString(out)
		for _, r := range out {
			switch {
			case i < nIn-1 && i < nOut-1:
				dest = append(dest, rc{r, 0})
			case i == nOut-1 && nOut <= nIn:
				dest = append(dest, rc{r, -(nIn - nOut)})
			case i < nIn:
				dest = append(dest, rc{r, 0})
			default:
				dest = append(dest, rc{r, 1})
			}
			i++
		}
		if nOut == 0 {
			// Everything removed: drop the segment.
			dest = append(dest, rc{-1, 0})
			dest = dest[:len(dest)-1]
		}
	}
	n.transform(dest, 0)
}
