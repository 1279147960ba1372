package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// precompiledRef is testdata/precompiled_ref.json.gz, made by
// testdata/gen_precompiled.js with the Rust tokenizers library.
type precompiledRef struct {
	Charsmaps  map[string]string          `json:"charsmaps"`
	Tokenizers map[string]json.RawMessage `json:"tokenizers"`
	Inputs     []refInput                 `json:"inputs"`
	Normalized map[string][]string        `json:"normalized"`
	Encodings  map[string]json.RawMessage `json:"encodings"`
}

type precompiledEnc struct {
	refEncoding
	Decode string `json:"decode"`
	A, B   int
}

var charsmapFiles = map[string]string{"nmt_nfkc": "nmt_nfkc.charsmap.gz", "probe": "precompiled_probe.charsmap.gz"}

func loadPrecompiledRef(t *testing.T) (*precompiledRef, map[string][]byte) {
	t.Helper()
	file := filepath.Join("testdata", "precompiled_ref.json.gz")
	if _, err := os.Stat(file); err != nil {
		t.Skipf("no fixture %s (make it with testdata/gen_precompiled.js)", file)
	}
	var ref precompiledRef
	require.NoError(t, jsonUnmarshalGz(t, file, &ref))
	maps := map[string][]byte{}
	for name := range ref.Charsmaps {
		f := filepath.Join("testdata", charsmapFiles[name])
		b, err := readGzErr(f)
		if err != nil {
			t.Skipf("charsmap %s: %v", name, err)
		}
		maps[name] = b
	}
	return &ref, maps
}

// TestPrecompiledNormalized compares the normalized string with the Rust
// library's Normalizer.normalizeString for every input and charsmap.
func TestPrecompiledNormalized(t *testing.T) {
	ref, maps := loadPrecompiledRef(t)
	for name, want := range ref.Normalized {
		t.Run(name, func(t *testing.T) {
			p, err := parsePrecompiled(maps[name])
			require.NoError(t, err)
			fails := 0
			for i, in := range ref.Inputs {
				s := in.text(t)
				n := newNormStr(s, 0, len(s))
				p.normalize(n)
				if n.s != want[i] {
					fails++
					if fails <= 5 {
						t.Errorf("input %d %+q:\n got  %+q\n want %+q", i, s, n.s, want[i])
					}
				}
				checkAlign(t, n)
			}
			t.Logf("%s: %d/%d inputs", name, len(want)-fails, len(want))
		})
	}
}

// checkAlign checks the invariants of a normalised string's alignments.
func checkAlign(t *testing.T, n *normStr) {
	if n.align == nil {
		return
	}
	if len(n.align) != len(n.s) {
		t.Fatalf("%d alignments for %d bytes", len(n.align), len(n.s))
	}
}

// TestPrecompiledParity encodes every input with tokenizer.json files
// that use the charsmaps (T5's pipeline: Precompiled, Replace, WhitespaceSplit,
// Metaspace, Unigram, </s> template; and one token per normalized
// character, which shows each character's offsets) and compares ids,
// tokens, character offsets and decode with the Rust library's.
func TestPrecompiledParity(t *testing.T) {
	ref, maps := loadPrecompiledRef(t)
	for name, raw := range ref.Tokenizers {
		t.Run(name, func(t *testing.T) {
			js := string(raw)
			for cm, b := range maps {
				js = strings.ReplaceAll(js, strconv.Quote("@"+cm), strconv.Quote(base64.StdEncoding.EncodeToString(b)))
			}
			tk, err := Read(strings.NewReader(js))
			require.NoError(t, err)
			var encs []precompiledEnc
			require.NoError(t, json.Unmarshal(ref.Encodings[name], &encs))
			require.Len(t, encs, len(ref.Inputs))
			fails := 0
			for i, in := range ref.Inputs {
				s := in.text(t)
				e, err := tk.encodeChars(s, true)
				require.NoError(t, err)
				d := diffEncoding(e, &encs[i].refEncoding)
				if d == "" {
					if dec, _ := tk.Decode(e.IDs, true); dec != encs[i].Decode {
						d = fmt.Sprintf("decode:\n got  %q\n want %q", dec, encs[i].Decode)
					}
				}
				if d != "" {
					fails++
					if fails <= 5 {
						t.Errorf("input %d %+q: %s", i, s, d)
					}
				}
			}
			if pr, ok := ref.Encodings[name+"/pairs"]; ok {
				var pairs []precompiledEnc
				require.NoError(t, json.Unmarshal(pr, &pairs))
				for _, p := range pairs {
					e, err := tk.encodePair(ref.Inputs[p.A].text(t), ref.Inputs[p.B].text(t), true, true)
					require.NoError(t, err)
					if d := diffEncoding(e, &p.refEncoding); d != "" {
						fails++
						t.Errorf("pair %d, %d: %s", p.A, p.B, d)
					}
				}
			}
			t.Logf("%s: %d inputs, %d differ", name, len(ref.Inputs), fails)
		})
	}
}

