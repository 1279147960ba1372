package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The pipeline's stages. Each implementation lives in its own file and
// registers a constructor for its tokenizer.json "type" in init.
type (
	normalizer interface {
		normalize(n *normStr)
	}
	preTokenizer interface {
		preTokenize(p *pretok) error
	}
	model interface {
		tokenize(s string) ([]token, error)
		tokenToID(s string) (int, bool)
		idToToken(id int) (string, bool)
		vocabSize() int
	}
	postProcessor interface {
		// addedTokens is the number of tokens process adds.
		addedTokens(pair bool) int
		// process adds special tokens to the encodings of a text or a
		// pair; the caller concatenates what it returns.
		process(es []*Encoding, addSpecial bool) []*Encoding
	}
	decoder interface {
		decodeChain(toks []string) []string
	}
)

type constructor[T any] func(raw json.RawMessage) (T, error)

var (
	normalizers    = map[string]constructor[normalizer]{}
	preTokenizers  = map[string]constructor[preTokenizer]{}
	models         = map[string]constructor[model]{}
	postProcessors = map[string]constructor[postProcessor]{}
	decoders       = map[string]constructor[decoder]{}
)

func registerNormalizer(name string, c constructor[normalizer])       { normalizers[name] = c }
func registerPreTokenizer(name string, c constructor[preTokenizer])   { preTokenizers[name] = c }
func registerModel(name string, c constructor[model])                 { models[name] = c }
func registerPostProcessor(name string, c constructor[postProcessor]) { postProcessors[name] = c }
func registerDecoder(name string, c constructor[decoder])             { decoders[name] = c }

// maxPadding bounds the padding length a file may ask for.
const maxPadding = 1 << 20

// maxFileSize bounds what Read accepts (the largest hub tokenizer.json
// files are around 20 MB).
const maxFileSize = 1 << 30

// FromFile loads a tokenizer.json file, or the tokenizer.json in a model
// folder.
func FromFile(path string) (*Tokenizer, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "tokenizer.json")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Read loads a tokenizer from tokenizer.json content (plain or gzipped).
// Unknown component types are errors naming the type (wrapping
// ErrUnsupported).
func Read(r io.Reader) (*Tokenizer, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: file larger than %d bytes", ErrFormat, maxFileSize)
	}
	return parse(data)
}

type fileJSON struct {
	Version       *string         `json:"version"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []AddedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	Model         json.RawMessage `json:"model"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

func parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if f.Version != nil && *f.Version != "1.0" {
		return nil, fmt.Errorf("%w: tokenizer.json version %q", ErrUnsupported, *f.Version)
	}
	t := &Tokenizer{added: newAddedVocab()}
	var err error
	if isNull(f.Model) {
		return nil, fmt.Errorf("%w: no model", ErrFormat)
	}
	if t.model, err = build("model", f.Model, models, true); err != nil {
		return nil, err
	}
	if t.normalizer, err = build("normalizer", f.Normalizer, normalizers, false); err != nil {
		return nil, err
	}
	if t.preTokenizer, err = build("pre_tokenizer", f.PreTokenizer, preTokenizers, false); err != nil {
		return nil, err
	}
	if t.postProcessor, err = build("post_processor", f.PostProcessor, postProcessors, false); err != nil {
		return nil, err
	}
	if t.decoder, err = build("decoder", f.Decoder, decoders, false); err != nil {
		return nil, err
	}
	if !isNull(f.Truncation) {
		tr, err := parseTruncation(f.Truncation)
		if err != nil {
			return nil, err
		}
		t.truncation = tr
	}
	if !isNull(f.Padding) {
		p, err := parsePadding(f.Padding)
		if err != nil {
			return nil, err
		}
		t.padding = p
	}
	t.added.add(f.AddedTokens, t.model, t.normalizer)
	return t, nil
}

// build parses one component; models may infer their type from fields.
func build[T any](what string, raw json.RawMessage, reg map[string]constructor[T], isModel bool) (T, error) {
	var zero T
	if isNull(raw) {
		return zero, nil
	}
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return zero, fmt.Errorf("%w: %s: %v", ErrFormat, what, err)
	}
	typ := ""
	if head.Type != nil {
		typ = *head.Type
	} else if isModel {
		typ = inferModelType(raw)
	}
	c, ok := reg[typ]
	if !ok {
		if typ == "" {
			return zero, fmt.Errorf("%w: %s without a type", ErrFormat, what)
		}
		return zero, fmt.Errorf("%w: %s type %q", ErrUnsupported, what, typ)
	}
	v, err := c(raw)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", what, typ, wrapFormat(err))
	}
	return v, nil
}

