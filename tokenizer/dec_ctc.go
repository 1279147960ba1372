package tokenizer

import (
	"encoding/json"
	"strings"
)

type ctcDec struct {
	PadToken  string `json:"pad_token"`
	WordDelim string `json:"word_delimiter_token"`
	Cleanup   bool   `json:"cleanup"`
}

func (c *ctcDec) decodeChain(toks []string) []string {
	var out []string
	for i, t := range toks {
		if i > 0 && toks[i-1] == t {
			continue
		}
		if t == c.PadToken {
			continue
		}
		t = strings.ReplaceAll(t, c.WordDelim, " ")
		if c.Cleanup {
			t = cleanupTokenization(t)
		}
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

func init() {
	registerDecoder("CTC", func(raw json.RawMessage) (decoder, error) {
		c := &ctcDec{PadToken: "<pad>", WordDelim: "|", Cleanup: true}
		return c, json.Unmarshal(raw, c)
	})
}