// charsmap builds a precompiled_charsmap from units and strings.
func charsmap(size uint32, units []uint32, strs string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, size)
	for _, u := range units {
		b = binary.LittleEndian.AppendUint32(b, u)
	}
	return append(b, strs...)
}

func TestPrecompiledLoadErrors(t *testing.T) {
	model := `"model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}`
	file := func(cm string) string {
		return `{"normalizer": {"type": "Precompiled", "precompiled_charsmap": ` + cm + `}, ` + model + `}`
	}
	b64 := func(b []byte) string { return strconv.Quote(base64.StdEncoding.EncodeToString(b)) }
	for _, c := range []struct{ name, json, msg string }{
		{"null", file("null"), "precompiled_charsmap"},
		{"missing", `{"normalizer": {"type": "Precompiled"}, ` + model + `}`, "precompiled_charsmap"},
		{"number", file("3"), "Precompiled"},
		{"empty", file(`""`), "0 bytes"},
		{"short", file(b64([]byte{1, 2, 3})), "3 bytes"},
		{"not base64", file(`"!!!!"`), "illegal base64"},
		{"no padding", file(`"AAAAAA"`), "illegal base64"},
		{"line break", file(`"AAAA\nAAAA"`), "line breaks"},
		{"trie longer than data", file(b64(charsmap(12, []uint32{0, 0}, ""))), "trie of 12 bytes in 8"},
		{"huge trie size", file(b64(charsmap(0xFFFFFFFF, []uint32{0}, ""))), "trie of 4294967295 bytes"},
		{"strings not UTF-8", file(b64(charsmap(4, []uint32{0}, "a\xff\x00"))), "not UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.json))
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrFormat), "%v", err)
			require.Contains(t, err.Error(), c.msg)
		})
	}
	// A trie size that is not a multiple of 4 leaves the extra bytes to
	// the strings, as the Rust parser does.
	p, err := parsePrecompiled(charsmap(6, []uint32{0}, "ab"))
	require.NoError(t, err)
	require.Len(t, p.units, 1)
	require.Equal(t, "ab", p.strs)
}

// TestPrecompiledMalformedTrie: units and values that point outside the
// arrays or into a character are lookups that do not match.
func TestPrecompiledMalformedTrie(t *testing.T) {
	// Root base 0; 'a' (0x61) at unit 0x61 with leaf, value at 0x61^off.
	leaf := func(label byte, off uint32) uint32 { return off<<10 | 1<<8 | uint32(label) }
	val := func(v uint32) uint32 { return 1<<31 | v }
	units := make([]uint32, 256)
	units['a'] = leaf('a', 1)      // value at 0x60
	units[0x60] = val(0)           // "xy"
	units['b'] = leaf('b', 0x1000) // value far outside
	units['c'] = leaf('c', 0x62^0x70)
	units[0x70] = val(100) // value past the strings
	units['d'] = leaf('d', 0x64^0x71)
	units[0x71] = val(4) // middle of "é"
	units['e'] = 0x3FFFFF<<10 | uint32('e')
	units['f'] = leaf('f', 0x66^0x72)
	units[0x72] = val(6) // the end: the empty string
	p, err := parsePrecompiled(charsmap(4*256, units, "xy\x00\xc3\xa9\x00"))
	require.NoError(t, err)
	for _, c := range []struct {
		key, want string
		ok        bool
	}{
		{"a", "xy", true}, {"ab", "xy", true}, {"b", "", false}, {"c", "", false}, {"d", "", false},
		{"e", "", false}, {"ee", "", false}, {"f", "", true}, {"\x00a", "", false}, {"", "", false},
	} {
		got, ok := p.lookup(c.key)
		require.Equal(t, c.ok, ok, "key %q", c.key)
		require.Equal(t, c.want, got, "key %q", c.key)
	}
	// No units at all: nothing matches.
	p, err = parsePrecompiled(charsmap(0, nil, "abc"))
	require.NoError(t, err)
	n := newNormStr("abc", 0, 3)
	p.normalize(n)
	require.Equal(t, "abc", n.s)
}

