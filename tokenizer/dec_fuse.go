package tokenizer

import (
	"encoding/json"
	"strings"
)

type fuseDec struct{}

func (fuseDec) decodeChain(toks []string) []string { return []string{strings.Join(toks, "")} }

func init() {
	registerDecoder("Fuse", func(json.RawMessage) (decoder, error) { return fuseDec{}, nil })
}
