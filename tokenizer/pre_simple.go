package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// The small pre-tokenizers: Whitespace, WhitespaceSplit, Punctuation,
// Digits, CharDelimiterSplit, Split and Sequence.

// whitespacePre keeps runs of \w and runs of [^\w\s], dropping white space
// (the pattern \w+|[^\w\s]+).
type whitespacePre struct{}

func (whitespacePre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		var rs [][2]int
		s := n.s
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if isWhiteSpace(r) && !isWordChar(r) {
				i += size
				continue
			}
			w := isWordChar(r)
			j := i + size
			for j < len(s) {
				r2, size2 := utf8.DecodeRuneInString(s[j:])
				if isWordChar(r2) != w || (!w && isWhiteSpace(r2)) {
					break
				}
				j += size2
			}
			rs = append(rs, [2]int{i, j})
			i = j
		}
		return n.splitMatches(invertMatches(matchesFromRanges(s, rs)), splitRemoved), nil
	})
}

type whitespaceSplitPre struct{}

func (whitespaceSplitPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, isWhiteSpace), splitRemoved), nil
	})
}

type punctuationPre struct{ behavior splitBehavior }

func (q punctuationPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, isBertPunc), q.behavior), nil
	})
}

type digitsPre struct{ individual bool }

func (d digitsPre) preTokenize(p *pretok) error {
	b := splitContiguous
	if d.individual {
		b = splitIsolated
	}
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, unicode.IsNumber), b), nil
	})
}

type charDelimPre struct{ delim rune }

func (c charDelimPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		return n.splitMatches(matchRunes(n.s, func(r rune) bool { return r == c.delim }), splitRemoved), nil
	})
}

type splitPre struct {
	pat      pattern
	behavior splitBehavior
	invert   bool
}

func (sp *splitPre) preTokenize(p *pretok) error {
	return p.splitEach(func(n *normStr) ([]*normStr, error) {
		ms := sp.pat.find(n.s)
		if sp.invert {
			ms = invertMatches(ms)
		}
		return n.splitMatches(ms, sp.behavior), nil
	})
}

type sequencePre struct{ list []preTokenizer }

func (s *sequencePre) preTokenize(p *pretok) error {
	for _, x := range s.list {
		if x == nil {
			continue
		}
		if err := x.preTokenize(p); err != nil {
			return err
		}
	}
	return nil
}

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

func init() {
	registerPreTokenizer("Whitespace", func(json.RawMessage) (preTokenizer, error) { return whitespacePre{}, nil })
	registerPreTokenizer("WhitespaceSplit", func(json.RawMessage) (preTokenizer, error) { return whitespaceSplitPre{}, nil })
	registerPreTokenizer("Punctuation", func(raw json.RawMessage) (preTokenizer, error) {
		b, err := behaviorField(raw, splitIsolated)
		return punctuationPre{b}, err
	})
	registerPreTokenizer("Digits", func(raw json.RawMessage) (preTokenizer, error) {
		var j struct {
			Individual bool `json:"individual_digits"`
		}
		err := json.Unmarshal(raw, &j)
		return digitsPre{j.Individual}, err
	})
	registerPreTokenizer("CharDelimiterSplit", func(raw json.RawMessage) (preTokenizer, error) {
		var j struct {
			Delimiter string `json:"delimiter"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(j.Delimiter) != 1 {
			return nil, fmt.Errorf("delimiter %q is not one character", j.Delimiter)
		}
		r, _ := utf8.DecodeRuneInString(j.Delimiter)
		return charDelimPre{r}, nil
	})
	registerPreTokenizer("Split", func(raw json.RawMessage) (preTokenizer, error) {
		var j struct {
			Pattern json.RawMessage `json:"pattern"`
			Invert  bool            `json:"invert"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		pat, err := parsePattern(j.Pattern)
		if err != nil {
			return nil, err
		}
		b, err := behaviorField(raw, splitIsolated)
		if err != nil {
			return nil, err
		}
		return &splitPre{pat: pat, behavior: b, invert: j.Invert}, nil
	})
	registerPreTokenizer("Sequence", func(raw json.RawMessage) (preTokenizer, error) {
		var j struct {
			List json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		list, err := subComponents("pre_tokenizer", j.List, preTokenizers)
		if err != nil {
			return nil, err
		}
		return &sequencePre{list}, nil
	})
}
