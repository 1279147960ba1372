package tokenizer

import (
	"encoding/json"
	"strings"
)

type bpeDec struct {
	Suffix string `json:"suffix"`
}

func (b *bpeDec) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		rep := " "
		if i == len(toks)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, b.Suffix, rep)
	}
	return out
}

func init() {
	registerDecoder("BPEDecoder", func(raw json.RawMessage) (decoder, error) {
		b := &bpeDec{Suffix: "</w>"}
		return b, json.Unmarshal(raw, b)
	})
}
