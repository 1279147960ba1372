package tokenizer

import (
	"encoding/json"
	"sort"
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

// applyForm normalises n, tracking alignments as the Rust library's
// unicode-normalization-alignments crate does: each character decomposes
// into its first character (replacing it) and insertions; marks are put in
// canonical order carrying their changes; composition (NFC, NFKC) folds a
// character into its starter, which then also removes it.
func applyForm(n *normStr, f norm.Form) {
	if f.IsNormalString(n.s) {
		return
	}
	decomp := norm.NFD
	if f == norm.NFKC || f == norm.NFKD {
		decomp = norm.NFKD
	}
	dest := make([]rc, 0, len(n.s)+8)
	var buf [utf8.UTFMax]byte
	for _, c := range n.s {
		k := utf8.EncodeRune(buf[:], c)
		d := decomp.String(string(buf[:k]))
		first := true
		for _, r := range d {
			ch := 1
			if first {
				ch = 0
				first = false
			}
			dest = append(dest, rc{r, ch})
		}
	}
	// Canonical ordering: stable sort runs of non-starters by class.
	for i := 0; i < len(dest); {
		if ccc(dest[i].r) == 0 {
			i++
			continue
		}
		j := i
		for j < len(dest) && ccc(dest[j].r) != 0 {
			j++
		}
		run := dest[i:j]
		sort.SliceStable(run, func(a, b int) bool { return ccc(run[a].r) < ccc(run[b].r) })
		i = j
	}
	if f == norm.NFC || f == norm.NFKC {
		dest = compose(dest)
	}
	n.transform(dest, 0)
}

func ccc(r rune) uint8 {
	var buf [utf8.UTFMax]byte
	k := utf8.EncodeRune(buf[:], r)
	return norm.NFD.PropertiesString(string(buf[:k])).CCC()
}

// compose is canonical composition over decomposed characters; a
// character absorbed into its starter becomes a removal on the starter.
func compose(d []rc) []rc {
	out := d[:0:0]
	starter := -1
	lastClass := -1
	for _, x := range d {
		cl := int(ccc(x.r))
		if starter >= 0 && (lastClass < cl || (lastClass == -1 && cl >= 0)) {
			if c, ok := composePair(out[starter].r, x.r); ok && !(lastClass != -1 && lastClass >= cl) {
				out[starter].r = c
				out[starter].change += x.change - 1
				continue
			}
		}
		if cl == 0 {
			starter = len(out)
			lastClass = -1
		} else {
			lastClass = cl
		}
		out = append(out, x)
	}
	return out
}

// composePair returns the primary composite of a and b, if any.
func composePair(a, b rune) (rune, bool) {
	s := string([]rune{a, b})
	c := norm.NFC.String(s)
	r, size := utf8.DecodeRuneInString(c)
	if size != len(c) || r == a {
		return 0, false
	}
	return r, true
}
