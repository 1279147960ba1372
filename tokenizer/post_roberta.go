package tokenizer

import (
	"encoding/json"
)

// RobertaProcessing: <s> A </s> (</s> B </s>), type ids all 0, offsets
// trimmed as ByteLevel does.

type robertaProc struct {
	Sep            tokPair `json:"sep"`
	Cls            tokPair `json:"cls"`
	TrimOffsets    bool    `json:"trim_offsets"`
	AddPrefixSpace bool    `json:"add_prefix_space"`
}

func (r *robertaProc) addedTokens(pair bool) int {
	if pair {
		return 4
	}
	return 2
}

func (r *robertaProc) process(es []*Encoding, add bool) []*Encoding {
	for _, e := range es {
		if r.TrimOffsets {
			trimOffsets(e, r.AddPrefixSpace)
		}
		for i := range e.TypeIDs {
			e.TypeIDs[i] = 0
		}
	}
	if !add {
		return es
	}
	out := []*Encoding{merge(specialEncoding([]int{r.Cls.id}, []string{r.Cls.tok}, 0), es[0], specialEncoding([]int{r.Sep.id}, []string{r.Sep.tok}, 0))}
	if len(es) > 1 {
		out = append(out, merge(specialEncoding([]int{r.Sep.id}, []string{r.Sep.tok}, 0), es[1], specialEncoding([]int{r.Sep.id}, []string{r.Sep.tok}, 0)))
	}
	return out
}

// trimOffsets moves offsets past the leading and trailing spaces of each
// token (counted in characters, as the Rust library does).
func trimOffsets(e *Encoding, addPrefixSpace bool) {
	isSp := func(r rune) bool { return r == 'Ġ' || isWhiteSpace(r) }
	for i, t := range e.Tokens {
		lead, trail := 0, 0
		rs := []rune(t)
		for _, c := range rs {
			if !isSp(c) {
				break
			}
			lead++
		}
		for k := len(rs) - 1; k >= 0 && isSp(rs[k]); k-- {
			trail++
		}
		o := &e.Offsets[i]
		if lead > 0 {
			if (i == 0 || o[0] == 0) && addPrefixSpace && lead == 1 {
				lead = 0
			}
			o[0] = min(o[0]+lead, o[1])
		}
		if trail > 0 && o[1] >= trail {
			o[1] = max(o[1]-trail, o[0])
		}
	}
}

func (b *byteLevel) addedTokens(bool) int { return 0 }

func (b *byteLevel) process(es []*Encoding, add bool) []*Encoding {
	if b.TrimOffsets {
		for _, e := range es {
			trimOffsets(e, b.AddPrefixSpace)
		}
	}
	return es
}

func init() {
	registerPostProcessor("RobertaProcessing", func(raw json.RawMessage) (postProcessor, error) {
		r := &robertaProc{TrimOffsets: true, AddPrefixSpace: true}
		return r, json.Unmarshal(raw, r)
	})
	registerPostProcessor("ByteLevel", func(raw json.RawMessage) (postProcessor, error) { return newByteLevel(raw) })
}
