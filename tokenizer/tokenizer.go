package tokenizer

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Tokenizer turns text into token ids and back, as the Hugging Face
// tokenizers library does with the same tokenizer.json. A Tokenizer is safe
// for concurrent use once loaded, except for the setters, which must not run
// concurrently with encoding.
type Tokenizer struct {
	normalizer    normalizer
	preTokenizer  preTokenizer
	model         model
	postProcessor postProcessor
	decoder       decoder
	added         *addedVocab

	truncation *Truncation
	padding    *Padding
}

// Encoding is the result of encoding one text (or a pair of texts).
type Encoding struct {
	IDs               []int
	TypeIDs           []int
	AttentionMask     []int
	SpecialTokensMask []int
	// Offsets are UTF-8 byte ranges of the input each token came from
	// ([0, 0] for tokens the post-processor or padding added). For a pair,
	// the second text's offsets are relative to the second text.
	Offsets [][2]int
	Tokens  []string
}

// Len is the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

// TruncationStrategy says which text of a pair loses tokens first.
type TruncationStrategy string

// Truncation strategies, as the Rust library names them.
const (
	LongestFirst TruncationStrategy = "LongestFirst"
	OnlyFirst    TruncationStrategy = "OnlyFirst"
	OnlySecond   TruncationStrategy = "OnlySecond"
)

// Direction is the side truncation removes from or padding adds to.
type Direction string

// Directions.
const (
	Right Direction = "Right"
	Left  Direction = "Left"
)

// Truncation limits the number of tokens, special tokens included.
type Truncation struct {
	MaxLength int
	Strategy  TruncationStrategy // zero value: LongestFirst
	Direction Direction          // zero value: Right
	Stride    int                // kept for the JSON; overflowing pieces are not returned
}

// Padding pads encodings to a fixed length or to the longest of a batch.
type Padding struct {
	// Length pads to a fixed length; 0 pads a batch to its longest encoding.
	Length          int
	Direction       Direction // zero value: Right
	PadToMultipleOf int
	PadID           int
	PadTypeID       int
	PadToken        string
}

// Sentinel errors wrapped by the errors this package returns.
var (
	// ErrUnsupported marks a tokenizer.json component this package does
	// not implement; the message names it.
	ErrUnsupported = errors.New("tokenizer: unsupported")
	// ErrFormat marks a malformed file.
	ErrFormat = errors.New("tokenizer: malformed")
	// ErrTruncation marks a truncation that cannot be done (OnlySecond
	// without a pair, or a text too short for the removal needed).
	ErrTruncation = errors.New("tokenizer: truncation error")
)

// SetTruncation sets (t non-nil) or disables (nil) truncation.
// It panics if t.MaxLength or t.Stride is negative or the strategy or
// direction is not one of the constants.
func (tk *Tokenizer) SetTruncation(t *Truncation) {
	if t != nil {
		c := *t
		if c.MaxLength < 0 || c.Stride < 0 {
			panic(fmt.Sprintf("tokenizer: SetTruncation: MaxLength %d, Stride %d must be >= 0", c.MaxLength, c.Stride))
		}
		if c.Strategy == "" {
			c.Strategy = LongestFirst
		}
		if c.Direction == "" {
			c.Direction = Right
		}
		if c.Strategy != LongestFirst && c.Strategy != OnlyFirst && c.Strategy != OnlySecond {
			panic(fmt.Sprintf("tokenizer: SetTruncation: unknown strategy %q", c.Strategy))
		}
		if c.Direction != Left && c.Direction != Right {
			panic(fmt.Sprintf("tokenizer: SetTruncation: unknown direction %q", c.Direction))
		}
		t = &c
	}
	tk.truncation = t
}

// Truncation returns a copy of the truncation settings, or nil.
func (tk *Tokenizer) Truncation() *Truncation {
	if tk.truncation == nil {
		return nil
	}
	c := *tk.truncation
	return &c
}

// SetPadding sets (p non-nil) or disables (nil) padding.
// It panics if a length is negative or the direction unknown.
func (tk *Tokenizer) SetPadding(p *Padding) {
	if p != nil {
		c := *p
		if c.Length < 0 || c.PadToMultipleOf < 0 {
			panic(fmt.Sprintf("tokenizer: SetPadding: Length %d, PadToMultipleOf %d must be >= 0", c.Length, c.PadToMultipleOf))
		}
		if c.Direction == "" {
			c.Direction = Right
		}
		if c.Direction != Left && c.Direction != Right {
			panic(fmt.Sprintf("tokenizer: SetPadding: unknown direction %q", c.Direction))
		}
		p = &c
	}
	tk.padding = p
}

