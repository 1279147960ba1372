package tokenizer

import (
	"encoding/json"
	"unicode/utf8"
)

type stripDec struct {
	Content string `json:"content"`
	Start   int    `json:"start"`
	Stop    int    `json:"stop"`
}

func (s *stripDec) decodeChain(toks []string) []string {
	c, _ := utf8.DecodeRuneInString(s.Content)
	out := make([]string, len(toks))
	for i, t := range toks {
		rs := []rune(t)
		a := 0
		for k := 0; k < s.Start && a < len(rs) && rs[a] == c; k++ {
			a++
		}
		b := len(rs)
		for k := 0; k < s.Stop && b > a && rs[b-1] == c; k++ {
			b--
		}
		out[i] = string(rs[a:b])
	}
	return out
}

func init() {
	registerDecoder("Strip", func(raw json.RawMessage) (decoder, error) {
		s := &stripDec{}
		return s, json.Unmarshal(raw, s)
	})
}
