package tokenizer

import (
	"sort"
	"unicode/utf8"
)

// Extended grapheme clusters (Unicode Standard Annex #29, Unicode 16.0, the
// version of the Rust unicode-segmentation crate the tokenizers library
// uses). The Precompiled normalizer looks characters up a cluster at a
// time, so where a cluster ends changes its output.

type graphemeRange struct {
	lo, hi rune
	p      uint8
}

// Grapheme_Cluster_Break values (low 4 bits of a property byte).
const (
	gcbOther uint8 = iota
	gcbCR
	gcbLF
	gcbControl
	gcbExtend
	gcbZWJ
	gcbRI
	gcbPrepend
	gcbSpacingMark
	gcbL
	gcbV
	gcbT
	gcbLV
	gcbLVT
)

// Extended_Pictographic and Indic_Conjunct_Break bits of a property byte.
const (
	gpPict       uint8 = 1 << 4
	gpLinker     uint8 = 1 << 5
	gpConsonant  uint8 = 2 << 5
	gpInCBExtend uint8 = 3 << 5
	gpInCBMask   uint8 = 3 << 5
)

// graphemeProp returns the property byte of r.
func graphemeProp(r rune) uint8 {
	switch {
	case r >= 0x20 && r < 0x7F:
		return gcbOther
	case r == '\r':
		return gcbCR
	case r == '\n':
		return gcbLF
	case r >= 0xAC00 && r <= 0xD7A3:
		if (r-0xAC00)%28 == 0 {
			return gcbLV
		}
		return gcbLVT
	}
	t := graphemeProps[:]
	i := sort.Search(len(t), func(i int) bool { return t[i].hi >= r })
	if i < len(t) && t[i].lo <= r {
		return t[i].p
	}
	return gcbOther
}

// graphemeLen returns the length in bytes of the extended grapheme cluster
// that starts s (0 for an empty s). s is valid UTF-8.
func graphemeLen(s string) int {
	if len(s) == 0 {
		return 0
	}
	r, i := utf8.DecodeRuneInString(s)
	p := graphemeProp(r)
	prev := p & 15
	// GB11: pict is true after Extended_Pictographic Extend*, zwj after
	// that followed by ZWJ. GB12/13: ri counts the regional indicators
	// before the current position. GB9c: conj is 1 after an InCB
	// consonant followed by InCB Extend characters, 2 once a linker
	// came too.
	pict := p&gpPict != 0
	zwj := false
	ri := 0
	if prev == gcbRI {
		ri = 1
	}
	conj := 0
	if p&gpInCBMask == gpConsonant {
		conj = 1
	}
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		q := graphemeProp(r)
		cur := q & 15
		if !graphemeJoins(prev, cur, q, zwj, ri, conj) {
			break
		}
		// Update the states for the next position.
		switch {
		case q&gpPict != 0:
			pict, zwj = true, false
		case cur == gcbZWJ:
			zwj, pict = pict, false
		case cur == gcbExtend:
			zwj = false
		default:
			pict, zwj = false, false
		}
		if cur == gcbRI {
			ri++
		} else {
			ri = 0
		}
		switch q & gpInCBMask {
		case gpConsonant:
			conj = 1
		case gpLinker:
			if conj > 0 {
				conj = 2
			}
		case gpInCBExtend:
		default:
			conj = 0
		}
		prev = cur
		i += size
	}
	return i
}

// graphemeJoins reports whether there is no cluster boundary between a
// character of break class prev and one of class cur (property byte q).
func graphemeJoins(prev, cur, q uint8, zwj bool, ri, conj int) bool {
	switch {
	case prev == gcbCR && cur == gcbLF: // GB3
		return true
	case prev == gcbCR || prev == gcbLF || prev == gcbControl: // GB4
		return false
	case cur == gcbCR || cur == gcbLF || cur == gcbControl: // GB5
		return false
	case prev == gcbL && (cur == gcbL || cur == gcbV || cur == gcbLV || cur == gcbLVT): // GB6
		return true
	case (prev == gcbLV || prev == gcbV) && (cur == gcbV || cur == gcbT): // GB7
		return true
	case (prev == gcbLVT || prev == gcbT) && cur == gcbT: // GB8
		return true
	case cur == gcbExtend || cur == gcbZWJ || cur == gcbSpacingMark: // GB9, GB9a
		return true
	case prev == gcbPrepend: // GB9b
		return true
	case conj == 2 && q&gpInCBMask == gpConsonant: // GB9c
		return true
	case prev == gcbZWJ && zwj && q&gpPict != 0: // GB11
		return true
	case prev == gcbRI && cur == gcbRI: // GB12, GB13
		return ri%2 == 1
	}
	return false
}