// Padding returns a copy of the padding settings, or nil.
func (tk *Tokenizer) Padding() *Padding {
	if tk.padding == nil {
		return nil
	}
	c := *tk.padding
	return &c
}

// VocabSize is the number of ids: the model's vocabulary and the added
// tokens (as the Rust get_vocab_size(true)).
func (tk *Tokenizer) VocabSize() int {
	n := tk.model.vocabSize()
	for id := range tk.added.byID {
		if id >= n {
			n = id + 1
		}
	}
	return n
}

// TokenToID returns the id of a token string (added tokens first).
func (tk *Tokenizer) TokenToID(tok string) (int, bool) {
	if id, ok := tk.added.byContent[tok]; ok {
		return id, true
	}
	return tk.model.tokenToID(tok)
}

// IDToToken returns the token string of an id (added tokens first).
func (tk *Tokenizer) IDToToken(id int) (string, bool) {
	if t, ok := tk.added.byID[id]; ok {
		return t.Content, true
	}
	return tk.model.idToToken(id)
}

// Encode encodes one text. With addSpecial the post-processor adds its
// special tokens ([CLS], <s>, ...). Truncation and padding apply as set.
// Bytes that are not valid UTF-8 are encoded as U+FFFD each, with offsets
// covering the one byte.
func (tk *Tokenizer) Encode(text string, addSpecial bool) (*Encoding, error) {
	e, err := tk.encodeSeq(text, 0, false)
	if err != nil {
		return nil, err
	}
	return tk.postProcess(e, nil, addSpecial)
}

// EncodePair encodes a pair of texts (type id 1 for the second, where the
// post-processor uses type ids).
func (tk *Tokenizer) EncodePair(a, b string, addSpecial bool) (*Encoding, error) {
	return tk.encodePair(a, b, addSpecial, false)
}

// encodePair with charOffsets reports offsets in characters, converted
// before post-processing as the Rust encode_char_offsets does (the
// bindings for other languages return those).
func (tk *Tokenizer) encodePair(a, b string, addSpecial, charOffsets bool) (*Encoding, error) {
	ea, err := tk.encodeSeq(a, 0, charOffsets)
	if err != nil {
		return nil, err
	}
	eb, err := tk.encodeSeq(b, 1, charOffsets)
	if err != nil {
		return nil, err
	}
	return tk.postProcess(ea, eb, addSpecial)
}

// encodeChars is Encode with character offsets (see encodePair).
func (tk *Tokenizer) encodeChars(text string, addSpecial bool) (*Encoding, error) {
	e, err := tk.encodeSeq(text, 0, true)
	if err != nil {
		return nil, err
	}
	return tk.postProcess(e, nil, addSpecial)
}

// EncodeBatch encodes every text, in parallel on GOMAXPROCS goroutines;
// with batch padding (Padding.Length 0) all come out as long as the
// longest. The first error (by text index) is returned.
func (tk *Tokenizer) EncodeBatch(texts []string, addSpecial bool) ([]*Encoding, error) {
	return tk.encodeBatch(texts, addSpecial, false)
}

func (tk *Tokenizer) encodeBatch(texts []string, addSpecial, charOffsets bool) ([]*Encoding, error) {
	out := make([]*Encoding, len(texts))
	errs := make([]error, len(texts))
	// Texts are independent: encode them on GOMAXPROCS goroutines, each
	// taking the next text from a shared counter.
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(texts) {
				return
			}
			e, err := tk.encodeSeq(texts[i], 0, charOffsets)
			if err == nil {
				e, err = tk.postProcess(e, nil, addSpecial)
			}
			out[i], errs[i] = e, err
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
	}
	if tk.padding != nil {
		padEncodings(out, tk.padding)
	}
	return out, nil
}

