// Command tokenize encodes text with a Hugging Face tokenizer.json, or
// decodes ids back to text, one line at a time.
//
//	tokenize -tokenizer tokenizer.json < texts.txt        # one JSON array of ids per line
//	tokenize -tokenizer MODEL_DIR -offsets < texts.txt    # {"ids": [...], "offsets": [[start, end], ...]}
//	tokenize -tokenizer MODEL_DIR -decode < ids.jsonl     # text per line
//
// -tokenizer takes a tokenizer.json file or a model folder holding one (or,
// for GPT-2, vocab.json + merges.txt / encoder.json + vocab.bpe). Special
// tokens are added as the library's encode does by default (-no-special
// leaves them out); decoding skips special tokens unless -keep-special.
// Offsets are UTF-8 byte ranges of the input line. A line's trailing "\n"
// or "\r\n" is not part of the text.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/adjoint-go/adjoint/tokenizer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	path        string
	noSpecial   bool
	offsets     bool
	decode      bool
	keepSpecial bool
	progress    int
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.path, "tokenizer", "", "tokenizer.json file or model folder (required)")
	fs.BoolVar(&o.noSpecial, "no-special", false, "do not add the post-processor's special tokens")
	fs.BoolVar(&o.offsets, "offsets", false, `print {"ids": [...], "offsets": [[start, end], ...]} (UTF-8 bytes)`)
	fs.BoolVar(&o.decode, "decode", false, "read JSON arrays of ids and print the decoded text")
	fs.BoolVar(&o.keepSpecial, "keep-special", false, "with -decode: keep special tokens")
	fs.IntVar(&o.progress, "progress", 100000, "report progress on stderr every this many lines (0: never)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "tokenize: "+format+"\n", a...)
		return 1
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "tokenize: unexpected argument %q (texts come from standard input)\n", fs.Arg(0))
		return 2
	case o.path == "":
		fmt.Fprintln(stderr, "tokenize: -tokenizer is required (a tokenizer.json file or a model folder)")
		return 2
	case o.decode && (o.offsets || o.noSpecial):
		fmt.Fprintln(stderr, "tokenize: -decode cannot be combined with -offsets or -no-special")
		return 2
	case o.keepSpecial && !o.decode:
		fmt.Fprintln(stderr, "tokenize: -keep-special only applies to -decode")
		return 2
	case o.progress < 0:
		fmt.Fprintf(stderr, "tokenize: -progress %d must be >= 0\n", o.progress)
		return 2
	}
	tk, err := load(o.path)
	if err != nil {
		return fail("%v", err)
	}
	out := bufio.NewWriterSize(stdout, 1<<16)
	in := bufio.NewReaderSize(stdin, 1<<16)
	var buf []byte
	for n := 1; ; n++ {
		line, err := in.ReadString('\n')
		if err != nil && err != io.EOF {
			return fail("reading standard input: %v", err)
		}
		if line == "" && err == io.EOF {
			break
		}
		text := trimEOL(line)
		buf = buf[:0]
		if o.decode {
			var ids []int
			if e := json.Unmarshal([]byte(text), &ids); e != nil {
				return fail("line %d: not a JSON array of ids: %v", n, e)
			}
			for _, id := range ids {
				if id < 0 {
					return fail("line %d: negative id %d", n, id)
				}
			}
			s, e := tk.Decode(ids, !o.keepSpecial)
			if e != nil {
				return fail("line %d: %v", n, e)
			}
			buf = append(append(buf, s...), '\n')
		} else {
			enc, e := tk.Encode(text, !o.noSpecial)
			if e != nil {
				return fail("line %d: %v", n, e)
			}
			buf = appendEncoding(buf, enc, o.offsets)
		}
		if _, e := out.Write(buf); e != nil {
			return fail("writing: %v", e)
		}
		if o.progress > 0 && n%o.progress == 0 {
			fmt.Fprintf(stderr, "tokenize: %d lines\n", n)
		}
		if err == io.EOF {
			break
		}
	}
	if err := out.Flush(); err != nil {
		return fail("writing: %v", err)
	}
	return 0
}

func trimEOL(s string) string {
	if len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
		if len(s) > 0 && s[len(s)-1] == '\r' {
			s = s[:len(s)-1]
		}
	}
	return s
}

// load opens a tokenizer.json, or a folder with one, or GPT-2's pair of
// files in a folder.
func load(path string) (*tokenizer.Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return tokenizer.FromFile(path)
	}
	if _, err := os.Stat(filepath.Join(path, "tokenizer.json")); err == nil {
		return tokenizer.FromFile(filepath.Join(path, "tokenizer.json"))
	}
	for _, p := range [][2]string{{"vocab.json", "merges.txt"}, {"encoder.json", "vocab.bpe"}} {
		v, m := filepath.Join(path, p[0]), filepath.Join(path, p[1])
		if _, err := os.Stat(v); err != nil {
			continue
		}
		if _, err := os.Stat(m); err != nil {
			continue
		}
		return tokenizer.FromGPT2Files(v, m)
	}
	return nil, fmt.Errorf("%s: no tokenizer.json (nor vocab.json + merges.txt) in this folder", path)
}

func appendInts(b []byte, v []int) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

func appendEncoding(b []byte, e *tokenizer.Encoding, offsets bool) []byte {
	if !offsets {
		return append(appendInts(b, e.IDs), '\n')
	}
	b = append(b, `{"ids": `...)
	b = appendInts(b, e.IDs)
	b = append(b, `, "offsets": [`...)
	for i, o := range e.Offsets {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(o[0]), 10)
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(o[1]), 10)
		b = append(b, ']')
	}
	return append(b, "]}\n"...)
}
