package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// normStr is a piece of text under normalisation: the current (normalised)
// string and, for every byte of it, the byte range of the original input it
// came from. Offsets are absolute positions in the input given to Encode, so
// slicing keeps them unchanged. This mirrors the Rust NormalizedString, whose
// alignment rules (which original range an inserted, replaced or removed
// character maps to) decide the offsets an Encoding reports.
//
// Most text passes through unchanged or changed character for character
// without changing lengths; for that, align stays nil ("identity"): byte i
// then maps to the range of the character around i, shifted by off. The
// per-byte table is built only when a change needs it.
type normStr struct {
	s     string
	align [][2]int // nil: identity (see above)
	off   int      // identity only: original offset of s[0]
	// orig is the original byte range this piece covers.
	orig [2]int
}

// charStart and charEnd find the character around byte i of s.
func charStart(s string, i int) int {
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return i
}

func charEnd(s string, i int) int {
	_, size := utf8.DecodeRuneInString(s[charStart(s, i):])
	return charStart(s, i) + size
}

// alignAt is the original range of normalised byte i.
func (n *normStr) alignAt(i int) [2]int {
	if n.align != nil {
		return n.align[i]
	}
	return [2]int{n.off + charStart(n.s, i), n.off + charEnd(n.s, i)}
}

// materialize builds the per-byte table of an identity piece.
func (n *normStr) materialize() {
	if n.align != nil || len(n.s) == 0 {
		if n.align == nil {
			n.align = [][2]int{}
		}
		return
	}
	n.align = make([][2]int, len(n.s))
	for i := 0; i < len(n.s); {
		_, size := utf8.DecodeRuneInString(n.s[i:])
		a := [2]int{n.off + i, n.off + i + size}
		for k := 0; k < size; k++ {
			n.align[i+k] = a
		}
		i += size
	}
}

// newNormStr builds a normStr for input[start:end]. Bytes that are not valid
// UTF-8 become U+FFFD, each aligned to its single input byte, so the rest of
// the pipeline only ever sees valid UTF-8.
func newNormStr(input string, start, end int) *normStr {
	sub := input[start:end]
	n := &normStr{orig: [2]int{start, end}}
	if utf8.ValidString(sub) {
		n.s, n.off = sub, start
		return n
	}
	var b strings.Builder
	b.Grow(len(sub) + 8)
	n.align = make([][2]int, 0, len(sub)+8)
	for i := 0; i < len(sub); {
		r, size := utf8.DecodeRuneInString(sub[i:])
		a := [2]int{start + i, start + i + size}
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
			n.align = append(n.align, a, a, a)
		} else {
			b.WriteString(sub[i : i+size])
			for k := 0; k < size; k++ {
				n.align = append(n.align, a)
			}
		}
		i += size
	}
	n.s = b.String()
	return n
}

// slice returns the piece covering normalised bytes [a, b).
func (n *normStr) slice(a, b int) *normStr {
	m := new(normStr)
	n.sliceInto(m, a, b)
	return m
}

// sliceInto is slice writing into m.
func (n *normStr) sliceInto(m *normStr, a, b int) {
	*m = normStr{s: n.s[a:b]}
	if n.align != nil {
		m.align = n.align[a:b:b]
	} else {
		m.off = n.off + a
	}
	if b > a {
		m.orig = [2]int{n.alignAt(a)[0], n.alignAt(b - 1)[1]}
	} else {
		// As the Rust library: an empty range converts to itself.
		m.orig = [2]int{n.orig[0] + a, n.orig[0] + a}
	}
}

// origRange converts a normalised byte range of this piece to original
// bytes, as Rust's convert_offsets followed by the shift into the input.
func (n *normStr) origRange(a, b int) [2]int {
	if a == b {
		return [2]int{n.orig[0] + a, n.orig[0] + b}
	}
	if a > b || b > len(n.s) {
		return [2]int{n.orig[0] + a, n.orig[0] + b}
	}
	return [2]int{n.alignAt(a)[0], n.alignAt(b - 1)[1]}
}

// rc is one output character of a transformation and how it relates to the
// input: 0 replaces the next input character, 1 is inserted, -k replaces
// the next input character and removes the k after it.
type rc struct {
	r      rune
	change int
}

