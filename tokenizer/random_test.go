package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestRandomStrings: 500 seeded random strings built from troublesome
// pieces (marks, emoji sequences, CJK, RTL, special-token strings, odd
// spaces, control characters, invalid bytes) encoded and decoded by every
// fixture tokenizer, compared by hash with the Rust library's results
// (ids, character offsets, type ids, decode keeping special tokens).
func TestRandomStrings(t *testing.T) {
	var ref struct {
		Inputs     []string            `json:"inputs"`
		Tokenizers map[string][]string `json:"tokenizers"`
	}
	file := filepath.Join("testdata", "random.hashes.json.gz")
	if f := os.Getenv("ADJOINT_RANDOM_HASHES"); f != "" {
		file = f // a bigger run made the same way, e.g. with another seed
	}
	if err := json.Unmarshal(readGz(t, file), &ref); err != nil {
		t.Fatal(err)
	}
	inputs := make([]string, len(ref.Inputs))
	for i, h := range ref.Inputs {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		inputs[i] = string(b)
	}
	for name, hashes := range ref.Tokenizers {
		t.Run(name, func(t *testing.T) {
			tk := loadFixtureTokenizer(t, name+".tokenizer.json.gz")
			pass, fails := 0, 0
			for i, s := range inputs {
				e, err := tk.encodeChars(s, true)
				if err != nil {
					t.Fatalf("input %d: %v", i, err)
				}
				dec, _ := tk.Decode(e.IDs, false)
				if h := hashEncoding(e, dec); h != hashes[i] {
					fails++
					if fails <= 5 {
						t.Errorf("input %d %q: differs from the reference (ids %v)", i, s, e.IDs)
					}
					continue
				}
				pass++
			}
			t.Logf("random parity %s: %d/%d", name, pass, len(inputs))
		})
	}
}

// hashEncoding hashes what gen.js hashes: JSON.stringify([ids, offsets,
// typeIds, decoded]).
func hashEncoding(e *Encoding, dec string) string {
	b := []byte("[")
	ints := func(v []int) {
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(x), 10)
		}
		b = append(b, ']')
	}
	ints(e.IDs)
	b = append(b, ",["...)
	for i, o := range e.Offsets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(o[0]), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(o[1]), 10)
		b = append(b, ']')
	}
	b = append(b, "],"...)
	ints(e.TypeIDs)
	b = append(b, ',')
	b = appendJSString(b, dec)
	b = append(b, ']')
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// appendJSString writes s as JavaScript's JSON.stringify does.
func appendJSString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexd[r>>4], hexd[r&15])
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}
