package tokenizer

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestBertUnicodeTables checks, for every code point, the two character
// classes the BERT components depend on against the Rust library's
// behaviour recorded by testdata/gen.js: which characters BertNormalizer's
// cleaning removes and which BertPreTokenizer isolates as punctuation.
// -short checks all code points below U+3000 and every 17th above.
func TestBertUnicodeTables(t *testing.T) {
	var ref struct {
		Removed [][2]rune `json:"clean_removed"`
		Punct   [][2]rune `json:"punctuation"`
	}
	if err := json.Unmarshal(readGz(t, filepath.Join("testdata", "bert_unicode.json.gz")), &ref); err != nil {
		t.Fatal(err)
	}
	in := func(rs [][2]rune, r rune) bool {
		for _, x := range rs {
			if r >= x[0] && r <= x[1] {
				return true
			}
		}
		return false
	}
	removed := func(r rune) bool {
		if r == '\t' || r == '\n' || r == '\r' {
			return false
		}
		return r == 0 || r == 0xFFFD || isOther(r)
	}
	var badClean, badPunct []rune
	for r := rune(0); r < 0x110000; r++ {
		if (r >= 0xD800 && r <= 0xDFFF) || r == 'a' || (testing.Short() && r >= 0x3000 && r%17 != 0) {
			continue
		}
		if removed(r) != in(ref.Removed, r) {
			badClean = append(badClean, r)
		}
		if !isWhiteSpace(r) && !removed(r) && isBertPunc(r) != in(ref.Punct, r) {
			badPunct = append(badPunct, r)
		}
	}
	show := func(rs []rune) string {
		var b strings.Builder
		for i, r := range rs {
			if i == 20 {
				b.WriteString(" ...")
				break
			}
			b.WriteString(" U+" + strings.ToUpper(strconvHex(r)))
		}
		return b.String()
	}
	if len(badClean) > 0 {
		t.Errorf("%d code points differ in BertNormalizer cleaning:%s", len(badClean), show(badClean))
	}
	if len(badPunct) > 0 {
		t.Errorf("%d code points differ in BERT punctuation:%s", len(badPunct), show(badPunct))
	}
}

func strconvHex(r rune) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	i := len(b)
	for r > 0 || i == len(b) {
		i--
		b[i] = digits[r&15]
		r >>= 4
	}
	for len(b)-i < 4 {
		i--
		b[i] = '0'
	}
	return string(b[i:])
}