// transform rebuilds the string from dest, as Rust's transform_range over
// the whole string. initialRemoved characters at the start are dropped.
func (n *normStr) transform(dest []rc, initialRemoved int) {
	n.materialize()
	var b strings.Builder
	b.Grow(len(n.s))
	align := make([][2]int, 0, len(n.s))
	off := 0
	skip := func(k int) {
		for ; k > 0 && off < len(n.s); k-- {
			_, size := utf8.DecodeRuneInString(n.s[off:])
			off += size
		}
	}
	skip(initialRemoved)
	for _, d := range dest {
		var a [2]int
		if d.change > 0 {
			if off < 1 {
				a = [2]int{n.orig[0], n.orig[0]}
			} else {
				a = n.align[off-1]
			}
		} else {
			if off < len(n.align) {
				a = n.align[off]
			} else if off > 0 {
				a = n.align[off-1]
			}
			skip(1)
			if d.change < 0 {
				skip(-d.change)
			}
		}
		size := utf8.RuneLen(d.r)
		if size < 0 {
			d.r, size = utf8.RuneError, 3
		}
		b.WriteRune(d.r)
		for k := 0; k < size; k++ {
			align = append(align, a)
		}
	}
	n.s = b.String()
	n.align = align
}

// mapRunes replaces every character by f(c), keeping its alignment.
func (n *normStr) mapRunes(f func(rune) rune) {
	same, changed := true, false
	for _, c := range n.s {
		d := f(c)
		if d != c {
			changed = true
			if utf8.RuneLen(d) != utf8.RuneLen(c) {
				same = false
			}
		}
	}
	if !changed {
		return
	}
	if same {
		// Byte lengths unchanged: every byte keeps its alignment.
		b := make([]byte, 0, len(n.s))
		for _, c := range n.s {
			b = utf8.AppendRune(b, f(c))
		}
		n.s = string(b)
		return
	}
	dest := make([]rc, 0, len(n.s))
	for _, c := range n.s {
		dest = append(dest, rc{f(c), 0})
	}
	n.transform(dest, 0)
}

// filter keeps the characters for which keep is true.
func (n *normStr) filter(keep func(rune) bool) {
	all := true
	for _, c := range n.s {
		if !keep(c) {
			all = false
			break
		}
	}
	if all {
		return
	}
	n.materialize()
	var b strings.Builder
	b.Grow(len(n.s))
	align := n.align[:0:0]
	for i, c := range n.s {
		size := utf8.RuneLen(c)
		if keep(c) {
			b.WriteString(n.s[i : i+size])
			align = append(align, n.align[i:i+size]...)
		}
	}
	n.s = b.String()
	n.align = align
}

// prepend inserts s before the first character; the new characters share
// that character's alignment (as Rust's prepend). No-op on an empty string.
func (n *normStr) prepend(s string) {
	if n.s == "" || s == "" {
		return
	}
	n.materialize()
	a := n.align[0]
	ext := make([][2]int, len(s), len(s)+len(n.align))
	for i := range ext {
		ext[i] = a
	}
	n.align = append(ext, n.align...)
	n.s = s + n.s
}

// appendStr adds s after the last character with its alignment.
func (n *normStr) appendStr(s string) {
	if n.s == "" || s == "" {
		return
	}
	n.materialize()
	a := n.align[len(n.align)-1]
	for range len(s) {
		n.align = append(n.align, a)
	}
	n.s += s
}

// replaceMatches replaces each [start, end) range (sorted, disjoint) with
// content; the new characters take the alignment of the last byte of the
// match, as Rust's replace does.
func (n *normStr) replaceMatches(matches [][2]int, content string) {
	if len(matches) == 0 {
		return
	}
	n.materialize()
	var b strings.Builder
	b.Grow(len(n.s))
	align := make([][2]int, 0, len(n.align))
	last := 0
	for _, m := range matches {
		b.WriteString(n.s[last:m[0]])
		align = append(align, n.align[last:m[0]]...)
		var a [2]int
		if m[1] < 1 {
			a = [2]int{n.orig[0], n.orig[0]}
		} else {
			a = n.align[m[1]-1]
		}
		b.WriteString(content)
		for range len(content) {
			align = append(align, a)
		}
		last = m[1]
	}
	b.WriteString(n.s[last:])
	align = append(align, n.align[last:]...)
	n.s = b.String()
	n.align = align
}

// stripSpace removes leading and/or trailing Unicode white space.
func (n *normStr) stripSpace(left, right bool) {
	a, b := 0, len(n.s)
	if left {
		for a < b {
			c, size := utf8.DecodeRuneInString(n.s[a:])
			if !isWhiteSpace(c) {
				break
			}
			a += size
		}
	}
	if right {
		for b > a {
			c, size := utf8.DecodeLastRuneInString(n.s[a:b])
			if !isWhiteSpace(c) {
				break
			}
			b -= size
		}
	}
	if a == 0 && b == len(n.s) {
		return
	}
	n.s = n.s[a:b]
	if n.align != nil {
		n.align = n.align[a:b]
	} else {
		n.off += a
	}
}