// encodeSeq runs added-token extraction, normalisation, pre-tokenisation
// and the model over one text.
func (tk *Tokenizer) encodeSeq(text string, typeID int, charOffsets bool) (*Encoding, error) {
	e, ok, err := tk.encodeBert(text, charOffsets)
	var p *pretok
	if !ok && err == nil {
		p = tk.added.extractAndNormalize(text, tk.normalizer)
		e, ok, err = tk.encodeByteLevelBPE(p, charOffsets, text)
	}
	if ok || err != nil {
		if err != nil {
			return nil, err
		}
		n := len(e.IDs)
		e.TypeIDs = fill(n, typeID)
		e.AttentionMask = fill(n, 1)
		e.SpecialTokensMask = fill(n, 0)
		return e, nil
	}
	if tk.preTokenizer != nil {
		if err := tk.preTokenizer.preTokenize(p); err != nil {
			return nil, err
		}
	}
	e = &Encoding{}
	if k := len(text)/4 + 4; k > 16 {
		e.IDs = make([]int, 0, k)
		e.Tokens = make([]string, 0, k)
		e.Offsets = make([][2]int, 0, k)
	}
	for i := range p.splits {
		s := &p.splits[i]
		if !s.done {
			toks, err := tk.model.tokenize(s.n.s)
			if err != nil {
				return nil, err
			}
			s.toks = toks
		}
		for _, t := range s.toks {
			e.IDs = append(e.IDs, t.id)
			e.Tokens = append(e.Tokens, t.value)
			e.Offsets = append(e.Offsets, s.n.origRange(t.off[0], t.off[1]))
		}
	}
	if charOffsets {
		toCharOffsets(text, e.Offsets)
	}
	n := len(e.IDs)
	e.TypeIDs = fill(n, typeID)
	e.AttentionMask = fill(n, 1)
	e.SpecialTokensMask = fill(n, 0)
	return e, nil
}

// toCharOffsets converts byte offsets into text to character offsets (an
// invalid byte counts as one character), as Rust's
// BytesToCharOffsetConverter.
func toCharOffsets(text string, offs [][2]int) {
	idx := make([]int, len(text))
	k := 0
	for i := 0; i < len(text); {
		_, size := utf8.DecodeRuneInString(text[i:])
		for j := 0; j < size; j++ {
			idx[i+j] = k
		}
		k++
		i += size
	}
	for i, o := range offs {
		if o[0] < 0 || o[0] >= len(text) {
			continue
		}
		s := idx[o[0]]
		var e int
		switch {
		case o[1] < len(text):
			e = idx[o[1]]
		case o[1] >= 1 && o[1]-1 < len(text):
			e = idx[o[1]-1] + 1
		default:
			e = s + 1
		}
		offs[i] = [2]int{s, e}
	}
}

func fill(n, v int) []int {
	s := make([]int, n)
	if v != 0 {
		for i := range s {
			s[i] = v
		}
	}
	return s
}

func (tk *Tokenizer) postProcess(a, b *Encoding, addSpecial bool) (*Encoding, error) {
	if tr := tk.truncation; tr != nil {
		t := *tr
		if addSpecial && tk.postProcessor != nil {
			if n := tk.postProcessor.addedTokens(b != nil); n > 0 {
				t.MaxLength -= n
				if t.MaxLength < 0 {
					return nil, fmt.Errorf("%w: max length %d is smaller than the %d special tokens", ErrTruncation, tr.MaxLength, n)
				}
			}
		}
		if err := truncateEncodings(a, b, &t); err != nil {
			return nil, err
		}
	}
	es := []*Encoding{a}
	if b != nil {
		es = append(es, b)
	}
	if tk.postProcessor != nil {
		es = tk.postProcessor.process(es, addSpecial)
	}
	e := es[0]
	if len(es) > 1 {
		e = merge(es...)
	}
	if tk.padding != nil {
		padEncodings([]*Encoding{e}, tk.padding)
	}
	return e, nil
}

// merge concatenates encodings.
func merge(es ...*Encoding) *Encoding {
	out := &Encoding{}
	for _, e := range es {
		if e == nil {
			continue
		}
		out.IDs = append(out.IDs, e.IDs...)
		out.TypeIDs = append(out.TypeIDs, e.TypeIDs...)
		out.AttentionMask = append(out.AttentionMask, e.AttentionMask...)
		out.SpecialTokensMask = append(out.SpecialTokensMask, e.SpecialTokensMask...)
		out.Offsets = append(out.Offsets, e.Offsets...)
		out.Tokens = append(out.Tokens, e.Tokens...)
	}
	return out
}

