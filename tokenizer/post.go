package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Post-processors: BertProcessing, RobertaProcessing, ByteLevel,
// TemplateProcessing, Sequence.

// tokPair is a special token as ["[CLS]", 101] in the JSON.
type tokPair struct {
	tok string
	id  int
}

func (t *tokPair) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil || len(a) != 2 {
		return fmt.Errorf("special token %s is not [string, id]", b)
	}
	if err := json.Unmarshal(a[0], &t.tok); err != nil {
		return err
	}
	if err := json.Unmarshal(a[1], &t.id); err != nil {
		return err
	}
	if t.id < 0 {
		return fmt.Errorf("special token %q has negative id", t.tok)
	}
	return nil
}

type bertProc struct {
	Sep tokPair `json:"sep"`
	Cls tokPair `json:"cls"`
}

func (b *bertProc) addedTokens(pair bool) int {
	if pair {
		return 3
	}
	return 2
}

func (b *bertProc) process(es []*Encoding, add bool) []*Encoding {
	if !add {
		return es
	}
	out := []*Encoding{merge(specialEncoding([]int{b.Cls.id}, []string{b.Cls.tok}, 0), es[0], specialEncoding([]int{b.Sep.id}, []string{b.Sep.tok}, 0))}
	if len(es) > 1 {
		out = append(out, merge(es[1], specialEncoding([]int{b.Sep.id}, []string{b.Sep.tok}, 1)))
	}
	return out
}

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

// templateProc is TemplateProcessing: the single and pair templates are
// lists of pieces, a sequence ($A, $B) or a special token, each with a type
// id.
type templateProc struct {
	single, pair []piece
	special      map[string]specialTok
}

type piece struct {
	seq     int // 0 for A, 1 for B, -1 for a special token
	special string
	typeID  int
}

type specialTok struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

func parsePieces(raw json.RawMessage) ([]piece, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		var out []piece
		for _, f := range strings.Fields(s) {
			p, err := parsePieceString(f)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	var list []struct {
		Sequence *struct {
			ID     string `json:"id"`
			TypeID int    `json:"type_id"`
		} `json:"Sequence"`
		SpecialToken *struct {
			ID     string `json:"id"`
			TypeID int    `json:"type_id"`
		} `json:"SpecialToken"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	out := make([]piece, 0, len(list))
	for _, x := range list {
		switch {
		case x.Sequence != nil:
			seq := 0
			switch x.Sequence.ID {
			case "A":
			case "B":
				seq = 1
			default:
				return nil, fmt.Errorf("template sequence %q", x.Sequence.ID)
			}
			out = append(out, piece{seq: seq, typeID: x.Sequence.TypeID})
		case x.SpecialToken != nil:
			out = append(out, piece{seq: -1, special: x.SpecialToken.ID, typeID: x.SpecialToken.TypeID})
		default:
			return nil, fmt.Errorf("template piece is neither Sequence nor SpecialToken")
		}
	}
	return out, nil
}

// parsePieceString reads "$A", "$B:1", "$1", "[CLS]", "[SEP]:1".
func parsePieceString(f string) (piece, error) {
	name, tid := f, 0
	if i := strings.LastIndexByte(f, ':'); i > 0 {
		if v, err := strconv.Atoi(f[i+1:]); err == nil && v >= 0 {
			name, tid = f[:i], v
		}
	}
	if strings.HasPrefix(name, "$") {
		switch rest := name[1:]; rest {
		case "", "A", "a":
			return piece{seq: 0, typeID: tid}, nil
		case "B", "b":
			return piece{seq: 1, typeID: tid}, nil
		default:
			v, err := strconv.Atoi(rest)
			if err != nil || v < 0 {
				return piece{}, fmt.Errorf("template piece %q", f)
			}
			return piece{seq: 0, typeID: v}, nil
		}
	}
	return piece{seq: -1, special: name, typeID: tid}, nil
}

func (t *templateProc) addedTokens(pair bool) int {
	tpl := t.single
	if pair {
		tpl = t.pair
	}
	n := 0
	for _, p := range tpl {
		if p.seq < 0 {
			n += len(t.special[p.special].IDs)
		}
	}
	return n
}

func (t *templateProc) process(es []*Encoding, add bool) []*Encoding {
	tpl := t.single
	if len(es) > 1 && t.pair != nil {
		tpl = t.pair
	}
	var parts []*Encoding
	for _, p := range tpl {
		switch {
		case p.seq >= 0 && p.seq < len(es):
			c := *es[p.seq]
			c.TypeIDs = fill(c.Len(), p.typeID)
			parts = append(parts, &c)
		case p.seq < 0 && add:
			st := t.special[p.special]
			parts = append(parts, specialEncoding(st.IDs, st.Tokens, p.typeID))
		}
	}
	return []*Encoding{merge(parts...)}
}

type sequenceProc struct{ list []postProcessor }

func (s *sequenceProc) addedTokens(pair bool) int {
	n := 0
	for _, p := range s.list {
		if p != nil {
			n += p.addedTokens(pair)
		}
	}
	return n
}

// process chains the processors over the separate encodings.
func (s *sequenceProc) process(es []*Encoding, add bool) []*Encoding {
	for _, p := range s.list {
		if p != nil {
			es = p.process(es, add)
		}
	}
	return es
}

func init() {
	registerPostProcessor("BertProcessing", func(raw json.RawMessage) (postProcessor, error) {
		b := &bertProc{}
		return b, json.Unmarshal(raw, b)
	})
	registerPostProcessor("RobertaProcessing", func(raw json.RawMessage) (postProcessor, error) {
		r := &robertaProc{TrimOffsets: true, AddPrefixSpace: true}
		return r, json.Unmarshal(raw, r)
	})
	registerPostProcessor("ByteLevel", func(raw json.RawMessage) (postProcessor, error) { return newByteLevel(raw) })
	registerPostProcessor("TemplateProcessing", func(raw json.RawMessage) (postProcessor, error) {
		var j struct {
			Single  json.RawMessage       `json:"single"`
			Pair    json.RawMessage       `json:"pair"`
			Special map[string]specialTok `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		t := &templateProc{special: j.Special}
		var err error
		if t.single, err = parsePieces(j.Single); err != nil {
			return nil, err
		}
		if !isNull(j.Pair) {
			if t.pair, err = parsePieces(j.Pair); err != nil {
				return nil, err
			}
		}
		for _, tpl := range [][]piece{t.single, t.pair} {
			for _, p := range tpl {
				if p.seq >= 0 {
					continue
				}
				st, ok := t.special[p.special]
				if !ok {
					return nil, fmt.Errorf("template special token %q missing from special_tokens", p.special)
				}
				if len(st.IDs) != len(st.Tokens) {
					return nil, fmt.Errorf("special token %q: %d ids, %d tokens", p.special, len(st.IDs), len(st.Tokens))
				}
				for _, id := range st.IDs {
					if id < 0 {
						return nil, fmt.Errorf("special token %q: negative id", p.special)
					}
				}
			}
		}
		return t, nil
	})
	registerPostProcessor("Sequence", func(raw json.RawMessage) (postProcessor, error) {
		var j struct {
			List json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		list, err := subComponents("post_processor", j.List, postProcessors)
		if err != nil {
			return nil, err
		}
		return &sequenceProc{list}, nil
	})
}