// FuzzPrecompiled: any charsmap either fails to load or normalizes any
// text without panicking, into valid UTF-8 with consistent alignments.
func FuzzPrecompiled(f *testing.F) {
	if b, err := readGzErr(filepath.Join("testdata", "precompiled_probe.charsmap.gz")); err == nil {
		f.Add(b, "x\u0301 qw ﬁ 👍🏽 ｶﾞ")
	}
	f.Add(charsmap(8, []uint32{1 << 10, 0}, "a\x00"), "abc")
	f.Add(charsmap(1024, make([]uint32, 256), ""), "")
	f.Fuzz(func(t *testing.T, cm []byte, text string) {
		p, err := parsePrecompiled(cm)
		if err != nil {
			return
		}
		n := newNormStr(text, 0, len(text))
		p.normalize(n)
		if !utf8.ValidString(n.s) {
			t.Fatalf("invalid UTF-8 %q", n.s)
		}
		checkAlign(t, n)
		for _, a := range n.align {
			if a[0] < 0 || a[1] > len(text) || a[0] > a[1] {
				t.Fatalf("alignment %v outside [0, %d]", a, len(text))
			}
		}
	})
}

// TestPrecompiledCorruptCharsmaps is a deterministic stand-in for the
// fuzzer: the probe charsmap with random units and bytes overwritten (so
// offsets, labels and values point anywhere), each normalizing random
// text without a panic and with alignments inside the input.
func TestPrecompiledCorruptCharsmaps(t *testing.T) {
	good, err := readGzErr(filepath.Join("testdata", "precompiled_probe.charsmap.gz"))
	if err != nil {
		t.Skip("no probe charsmap:", err)
	}
	pieces := []string{"a", "e", "x\u0301", "q", "w", "ﬁ", "™", "\u001e", "k", "가", "\u1100", "🇫", "👍", "\u200d", "❤",
		"क", "\u094d", "ｶ", "ﾞ", "\u0600", "\r\n", "\r", "y", "z", "t", "ẞ", "\u3000", "\u00a0", "s", "\u0308", "n\u0303", "\u00a9", " ", "\x00"}
	seed := uint32(1)
	rnd := func(n int) int {
		seed = seed*1664525 + 1013904223
		return int(seed>>8) % n
	}
	iters := 3000
	if testing.Short() {
		iters = 500
	}
	for it := 0; it < iters; it++ {
		cm := append([]byte(nil), good...)
		for k := rnd(6) + 1; k > 0; k-- {
			switch rnd(3) {
			case 0: // a random unit anywhere
				i := 4 + 4*rnd((len(cm)-4)/4)
				binary.LittleEndian.PutUint32(cm[i:], uint32(rnd(1<<30))<<2|uint32(rnd(4)))
			case 1: // a random byte
				cm[rnd(len(cm))] = byte(rnd(256))
			case 2: // keep the label, change offset/leaf bits
				i := 4 + 4*rnd((len(cm)-4)/4)
				u := binary.LittleEndian.Uint32(cm[i:])
				binary.LittleEndian.PutUint32(cm[i:], u&0xFF|uint32(rnd(1<<23))<<9)
			}
		}
		p, err := parsePrecompiled(cm)
		if err != nil {
			continue
		}
		var b strings.Builder
		for k := rnd(10); k >= 0; k-- {
			b.WriteString(pieces[rnd(len(pieces))])
		}
		text := b.String()
		n := newNormStr(text, 0, len(text))
		p.normalize(n)
		require.True(t, utf8.ValidString(n.s))
		checkAlign(t, n)
		for _, a := range n.align {
			require.True(t, a[0] >= 0 && a[0] <= a[1] && a[1] <= len(text), "alignment %v for %q", a, text)
		}
	}
}

