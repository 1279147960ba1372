package tokenizer

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// AddedToken is a token matched in the raw text before the model runs.
type AddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedVocab is the Rust AddedVocabulary: the tokens, and two matchers,
// one over the raw text and one over normalised text.
type addedVocab struct {
	byContent map[string]int
	byID      map[int]*AddedToken
	special   map[string]bool
	raw, norm *trieMatcher
}

func newAddedVocab() *addedVocab {
	return &addedVocab{byContent: map[string]int{}, byID: map[int]*AddedToken{}, special: map[string]bool{}}
}

// add registers tokens as Rust's add_tokens: the id is the model's id for
// the same string, else the next free id after the vocabulary.
func (v *addedVocab) add(tokens []AddedToken, m model, n normalizer) {
	next := m.vocabSize()
	if len(v.byID) > 0 {
		mx := -1
		for id := range v.byID {
			mx = max(mx, id)
		}
		if mx >= m.vocabSize() || m.vocabSize() == 0 {
			next = mx + 1
		}
	}
	for _, t := range tokens {
		if t.Content == "" {
			continue
		}
		if id, ok := v.byContent[t.Content]; ok && *v.byID[id] == (AddedToken{ID: id, Content: t.Content, SingleWord: t.SingleWord, LStrip: t.LStrip, RStrip: t.RStrip, Normalized: t.Normalized, Special: t.Special}) {
			continue
		}
		id, ok := v.byContent[t.Content]
		if !ok {
			id, ok = m.tokenToID(t.Content)
		}
		if !ok {
			id = next
			next++
		}
		tc := t
		tc.ID = id
		v.byContent[t.Content] = id
		v.byID[id] = &tc
		if t.Special {
			v.special[t.Content] = true
		}
	}
	v.refresh(n)
}

func (v *addedVocab) refresh(n normalizer) {
	var raw, norm []trieEntry
	for id, t := range v.byID {
		if t.Normalized {
			pat := t.Content
			if n != nil {
				ns := newNormStr(pat, 0, len(pat))
				n.normalize(ns)
				pat = ns.s
			}
			norm = append(norm, trieEntry{pat, id})
		} else {
			raw = append(raw, trieEntry{t.Content, id})
		}
	}
	v.raw = newTrieMatcher(raw)
	v.norm = newTrieMatcher(norm)
}

type trieEntry struct {
	pat string
	id  int
}

// trieMatcher finds leftmost-longest non-overlapping matches of a set of
// strings (the Aho-Corasick LeftmostLongest semantics the Rust library
// uses), indexed by first byte.
type trieMatcher struct {
	byFirst [256][]trieEntry // longest first
	any     bool
}

func newTrieMatcher(es []trieEntry) *trieMatcher {
	m := &trieMatcher{}
	for _, e := range es {
		if e.pat == "" {
			continue
		}
		m.byFirst[e.pat[0]] = append(m.byFirst[e.pat[0]], e)
		m.any = true
	}
	for i := range m.byFirst {
		l := m.byFirst[i]
		sort.SliceStable(l, func(a, b int) bool {
			if len(l[a].pat) != len(l[b].pat) {
				return len(l[a].pat) > len(l[b].pat)
			}
			return l[a].pat < l[b].pat
		})
	}
	return m
}

// next finds the first match at or after i: its range and id.
func (m *trieMatcher) next(s string, i int) (a, b, id int, ok bool) {
	for ; i < len(s); i++ {
		for _, e := range m.byFirst[s[i]] {
			if len(s)-i >= len(e.pat) && s[i:i+len(e.pat)] == e.pat {
				return i, i + len(e.pat), e.id, true
			}
		}
	}
	return 0, 0, 0, false
}

// isWordChar is regex \w in Unicode mode: Alphabetic, marks, decimal
// digits, connector punctuation and the joiners.
func isWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) || r == 0x200C || r == 0x200D
}

// splitAdded cuts n at the matches of m, tokenising the matches.
func (v *addedVocab) splitAdded(n *normStr, m *trieMatcher) []split {
	s := n.s
	if !m.any || s == "" {
		// Rust re-slices even without a match, which re-bases the
		// original range on the first and last normalised characters.
		return []split{{n: n.slice(0, len(s))}}
	}
	var out []split
	start := 0
	for pos := 0; pos < len(s); {
		a, b, id, ok := m.next(s, pos)
		if !ok {
			break
		}
		pos = b
		t := v.byID[id]
		if t.SingleWord {
			r0, _ := utf8.DecodeLastRuneInString(s[:a])
			r1, _ := utf8.DecodeRuneInString(s[b:])
			startSpace := a == 0 || !isWordChar(r0)
			stopSpace := b == len(s) || !isWordChar(r1)
			if !startSpace || !stopSpace {
				continue
			}
		}
		if t.LStrip {
			na := a
			for na > 0 {
				r, size := utf8.DecodeLastRuneInString(s[:na])
				if !isWhiteSpace(r) {
					break
				}
				na -= size
			}
			a = max(na, start)
		}
		if t.RStrip {
			for b < len(s) {
				r, size := utf8.DecodeRuneInString(s[b:])
				if !isWhiteSpace(r) {
					break
				}
				b += size
			}
		}
		if start < a {
			out = append(out, split{n: n.slice(start, a)})
		}
		piece := n.slice(a, b)
		// The token's string is the matched text, stripped spaces included.
		out = append(out, split{n: piece, done: true, toks: []token{{id: id, value: piece.s, off: [2]int{0, b - a}}}})
		start = b
	}
	if start < len(s) {
		out = append(out, split{n: n.slice(start, len(s))})
	}
	return out
}

// extractAndNormalize splits off the raw added tokens, normalises the rest
// and splits off the normalised added tokens.
func (v *addedVocab) extractAndNormalize(text string, norm normalizer) *pretok {
	p := &pretok{}
	if text == "" {
		return p
	}
	whole := newNormStr(text, 0, len(text))
	for _, s := range v.splitAdded(whole, v.raw) {
		if s.done {
			p.splits = append(p.splits, s)
			continue
		}
		if norm != nil {
			norm.normalize(s.n)
		}
		for _, q := range v.splitAdded(s.n, v.norm) {
			if len(q.n.s) > 0 {
				p.splits = append(p.splits, q)
			}
		}
	}
	return p
}