// specialEncoding is tokens a post-processor adds.
func specialEncoding(ids []int, toks []string, typeID int) *Encoding {
	n := len(ids)
	return &Encoding{IDs: ids, Tokens: toks, TypeIDs: fill(n, typeID), AttentionMask: fill(n, 1),
		SpecialTokensMask: fill(n, 1), Offsets: make([][2]int, n)}
}

func (e *Encoding) truncate(n int, dir Direction) {
	if n >= len(e.IDs) {
		return
	}
	a, b := 0, n
	if dir == Left {
		a, b = len(e.IDs)-n, len(e.IDs)
	}
	e.IDs = e.IDs[a:b]
	e.TypeIDs = e.TypeIDs[a:b]
	e.AttentionMask = e.AttentionMask[a:b]
	e.SpecialTokensMask = e.SpecialTokensMask[a:b]
	e.Offsets = e.Offsets[a:b]
	e.Tokens = e.Tokens[a:b]
}

func truncateEncodings(a, b *Encoding, t *Truncation) error {
	if t.MaxLength == 0 {
		a.truncate(0, t.Direction)
		if b != nil {
			b.truncate(0, t.Direction)
		}
		return nil
	}
	total := a.Len()
	if b != nil {
		total += b.Len()
	}
	if total <= t.MaxLength {
		return nil
	}
	toRemove := total - t.MaxLength
	switch t.Strategy {
	case OnlyFirst, OnlySecond:
		target := a
		if t.Strategy == OnlySecond {
			if b == nil {
				return fmt.Errorf("%w: OnlySecond needs a pair", ErrTruncation)
			}
			target = b
		}
		if target.Len() <= toRemove {
			return fmt.Errorf("%w: sequence of %d tokens too short to remove %d", ErrTruncation, target.Len(), toRemove)
		}
		target.truncate(target.Len()-toRemove, t.Direction)
	default:
		if b == nil {
			a.truncate(total-toRemove, t.Direction)
			return nil
		}
		n1, n2 := a.Len(), b.Len()
		swap := n1 > n2
		if swap {
			n1, n2 = n2, n1
		}
		if n1 > t.MaxLength {
			n2 = n1
		} else {
			n2 = max(n1, t.MaxLength-n1)
		}
		if n1+n2 > t.MaxLength {
			n1 = t.MaxLength / 2
			n2 = n1 + t.MaxLength%2
		}
		if swap {
			n1, n2 = n2, n1
		}
		a.truncate(n1, t.Direction)
		b.truncate(n2, t.Direction)
	}
	return nil
}

func padEncodings(es []*Encoding, p *Padding) {
	if len(es) == 0 {
		return
	}
	n := p.Length
	if n == 0 {
		for _, e := range es {
			n = max(n, e.Len())
		}
	}
	if m := p.PadToMultipleOf; m > 0 && n%m > 0 {
		n += m - n%m
	}
	for _, e := range es {
		k := n - e.Len()
		if k <= 0 {
			continue
		}
		pad := &Encoding{IDs: fill(k, p.PadID), TypeIDs: fill(k, p.PadTypeID), AttentionMask: fill(k, 0),
			SpecialTokensMask: fill(k, 1), Offsets: make([][2]int, k), Tokens: make([]string, k)}
		for i := range pad.Tokens {
			pad.Tokens[i] = p.PadToken
		}
		var m *Encoding
		if p.Direction == Left {
			m = merge(pad, e)
		} else {
			m = merge(e, pad)
		}
		*e = *m
	}
}

// Decode turns ids back into text. Unknown ids are skipped; with
// skipSpecial, special added tokens are too (as the Rust library).
func (tk *Tokenizer) Decode(ids []int, skipSpecial bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if t, ok := tk.added.byID[id]; ok {
			if skipSpecial && tk.added.special[t.Content] {
				continue
			}
			toks = append(toks, t.Content)
			continue
		}
		s, ok := tk.model.idToToken(id)
		if !ok {
			continue
		}
		if skipSpecial && tk.added.special[s] {
			continue
		}
		toks = append(toks, s)
	}
	if tk.decoder == nil {
		return strings.Join(toks, " "), nil
	}
	return strings.Join(tk.decoder.decodeChain(toks), ""), nil
}
