package tokenizer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// FromGPT2Files builds GPT-2's tokenizer from OpenAI's original pair of
// files: vocab.json (or encoder.json) and merges.txt (or vocab.bpe). It is
// the byte-level BPE the Hugging Face GPT-2 tokenizer.json describes:
// ByteLevel pre-tokenizer without prefix space, ByteLevel decoder,
// ByteLevel post-processor that keeps offsets untrimmed, and <|endoftext|> as a special token when present.
func FromGPT2Files(vocabPath, mergesPath string) (*Tokenizer, error) {
	vf, err := os.Open(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer vf.Close()
	var vocab map[string]int
	if err := json.NewDecoder(io.LimitReader(vf, maxFileSize)).Decode(&vocab); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", vocabPath, ErrFormat, err)
	}
	mf, err := os.Open(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer mf.Close()
	var merges [][2]string
	sc := bufio.NewScanner(io.LimitReader(mf, maxFileSize))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if line == 1 && strings.HasPrefix(t, "#version") {
			continue
		}
		t = strings.TrimRight(t, "\r")
		if t == "" {
			continue
		}
		a, b, ok := strings.Cut(t, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("%s:%d: %w: merge %q is not two tokens", mergesPath, line, ErrFormat, t)
		}
		merges = append(merges, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", mergesPath, err)
	}
	m := &bpe{}
	if err := m.setVocab(vocab, merges); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	// As the hub's gpt2 tokenizer.json: offsets are not trimmed.
	pre := &byteLevel{AddPrefixSpace: false, TrimOffsets: true, UseRegex: true}
	post := &byteLevel{AddPrefixSpace: true, TrimOffsets: false, UseRegex: true}
	t := &Tokenizer{model: m, preTokenizer: pre, decoder: pre, postProcessor: post, added: newAddedVocab()}
	if _, ok := vocab["<|endoftext|>"]; ok {
		t.added.add([]AddedToken{{Content: "<|endoftext|>", Special: true}}, m, nil)
	}
	return t, nil
}
