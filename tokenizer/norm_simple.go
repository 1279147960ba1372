package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode"
)

// The small normalizers: Lowercase, StripAccents, Strip, Prepend, Replace,
// and Sequence.

type lowercaseNorm struct{}

func (lowercaseNorm) normalize(n *normStr) { lowercase(n) }

type stripAccentsNorm struct{}

// StripAccents alone removes combining marks (Mn, Mc, Me) without
// decomposing first (files put an NFD normalizer before it).
func (stripAccentsNorm) normalize(n *normStr) {
	n.filter(func(r rune) bool { return !unicode.IsMark(r) })
}

type stripNorm struct {
	Left  bool `json:"strip_left"`
	Right bool `json:"strip_right"`
}

func (s *stripNorm) normalize(n *normStr) { n.stripSpace(s.Left, s.Right) }

type prependNorm struct {
	Prepend string `json:"prepend"`
}

func (p *prependNorm) normalize(n *normStr) { n.prepend(p.Prepend) }

type replaceNorm struct {
	pat     pattern
	content string
}

func (r *replaceNorm) normalize(n *normStr) {
	var rs [][2]int
	for _, m := range r.pat.find(n.s) {
		if m.isMatch {
			rs = append(rs, [2]int{m.a, m.b})
		}
	}
	n.replaceMatches(rs, r.content)
}

type sequenceNorm struct{ list []normalizer }

func (s *sequenceNorm) normalize(n *normStr) {
	for _, x := range s.list {
		if x != nil {
			x.normalize(n)
		}
	}
}

// parsePattern reads {"String": s} or {"Regex": r}.
func parsePattern(raw json.RawMessage) (pattern, error) {
	var p struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return pattern{}, err
	}
	switch {
	case p.String != nil:
		return pattern{lit: *p.String}, nil
	case p.Regex != nil:
		re, err := compileRegex(*p.Regex)
		if err != nil {
			return pattern{}, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		return pattern{isRegex: true, re: re}, nil
	}
	return pattern{}, fmt.Errorf("pattern is neither String nor Regex")
}

func init() {
	registerNormalizer("Lowercase", func(json.RawMessage) (normalizer, error) { return lowercaseNorm{}, nil })
	registerNormalizer("StripAccents", func(json.RawMessage) (normalizer, error) { return stripAccentsNorm{}, nil })
	registerNormalizer("Strip", func(raw json.RawMessage) (normalizer, error) {
		s := &stripNorm{Left: true, Right: true}
		return s, json.Unmarshal(raw, s)
	})
	registerNormalizer("Prepend", func(raw json.RawMessage) (normalizer, error) {
		p := &prependNorm{}
		return p, json.Unmarshal(raw, p)
	})
	registerNormalizer("Replace", func(raw json.RawMessage) (normalizer, error) {
		var j struct {
			Pattern json.RawMessage `json:"pattern"`
			Content string          `json:"content"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		p, err := parsePattern(j.Pattern)
		if err != nil {
			return nil, err
		}
		return &replaceNorm{pat: p, content: j.Content}, nil
	})
	registerNormalizer("Sequence", func(raw json.RawMessage) (normalizer, error) {
		var j struct {
			Normalizers json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		list, err := subComponents("normalizer", j.Normalizers, normalizers)
		if err != nil {
			return nil, err
		}
		return &sequenceNorm{list}, nil
	})
}
