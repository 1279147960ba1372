package tokenizer

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decoders: ByteLevel, WordPiece, BPEDecoder, ByteFallback, Fuse, Strip,
// Replace, CTC and Sequence (Metaspace is beside its pre-tokenizer).

// decodeChain maps the byte stand-ins back to bytes; a token with any
// other character contributes its own UTF-8 bytes. Invalid UTF-8 becomes
// U+FFFD per maximal invalid sequence, as Rust's from_utf8_lossy.
func (b *byteLevel) decodeChain(toks []string) []string {
	var buf []byte
	for _, t := range toks {
		start := len(buf)
		ok := true
		for _, c := range t {
			v, found := charByte[c]
			if !found {
				ok = false
				break
			}
			buf = append(buf, v)
		}
		if !ok {
			buf = append(buf[:start], t...)
		}
	}
	return []string{lossyUTF8(buf)}
}

// lossyUTF8 is Rust's String::from_utf8_lossy: each maximal prefix of a
// valid sequence that cannot be completed becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			sb.Write(b[i : i+size])
			i += size
			continue
		}
		// Length of the maximal valid prefix (per the Unicode standard's
		// "substitution of maximal subparts").
		n := 1
		var lo, hi byte = 0x80, 0xBF
		need := 0
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 2
		case c == 0xED:
			need, hi = 2, 0x9F
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		}
		for k := 0; k < need && i+n < len(b); k++ {
			x := b[i+n]
			if x < lo || x > hi {
				break
			}
			lo, hi = 0x80, 0xBF
			n++
		}
		sb.WriteRune(utf8.RuneError)
		i += n
	}
	return sb.String()
}

type wordPieceDec struct {
	Prefix  string `json:"prefix"`
	Cleanup bool   `json:"cleanup"`
}

// cleanupTokenization undoes the spaces BERT-style decoding leaves before
// punctuation and contractions.
func cleanupTokenization(s string) string {
	r := strings.NewReplacer(" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't",
		" 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re")
	_ = r
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

type byteFallbackDec struct{}

// byteByToken parses "<0xAB>".
func byteByToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(t[3:5], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

func (byteFallbackDec) decodeChain(toks []string) []string {
	var out []string
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range toks {
		if b, ok := byteByToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDec struct{}

func (fuseDec) decodeChain(toks []string) []string { return []string{strings.Join(toks, "")} }

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

type replaceDec struct {
	pat     pattern
	content string
}

func (r *replaceDec) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		var b strings.Builder
		for _, m := range r.pat.find(t) {
			if m.isMatch {
				b.WriteString(r.content)
			} else {
				b.WriteString(t[m.a:m.b])
			}
		}
		out[i] = b.String()
	}
	return out
}

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

type sequenceDec struct{ list []decoder }

func (s *sequenceDec) decodeChain(toks []string) []string {
	for _, d := range s.list {
		if d != nil {
			toks = d.decodeChain(toks)
		}
	}
	return toks
}

func init() {
	registerDecoder("ByteLevel", func(raw json.RawMessage) (decoder, error) { return newByteLevel(raw) })
	registerDecoder("WordPiece", func(raw json.RawMessage) (decoder, error) {
		w := &wordPieceDec{Prefix: "##", Cleanup: true}
		return w, json.Unmarshal(raw, w)
	})
	registerDecoder("BPEDecoder", func(raw json.RawMessage) (decoder, error) {
		b := &bpeDec{Suffix: "</w>"}
		return b, json.Unmarshal(raw, b)
	})
	registerDecoder("ByteFallback", func(json.RawMessage) (decoder, error) { return byteFallbackDec{}, nil })
	registerDecoder("Fuse", func(json.RawMessage) (decoder, error) { return fuseDec{}, nil })
	registerDecoder("Strip", func(raw json.RawMessage) (decoder, error) {
		s := &stripDec{}
		return s, json.Unmarshal(raw, s)
	})
	registerDecoder("CTC", func(raw json.RawMessage) (decoder, error) {
		c := &ctcDec{PadToken: "<pad>", WordDelim: "|", Cleanup: true}
		return c, json.Unmarshal(raw, c)
	})
	registerDecoder("Replace", func(raw json.RawMessage) (decoder, error) {
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
		return &replaceDec{pat: p, content: j.Content}, nil
	})
	registerDecoder("Sequence", func(raw json.RawMessage) (decoder, error) {
		var j struct {
			List json.RawMessage `json:"decoders"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		list, err := subComponents("decoder", j.List, decoders)
		if err != nil {
			return nil, err
		}
		return &sequenceDec{list}, nil
	})
}
