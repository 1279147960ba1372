package tokenizer

import (
	"encoding/json"
	"strings"
)

type wordPieceDec struct {
	Prefix  string `json:"prefix"`
	Cleanup bool   `json:"cleanup"`
}

// cleanupTokenization undoes the spaces BERT-style decoding leaves before
// punctuation and contractions.
func cleanupTokenization(s string) string {
	for _, p := range [][2]string{{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
		{" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}} {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}

func (w *wordPieceDec) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		if i != 0 {
			if strings.HasPrefix(t, w.Prefix) {
				t = strings.Replace(t, w.Prefix, "", 1)
			} else {
				t = " " + t
			}
		}
		if w.Cleanup {
			t = cleanupTokenization(t)
		}
		out[i] = t
	}
	return out
}

func init() {
	registerDecoder("WordPiece", func(raw json.RawMessage) (decoder, error) {
		w := &wordPieceDec{Prefix: "##", Cleanup: true}
		return w, json.Unmarshal(raw, w)
	})
}
