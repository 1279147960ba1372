package tokenizer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// token is a model output: its offsets are bytes of the split's normalised
// string.
type token struct {
	id    int
	value string
	off   [2]int
}

// split is one piece of the input after added-token extraction and
// pre-tokenisation. toks is set once the piece is tokenised (added tokens
// are tokenised at extraction).
type split struct {
	n    *normStr
	toks []token
	done bool
}

// pretok is the Rust PreTokenizedString: the input as a list of splits.
type pretok struct {
	splits []split
}

// splitEach replaces every split not yet tokenised by the pieces f returns,
// dropping empty ones.
func (p *pretok) splitEach(f func(n *normStr) ([]*normStr, error)) error {
	out := make([]split, 0, len(p.splits))
	for _, s := range p.splits {
		if s.done {
			out = append(out, s)
			continue
		}
		pieces, err := f(s.n)
		if err != nil {
			return err
		}
		for _, q := range pieces {
			if len(q.s) > 0 {
				out = append(out, split{n: q})
			}
		}
	}
	p.splits = out
	return nil
}

// match is one part of a pattern search: a range of the string and whether
// the pattern matched it. A search's matches cover the whole string.
type match struct {
	a, b    int
	isMatch bool
}

// splitBehavior is the Rust SplitDelimiterBehavior.
type splitBehavior int

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch s {
	case "Removed", "removed":
		return splitRemoved, nil
	case "Isolated", "isolated":
		return splitIsolated, nil
	case "MergedWithPrevious", "merged_with_previous":
		return splitMergedWithPrevious, nil
	case "MergedWithNext", "merged_with_next":
		return splitMergedWithNext, nil
	case "Contiguous", "contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

// behaviorField reads a component's "behavior" (def when absent).
func behaviorField(raw json.RawMessage, def splitBehavior) (splitBehavior, error) {
	var j struct {
		Behavior *string `json:"behavior"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return 0, err
	}
	if j.Behavior == nil {
		return def, nil
	}
	return parseBehavior(*j.Behavior)
}

// splitMatches cuts n at the matches according to behavior.
func (n *normStr) splitMatches(ms []match, behavior splitBehavior) []*normStr {
	type piece struct {
		a, b   int
		remove bool
	}
	var ps []piece
	switch behavior {
	case splitIsolated:
		ps = make([]piece, len(ms))
		for i, m := range ms {
			ps[i] = piece{m.a, m.b, false}
		}
	case splitRemoved:
		ps = make([]piece, len(ms))
		for i, m := range ms {
			ps[i] = piece{m.a, m.b, m.isMatch}
		}
	case splitContiguous:
		prev := false
		for _, m := range ms {
			if m.isMatch == prev && len(ps) > 0 {
				ps[len(ps)-1].b = m.b
			} else {
				ps = append(ps, piece{m.a, m.b, false})
			}
			prev = m.isMatch
		}
	case splitMergedWithPrevious:
		prev := false
		for _, m := range ms {
			if m.isMatch && !prev && len(ps) > 0 {
				ps[len(ps)-1].b = m.b
			} else {
				ps = append(ps, piece{m.a, m.b, false})
			}
			prev = m.isMatch
		}
	case splitMergedWithNext:
		prev := false
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			if m.isMatch && !prev && len(ps) > 0 {
				ps[len(ps)-1].a = m.a
			} else {
				ps = append(ps, piece{m.a, m.b, false})
			}
			prev = m.isMatch
		}
		for i, j := 0, len(ps)-1; i < j; i, j = i+1, j-1 {
			ps[i], ps[j] = ps[j], ps[i]
		}
	}
	k := 0
	for _, p := range ps {
		if !p.remove && p.b > p.a {
			k++
		}
	}
	slab := make([]normStr, k)
	out := make([]*normStr, k)
	k = 0
	for _, p := range ps {
		if !p.remove && p.b > p.a {
			n.sliceInto(&slab[k], p.a, p.b)
			out[k] = &slab[k]
			k++
		}
	}
	return out
}

// matchesFromRanges turns sorted disjoint match ranges into a covering
// list of matches and gaps (the Rust Pattern::find_matches contract).
func matchesFromRanges(s string, rs [][2]int) []match {
	if len(s) == 0 {
		return []match{{0, 0, false}}
	}
	out := make([]match, 0, 2*len(rs)+1)
	prev := 0
	for _, r := range rs {
		if prev != r[0] {
			out = append(out, match{prev, r[0], false})
		}
		out = append(out, match{r[0], r[1], true})
		prev = r[1]
	}
	if prev != len(s) {
		out = append(out, match{prev, len(s), false})
	}
	return out
}

// matchRunes: every character for which f is true is its own match.
func matchRunes(s string, f func(rune) bool) []match {
	if len(s) == 0 {
		return []match{{0, 0, false}}
	}
	var out []match
	last := 0
	for i, c := range s {
		if f(c) {
			if last < i {
				out = append(out, match{last, i, false})
			}
			size := utf8.RuneLen(c)
			out = append(out, match{i, i + size, true})
			last = i + size
		}
	}
	if last < len(s) {
		out = append(out, match{last, len(s), false})
	}
	return out
}

// pattern is a Split/Replace pattern: a literal string or a regex.
type pattern struct {
	lit     string
	isRegex bool
	re      *compiledRegex
}

func (p *pattern) find(s string) []match {
	if p.isRegex {
		return matchesFromRanges(s, p.re.findAll(s))
	}
	if p.lit == "" {
		return matchesFromRanges(s, nil)
	}
	var rs [][2]int
	for i := 0; i <= len(s)-len(p.lit); {
		j := strings.Index(s[i:], p.lit)
		if j < 0 {
			break
		}
		rs = append(rs, [2]int{i + j, i + j + len(p.lit)})
		i += j + len(p.lit)
	}
	return matchesFromRanges(s, rs)
}

func invertMatches(ms []match) []match {
	out := make([]match, len(ms))
	for i, m := range ms {
		out[i] = match{m.a, m.b, !m.isMatch}
	}
	return out
}

// compiledRegex runs an Oniguruma pattern from tokenizer.json with Go's
// regexp. Go lacks look-ahead; the one form these files use, `\s+(?!\S)`
// followed by `|\s+`, is rewritten to a marked group `(\s+)` whose match is
// shortened by one character when a non-space follows, which is what the
// backtracking engine returns.
type compiledRegex struct {
	re       *regexp.Regexp
	wsGroup  int // submatch index of the rewritten \s+ group, or -1
	fallback bool
}

// unicodeSpace is Oniguruma's and Rust's \s (Unicode White_Space), as a
// character-class body. Go's \s is ASCII only.
const unicodeSpace = `\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

// unicodeWord is Oniguruma's \w: letters, marks, decimal digits and
// connector punctuation.
const unicodeWord = `\p{L}\p{M}\p{Nd}\p{Pc}`

func compileRegex(src string) (*compiledRegex, error) {
	const la = `\s+(?!\S)|\s+`
	wsGroup := -1
	body := src
	if strings.Contains(body, la) {
		body = strings.Replace(body, la, "(\x00WS\x00)", 1)
	}
	if strings.Contains(body, "(?!") || strings.Contains(body, "(?=") || strings.Contains(body, "(?<") {
		return nil, fmt.Errorf("regex %q: look-around is not supported", src)
	}
	conv, err := convertClasses(body)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %v", src, err)
	}
	conv = strings.Replace(conv, "(\x00WS\x00)", `([`+unicodeSpace+`]+)`, 1)
	re, err := regexp.Compile(conv)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %v", src, err)
	}
	if strings.Contains(src, la) {
		// Find which group is ours: the first group whose pattern is the
		// space run we inserted.
		probe := strings.Replace(body, "(\x00WS\x00)", "(\x00WS\x00)", 1)
		idx := strings.Index(probe, "(\x00WS\x00)")
		wsGroup = 1 + countGroups(probe[:idx])
	}
	return &compiledRegex{re: re, wsGroup: wsGroup}, nil
}

// countGroups counts capturing group openings in a regex prefix.
func countGroups(s string) int {
	n := 0
	inClass := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '(':
			if i+1 >= len(s) || s[i+1] != '?' {
				n++
			} else if i+2 < len(s) && (s[i+2] == 'P' || s[i+2] == '<') {
				n++
			}
		}
	}
	return n
}