// TestGraphemeICU compares graphemeLen with ICU's extended grapheme
// clusters (node's Intl.Segmenter, recorded by gen_precompiled.js) on
// random strings over every break class.
func TestGraphemeICU(t *testing.T) {
	file := filepath.Join("testdata", "precompiled_ref.json.gz")
	if _, err := os.Stat(file); err != nil {
		t.Skipf("no fixture %s", file)
	}
	var ref struct {
		Graphemes struct {
			Unicode string `json:"unicode"`
			Cases   []struct {
				S    string `json:"s"`
				Lens []int  `json:"lens"`
			} `json:"cases"`
		} `json:"graphemes"`
	}
	require.NoError(t, jsonUnmarshalGz(t, file, &ref))
	require.NotEmpty(t, ref.Graphemes.Cases)
	fails := 0
	for _, c := range ref.Graphemes.Cases {
		var got []int
		for s := c.S; s != ""; {
			n := graphemeLen(s)
			got = append(got, n)
			s = s[n:]
		}
		if fmt.Sprint(got) != fmt.Sprint(c.Lens) {
			fails++
			if fails <= 5 {
				t.Errorf("%+q: clusters %v, ICU %v", c.S, got, c.Lens)
			}
		}
	}
	t.Logf("%d strings, %d differ from ICU (Unicode %s)", len(ref.Graphemes.Cases), fails, ref.Graphemes.Unicode)
}

// t5Tokenizer loads the T5-style fixture with SentencePiece's nmt_nfkc
// charsmap, or skips.
func t5Tokenizer(tb testing.TB) *Tokenizer {
	tb.Helper()
	file := filepath.Join("testdata", "precompiled_ref.json.gz")
	b, err := readGzErr(file)
	if err != nil {
		tb.Skipf("no fixture %s", file)
	}
	cm, err := readGzErr(filepath.Join("testdata", charsmapFiles["nmt_nfkc"]))
	if err != nil {
		tb.Skip("no nmt_nfkc charsmap")
	}
	var ref precompiledRef
	if err := json.Unmarshal(b, &ref); err != nil {
		tb.Fatal(err)
	}
	js := strings.ReplaceAll(string(ref.Tokenizers["t5_nmt_nfkc"]), `"@nmt_nfkc"`, strconv.Quote(base64.StdEncoding.EncodeToString(cm)))
	tk, err := Read(strings.NewReader(js))
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}

// BenchmarkPrecompiled: the nmt_nfkc normalizer alone and a whole T5-style
// encode, over the repository's Go source (mostly ASCII) and over mixed
// Unicode text.
func BenchmarkPrecompiled(b *testing.B) {
	tk := t5Tokenizer(b)
	p := tk.normalizer.(*sequenceNorm).list[0].(*precompiledNorm)
	mixed := strings.Repeat("ＡＢＣ ﬁ café e\u0301 中文字符 한국어 👍🏽 ｶﾞ ① ™ ภาษาไทย मनुष्य  مرحبا \t\n", 200)
	for _, c := range []struct {
		name  string
		texts []string
	}{{"text=gosource", goSourceCorpus(b, 1<<20)}, {"text=mixed", []string{mixed}}} {
		n := 0
		for _, s := range c.texts {
			n += len(s)
		}
		b.Run("stage=normalize/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				for _, s := range c.texts {
					p.normalize(newNormStr(s, 0, len(s)))
				}
			}
		})
		b.Run("stage=encode/"+c.name, func(b *testing.B) { benchEncode(b, tk, c.texts) })
	}
}
