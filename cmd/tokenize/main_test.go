package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// The expected ids, offsets and text come from the Rust tokenizers
// library's encodings in tokenizer/testdata (made by its gen.js).

type refCase struct {
	In         *string  `json:"in"`
	Pair       any      `json:"pair"`
	AddSpecial bool     `json:"add_special"`
	IDs        []int    `json:"ids"`
	Offsets    [][2]int `json:"offsets"` // characters
	DecodeSkip string   `json:"decode_skip"`
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture writes the bert_uncased tokenizer.json into a model folder and
// returns it with the reference cases that are single lines.
func fixture(t *testing.T) (string, []refCase) {
	td := filepath.Join("..", "..", "tokenizer", "testdata")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), gunzip(t, filepath.Join(td, "bert_uncased.tokenizer.json.gz")), 0o644); err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []refCase `json:"cases"`
	}
	if err := json.Unmarshal(gunzip(t, filepath.Join(td, "bert_uncased.cases.json.gz")), &ref); err != nil {
		t.Fatal(err)
	}
	var out []refCase
	for _, c := range ref.Cases {
		if c.In != nil && c.Pair == nil && !strings.ContainsAny(*c.In, "\r\n") {
			out = append(out, c)
		}
	}
	return dir, out
}

func runCmd(args []string, stdin string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestEncodeDecode(t *testing.T) {
	dir, cases := fixture(t)
	for _, special := range []bool{true, false} {
		var in strings.Builder
		var want []refCase
		for _, c := range cases {
			if c.AddSpecial == special {
				in.WriteString(*c.In + "\n")
				want = append(want, c)
			}
		}
		args := []string{"-tokenizer", dir, "-offsets"}
		if !special {
			args = append(args, "-no-special")
		}
		code, out, errs := runCmd(args, in.String())
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d output lines, want %d", len(lines), len(want))
		}
		var decodeIn strings.Builder
		for i, l := range lines {
			var got struct {
				IDs     []int    `json:"ids"`
				Offsets [][2]int `json:"offsets"`
			}
			if err := json.Unmarshal([]byte(l), &got); err != nil {
				t.Fatalf("line %d %q: %v", i, l, err)
			}
			text := *want[i].In
			// Reference offsets are in characters: convert to bytes.
			starts := []int{}
			for b := range text {
				starts = append(starts, b)
			}
			starts = append(starts, len(text))
			wantOff := make([][2]int, len(want[i].Offsets))
			for k, o := range want[i].Offsets {
				if o != [2]int{0, 0} || utf8.RuneCountInString(text) == 0 {
					wantOff[k] = [2]int{starts[o[0]], starts[o[1]]}
				}
			}
			if !equal(got.IDs, want[i].IDs) || (len(got.Offsets) > 0 || len(wantOff) > 0) && !equal2(got.Offsets, wantOff) {
				t.Errorf("line %d %q:\n got  %v %v\n want %v %v", i, text, got.IDs, got.Offsets, want[i].IDs, wantOff)
			}
			b, _ := json.Marshal(want[i].IDs)
			decodeIn.Write(append(b, '\n'))
		}
		code, out, errs = runCmd([]string{"-tokenizer", filepath.Join(dir, "tokenizer.json"), "-decode"}, decodeIn.String())
		if code != 0 {
			t.Fatalf("decode exit %d: %s", code, errs)
		}
		dl := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for i, c := range want {
			if i >= len(dl) || dl[i] != c.DecodeSkip {
				t.Errorf("decode line %d: got %q, want %q", i, dl[min(i, len(dl)-1)], c.DecodeSkip)
			}
		}
		// Plain output is the ids alone.
		pargs := []string{"-tokenizer", dir}
		if !special {
			pargs = append(pargs, "-no-special")
		}
		_, plain, _ := runCmd(pargs, *want[0].In+"\n")
		b, _ := json.Marshal(want[0].IDs)
		if strings.ReplaceAll(strings.TrimSpace(plain), " ", "") != string(b) {
			t.Errorf("plain output %q, want %s", plain, b)
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equal2(a, b [][2]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestErrors(t *testing.T) {
	dir, _ := fixture(t)
	empty := t.TempDir()
	bad := filepath.Join(t.TempDir(), "tokenizer.json")
	os.WriteFile(bad, []byte(`{"model": {"type": "Quantum"}}`), 0o644)
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		msg   string
	}{
		{"no tokenizer", nil, "", 2, "-tokenizer is required"},
		{"missing file", []string{"-tokenizer", "/nonexistent/tokenizer.json"}, "", 1, "no such file"},
		{"not a model folder", []string{"-tokenizer", empty}, "", 1, "no tokenizer.json"},
		{"unsupported type", []string{"-tokenizer", bad}, "", 1, `"Quantum"`},
		{"bad ids", []string{"-tokenizer", dir, "-decode"}, "[1, 2]\n[1, x]\n", 1, "line 2"},
		{"negative id", []string{"-tokenizer", dir, "-decode"}, "[-1]\n", 1, "negative id"},
		{"flag clash", []string{"-tokenizer", dir, "-decode", "-offsets"}, "", 2, "cannot be combined"},
		{"argument", []string{"-tokenizer", dir, "hello"}, "", 2, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCmd(tc.args, tc.stdin)
			if code != tc.code {
				t.Errorf("exit %d, want %d (%s)", code, tc.code, errs)
			}
			if !strings.Contains(errs, tc.msg) {
				t.Errorf("stderr %q does not mention %q", errs, tc.msg)
			}
			if lines := strings.Count(strings.TrimSuffix(errs, "\n"), "\n"); lines != 0 || strings.Contains(errs, "goroutine") {
				t.Errorf("stderr is not one line: %q", errs)
			}
		})
	}
}