// convertClasses rewrites \s, \S, \d, \D, \w, \W to their Unicode
// meaning (Oniguruma's with UTF-8; Go's are ASCII only).
func convertClasses(s string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			n := s[i+1]
			switch {
			case n == 'd' && inClass:
				b.WriteString(`\p{Nd}`)
			case n == 'd':
				b.WriteString(`\p{Nd}`)
			case n == 'D' && !inClass:
				b.WriteString(`\P{Nd}`)
			case n == 'w' && inClass:
				b.WriteString(unicodeWord)
			case n == 'w':
				b.WriteString("[" + unicodeWord + "]")
			case n == 'W' && !inClass:
				b.WriteString("[^" + unicodeWord + "]")
			case n == 'D' || n == 'W':
				return "", fmt.Errorf(`\%c inside a class is not supported`, n)
			case n == 's' && inClass:
				b.WriteString(unicodeSpace)
			case n == 's':
				b.WriteString("[" + unicodeSpace + "]")
			case n == 'S' && !inClass:
				b.WriteString("[^" + unicodeSpace + "]")
			case n == 'S':
				return "", fmt.Errorf(`\S inside a class is not supported`)
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i++
			continue
		}
		if inClass && c == ']' {
			inClass = false
		} else if !inClass && c == '[' {
			inClass = true
			b.WriteByte(c)
			if i+1 < len(s) && s[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(s) && s[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

func (c *compiledRegex) findAll(s string) [][2]int {
	var out [][2]int
	pos := 0
	for pos <= len(s) {
		loc := c.re.FindStringSubmatchIndex(s[pos:])
		if loc == nil {
			break
		}
		a, e := pos+loc[0], pos+loc[1]
		if c.wsGroup >= 0 && loc[2*c.wsGroup] >= 0 && pos+loc[2*c.wsGroup] == a && pos+loc[2*c.wsGroup+1] == e && e < len(s) {
			// Followed by a non-space (else the run would be longer):
			// give back the last character if the run has two or more.
			_, last := utf8.DecodeLastRuneInString(s[a:e])
			if e-last > a {
				e -= last
			}
		}
		if e == a {
			// Empty match: step one character.
			out = append(out, [2]int{a, a})
			if a >= len(s) {
				break
			}
			_, size := utf8.DecodeRuneInString(s[a:])
			pos = a + size
			continue
		}
		out = append(out, [2]int{a, e})
		pos = e
	}
	return out
}