// wrapFormat marks plain errors from a constructor as format errors.
func wrapFormat(err error) error {
	if isWrapped(err) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrFormat, err)
}

func isWrapped(err error) bool {
	for e := err; e != nil; {
		if e == ErrFormat || e == ErrUnsupported {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// inferModelType guesses an untagged model as the Rust untagged enum does.
func inferModelType(raw json.RawMessage) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	if _, ok := m["merges"]; ok {
		return "BPE"
	}
	if _, ok := m["max_input_chars_per_word"]; ok {
		return "WordPiece"
	}
	if v, ok := m["vocab"]; ok && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '[' {
		return "Unigram"
	}
	if _, ok := m["vocab"]; ok {
		return "WordLevel"
	}
	return ""
}

func parseTruncation(raw json.RawMessage) (*Truncation, error) {
	var j struct {
		Direction string `json:"direction"`
		MaxLength int    `json:"max_length"`
		Strategy  string `json:"strategy"`
		Stride    int    `json:"stride"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%w: truncation: %v", ErrFormat, err)
	}
	t := &Truncation{MaxLength: j.MaxLength, Strategy: TruncationStrategy(j.Strategy), Direction: Direction(j.Direction), Stride: j.Stride}
	if t.Strategy == "" {
		t.Strategy = LongestFirst
	}
	if t.Direction == "" {
		t.Direction = Right
	}
	if t.MaxLength < 0 || t.Stride < 0 || (t.Strategy != LongestFirst && t.Strategy != OnlyFirst && t.Strategy != OnlySecond) ||
		(t.Direction != Left && t.Direction != Right) {
		return nil, fmt.Errorf("%w: truncation %+v", ErrFormat, *t)
	}
	return t, nil
}

func parsePadding(raw json.RawMessage) (*Padding, error) {
	var j struct {
		Strategy        json.RawMessage `json:"strategy"`
		Direction       string          `json:"direction"`
		PadToMultipleOf *int            `json:"pad_to_multiple_of"`
		PadID           int             `json:"pad_id"`
		PadTypeID       int             `json:"pad_type_id"`
		PadToken        string          `json:"pad_token"`
	}
	j.PadToken = "[PAD]"
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%w: padding: %v", ErrFormat, err)
	}
	p := &Padding{Direction: Direction(j.Direction), PadID: j.PadID, PadTypeID: j.PadTypeID, PadToken: j.PadToken}
	if j.PadToMultipleOf != nil {
		p.PadToMultipleOf = *j.PadToMultipleOf
	}
	if p.Direction == "" {
		p.Direction = Right
	}
	if !isNull(j.Strategy) {
		var s string
		if json.Unmarshal(j.Strategy, &s) == nil {
			if s != "BatchLongest" {
				return nil, fmt.Errorf("%w: padding strategy %q", ErrFormat, s)
			}
		} else {
			var fx struct {
				Fixed *int `json:"Fixed"`
			}
			if err := json.Unmarshal(j.Strategy, &fx); err != nil || fx.Fixed == nil {
				return nil, fmt.Errorf("%w: padding strategy %s", ErrFormat, j.Strategy)
			}
			p.Length = *fx.Fixed
		}
	}
	// A padding length is a claim that every encoding allocates: bound it.
	if p.Length < 0 || p.PadToMultipleOf < 0 || p.PadID < 0 || p.PadTypeID < 0 || (p.Direction != Left && p.Direction != Right) ||
		p.Length > maxPadding || p.PadToMultipleOf > maxPadding {
		return nil, fmt.Errorf("%w: padding %+v", ErrFormat, *p)
	}
	return p, nil
}

// subComponents parses a list of components (Sequence types).
func subComponents[T any](what string, raw json.RawMessage, reg map[string]constructor[T]) ([]T, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(list))
	for _, r := range list {
		v, err := build(what, r, reg, false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
