package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

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

func init() {
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
}
