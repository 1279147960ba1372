package tokenizer

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// decodeChain maps the byte stand-ins back to bytes; a token with any
// other character contributes its own UTF-8 bytes. Invalid UTF-8 becomes
// U+FFFD per maximal invalid sequence, as Rust's from_utf8_lossy.
func (b *byteLevel) decodeChain(toks []string) []string {
	var buf []byte
	for _, t := range toks {
		start := len(buf)
		ok := true
		for _, c := range t {
			v, found := charByte[c]
			if !found {
				ok = false
				break
			}
			buf = append(buf, v)
		}
		if !ok {
			buf = append(buf[:start], t...)
		}
	}
	return []string{lossyUTF8(buf)}
}

// lossyUTF8 is Rust's String::from_utf8_lossy: each maximal prefix of a
// valid sequence that cannot be completed becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			sb.Write(b[i : i+size])
			i += size
			continue
		}
		// Length of the maximal valid prefix (per the Unicode standard's
		// "substitution of maximal subparts").
		n := 1
		var lo, hi byte = 0x80, 0xBF
		need := 0
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 2
		case c == 0xED:
			need, hi = 2, 0x9F
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		}
		for k := 0; k < need && i+n < len(b); k++ {
			x := b[i+n]
			if x < lo || x > hi {
				break
			}
			lo, hi = 0x80, 0xBF
			n++
		}
		sb.WriteRune(utf8.RuneError)
		i += n
	}
	return sb.String()
}

func init() {
	registerDecoder("ByteLevel", func(raw json.RawMessage) (decoder, error) { return newByteLevel(raw) })
}
