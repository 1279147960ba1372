package tokenizer

import (
	"encoding/json"
	"unicode"
	"unicode/utf8"
)

// byteLevel is the ByteLevel pre-tokenizer: an optional prefix space, GPT-2's
// split rule, then every byte mapped to a printable character.
type byteLevel struct {
	AddPrefixSpace bool `json:"add_prefix_space"`
	TrimOffsets    bool `json:"trim_offsets"`
	UseRegex       bool `json:"use_regex"`
}

func newByteLevel(raw json.RawMessage) (*byteLevel, error) {
	b := &byteLevel{AddPrefixSpace: true, TrimOffsets: true, UseRegex: true}
	if err := json.Unmarshal(raw, b); err != nil {
		return nil, err
	}
	return b, nil
}

func init() {
	registerPreTokenizer("ByteLevel", func(raw json.RawMessage) (preTokenizer, error) { return newByteLevel(raw) })
}

// byteChar maps a byte to GPT-2's printable stand-in; charByte inverts it.
var (
	byteChar    [256]rune
	byteCharStr [256]string
	charByte    = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteChar[b] = rune(b)
		} else {
			byteChar[b] = rune(256 + n)
			n++
		}
		byteCharStr[b] = string(byteChar[b])
		charByte[byteChar[b]] = byte(b)
	}
}

func (b *byteLevel) preTokenize(p *pretok) error {
	if err := p.splitEach(func(n *normStr) ([]*normStr, error) {
		if b.AddPrefixSpace && (len(n.s) == 0 || n.s[0] != ' ') {
			n.prepend(" ")
		}
		if !b.UseRegex {
			return []*normStr{n}, nil
		}
		return n.splitMatches(matchesFromRanges(n.s, gpt2Split(n.s, nil)), splitIsolated), nil
	}); err != nil {
		return err
	}
	for i := range p.splits {
		if !p.splits[i].done {
			p.splits[i].n = toByteChars(p.splits[i].n)
		}
	}
	return nil
}

// toByteChars maps each byte to its stand-in character; all of a
// character's stand-ins keep that character's alignment.
func toByteChars(n *normStr) *normStr {
	size := 0
	for i := 0; i < len(n.s); i++ {
		size += len(byteCharStr[n.s[i]])
	}
	buf := make([]byte, 0, size)
	align := make([][2]int, 0, size)
	for i := 0; i < len(n.s); i++ {
		a := n.alignAt(i)
		c := byteCharStr[n.s[i]]
		buf = append(buf, c...)
		align = append(align, a)
		if len(c) == 2 {
			align = append(align, a)
		}
	}
	return &normStr{s: string(buf), align: align, orig: n.orig}
}

// gpt2Split appends to dst the pieces of GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// found by a hand-written scanner (Go's regexp has no look-ahead). The
// pieces cover s. Alternatives are tried in order, as the regex does.
func gpt2Split(s string, dst [][2]int) [][2]int {
	i := 0
	for i < len(s) {
		j := gpt2Next(s, i)
		dst = append(dst, [2]int{i, j})
		i = j
	}
	return dst
}

type charClass uint8

const (
	classOther charClass = iota
	classLetter
	classNumber
	classSpace
)

func classOf(r rune) charClass {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case isWhiteSpace(r):
		return classSpace
	}
	return classOther
}

var asciiClass [128]charClass

func init() {
	for c := 0; c < 128; c++ {
		r := rune(c)
		switch {
		case unicode.IsLetter(r):
			asciiClass[c] = classLetter
		case unicode.IsNumber(r):
			asciiClass[c] = classNumber
		case isWhiteSpace(r):
			asciiClass[c] = classSpace
		}
	}
}

// isWhiteSpace is Unicode's White_Space property (Rust's char::is_whitespace
// and regex \s).
func isWhiteSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

func decodeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// gpt2Next returns the end of the piece starting at i.
func gpt2Next(s string, i int) int {
	c := s[i]
	if c == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	j := i
	if c == ' ' {
		j++
	}
	if j < len(s) {
		r, size := decodeAt(s, j)
		cl := classOf(r)
		if cl != classSpace {
			k := j + size
			for k < len(s) {
				r2, size2 := decodeAt(s, k)
				if classOf(r2) != cl {
					break
				}
				k += size2
			}
			return k
		}
	}
	// White space at i: \s+(?!\S) then \s+.
	r, size := decodeAt(s, i)
	_ = r
	k := i + size
	last := size
	for k < len(s) {
		r2, size2 := decodeAt(s, k)
		if classOf(r2) != classSpace {
			break
		}
		k += size2
		last = size2
	}
	if k < len(s) && k-last > i {
		return k - last
	}
	return k
}
