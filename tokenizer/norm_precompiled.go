package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// precompiledNorm is SentencePiece's normalizer as a tokenizer.json
// "Precompiled" normalizer carries it (T5, ALBERT, XLM-RoBERTa, mBART and
// most Unigram models converted from SentencePiece). Its
// precompiled_charsmap, base64 in the file, is
//
//	uint32 little-endian   size in bytes of the trie
//	size/4 uint32 LE units a Darts-clone double-array trie over UTF-8 bytes
//	the rest               NUL-terminated replacement strings
//
// A trie value is the byte offset of a replacement string in the rest.
//
// Behaviour follows the Rust library (spm_precompiled 0.1.4), which differs
// from SentencePiece's own normalizer: text is looked up one extended
// grapheme cluster at a time; a cluster shorter than 6 bytes whose start
// matches is replaced whole by the replacement of the shortest matching
// prefix, otherwise each character is looked up and replaced alone.
//
// The charsmap is untrusted: a short or inconsistent header and a string
// table that is not UTF-8 are load errors (as in Rust); a trie unit or
// value pointing outside the arrays, or at the middle of a character, is a
// lookup that does not match (Rust would panic). Every lookup reads at most
// one unit per key byte, so no trie can make it loop.
type precompiledNorm struct {
	units []uint32
	// strs is the replacement strings, valid UTF-8.
	strs string
	// ascii caches the lookups of the one-byte keys.
	ascii [128]struct {
		rep string
		ok  bool
	}
}

var errPrecompiled = errors.New("cannot parse precompiled_charsmap")

// parsePrecompiled reads a decoded precompiled_charsmap.
func parsePrecompiled(b []byte) (*precompiledNorm, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: %d bytes", errPrecompiled, len(b))
	}
	size := binary.LittleEndian.Uint32(b)
	n := uint64(size / 4) // a size that is not a multiple of 4 leaves its remainder to the strings, as in Rust
	if n > uint64(len(b)-4)/4 {
		return nil, fmt.Errorf("%w: trie of %d bytes in %d", errPrecompiled, size, len(b)-4)
	}
	p := &precompiledNorm{units: make([]uint32, n)}
	for i := range p.units {
		p.units[i] = binary.LittleEndian.Uint32(b[4+4*i:])
	}
	rest := b[4+4*n:]
	if !utf8.Valid(rest) {
		return nil, fmt.Errorf("%w: replacement strings are not UTF-8", errPrecompiled)
	}
	p.strs = string(rest)
	for c := 1; c < 128; c++ {
		p.ascii[c].rep, p.ascii[c].ok = p.lookup(string(rune(c)))
	}
	return p, nil
}

// Darts-clone unit fields.
func unitHasLeaf(u uint32) bool  { return u>>8&1 == 1 }
func unitValue(u uint32) uint32  { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return u >> 10 << ((u & (1 << 9)) >> 6) }

// lookup returns the replacement for the shortest prefix of key in the
// trie (the first result of Rust's common_prefix_search).
func (p *precompiledNorm) lookup(key string) (string, bool) {
	if len(p.units) == 0 {
		return "", false
	}
	pos := unitOffset(p.units[0])
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == 0 {
			break
		}
		pos ^= uint32(c)
		if uint64(pos) >= uint64(len(p.units)) {
			return "", false
		}
		u := p.units[pos]
		if unitLabel(u) != uint32(c) {
			return "", false
		}
		pos ^= unitOffset(u)
		if unitHasLeaf(u) {
			if uint64(pos) >= uint64(len(p.units)) {
				return "", false
			}
			return p.replacement(unitValue(p.units[pos]))
		}
	}
	return "", false
}

// replacement is the string at byte offset v of the string table, up to
// its NUL or the end.
func (p *precompiledNorm) replacement(v uint32) (string, bool) {
	if uint64(v) > uint64(len(p.strs)) {
		return "", false
	}
	s := p.strs[v:]
	if s != "" && !utf8.RuneStart(s[0]) {
		return "", false
	}
	if k := strings.IndexByte(s, 0); k >= 0 {
		s = s[:k]
	}
	return s, true
}

func (p *precompiledNorm) normalize(n *normStr) {
	s := n.s
	var dest []rc
	modified := false
	// replace records that old became new, with the Rust library's
	// alignment rule: new characters replace old ones in order; extra new
	// ones are insertions, and missing ones are removed by the last
	// character recorded so far (even one of an earlier cluster).
	replace := func(at int, old, new string) {
		if !modified {
			modified = true
			dest = make([]rc, 0, len(s)+8)
			for _, c := range s[:at] {
				dest = append(dest, rc{c, 0})
			}
		}
		for _, c := range new {
			dest = append(dest, rc{c, 0})
		}
		diff := utf8.RuneCountInString(new) - utf8.RuneCountInString(old)
		switch {
		case diff > 0:
			for k := len(dest) - diff; k < len(dest); k++ {
				dest[k].change = 1
			}
		case diff < 0 && len(dest) > 0:
			dest[len(dest)-1].change += diff
		}
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf && !(c == '\r' && s[i+1] == '\n')) {
			// An ASCII character before another ASCII character is a
			// cluster of its own (the only ASCII pair that joins is CR LF).
			if a := &p.ascii[c]; a.ok {
				replace(i, s[i:i+1], a.rep)
			} else if modified {
				dest = append(dest, rc{rune(c), 0})
			}
			i++
			continue
		}
		g := graphemeLen(s[i:])
		cluster := s[i : i+g]
		if g < 6 {
			if rep, ok := p.lookup(cluster); ok {
				replace(i, cluster, rep)
				i += g
				continue
			}
		}
		for j := 0; j < g; {
			c, size := utf8.DecodeRuneInString(cluster[j:])
			ch := cluster[j : j+size]
			if rep, ok := p.lookup(ch); ok {
				replace(i+j, ch, rep)
			} else if modified {
				dest = append(dest, rc{c, 0})
			}
			j += size
		}
		i += g
	}
	if !modified {
		return
	}
	if n.align == nil {
		if b, ok := sameShape(s, dest); ok {
			// Every character became one of the same length: the
			// identity alignment still holds (transform would build it).
			n.s = string(b)
			return
		}
	}
	n.transform(dest, 0)
}

// sameShape returns the text of dest if dest replaces each character of s
// by one character of the same UTF-8 length, one for one.
func sameShape(s string, dest []rc) ([]byte, bool) {
	k := 0
	for _, c := range s {
		if k >= len(dest) || dest[k].change != 0 || utf8.RuneLen(dest[k].r) != utf8.RuneLen(c) {
			return nil, false
		}
		k++
	}
	if k != len(dest) {
		return nil, false
	}
	b := make([]byte, 0, len(s))
	for _, d := range dest {
		b = utf8.AppendRune(b, d.r)
	}
	return b, true
}

func init() {
	registerNormalizer("Precompiled", func(raw json.RawMessage) (normalizer, error) {
		var j struct {
			Charsmap *string `json:"precompiled_charsmap"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		if j.Charsmap == nil {
			return nil, errors.New("Precompiled without a precompiled_charsmap string")
		}
		if strings.ContainsAny(*j.Charsmap, "\r\n") {
			return nil, errors.New("precompiled_charsmap: line breaks in base64")
		}
		b, err := base64.StdEncoding.Strict().DecodeString(*j.Charsmap)
		if err != nil {
			return nil, fmt.Errorf("precompiled_charsmap: %v", err)
		}
		return parsePrecompiled(b)
	})
}
