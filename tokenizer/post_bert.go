package tokenizer

import (
	"encoding/json"
	"fmt"
)

// BertProcessing: [CLS] A [SEP] (B [SEP]), type ids 0 then 1.

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

func init() {
	registerPostProcessor("BertProcessing", func(raw json.RawMessage) (postProcessor, error) {
		b := &bertProc{}
		return b, json.Unmarshal(raw, b)
	})
}
