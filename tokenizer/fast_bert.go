package tokenizer

// noFastPaths makes tests run the general path only.
var noFastPaths bool

// encodeBert is the BERT pipeline (BertNormalizer, BertPreTokenizer,
// WordPiece) for text whose parts outside added tokens are printable
// ASCII, tab, newline or carriage return: there the normalizer only
// lowercases (nothing is removed, decomposed or spaced), so offsets are
// the byte positions, and words are looked up straight from a lowercased
// buffer. It computes what the general path does (the parity tests run
// through both); ok is false when the text or tokenizer needs the general
// path.
func (tk *Tokenizer) encodeBert(text string, charOffsets bool) (e *Encoding, ok bool, err error) {
	bn, isBN := tk.normalizer.(*bertNormalizer)
	_, isBP := tk.preTokenizer.(bertPre)
	wp, isWP := tk.model.(*wordPiece)
	if !isBN || !isBP || !isWP || tk.added.norm.any || text == "" || noFastPaths {
		return nil, false, nil
	}
	// Eligibility: every byte printable ASCII or \t \n \r (added tokens
	// included; they are rarely anything else).
	for i := 0; i < len(text); i++ {
		c := text[i]
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7F {
			return nil, false, nil
		}
	}
	whole := newNormStr(text, 0, len(text))
	splits := tk.added.splitAdded(whole, tk.added.raw)
	e = &Encoding{}
	if k := len(text)/4 + 4; k > 16 {
		e.IDs = make([]int, 0, k)
		e.Tokens = make([]string, 0, k)
		e.Offsets = make([][2]int, 0, k)
	}
	var low, buf []byte
	for i := range splits {
		sp := &splits[i]
		if sp.done {
			for _, t := range sp.toks {
				e.IDs = append(e.IDs, t.id)
				e.Tokens = append(e.Tokens, t.value)
				e.Offsets = append(e.Offsets, sp.n.origRange(t.off[0], t.off[1]))
			}
			continue
		}
		s, base := sp.n.s, sp.n.off
		low = append(low[:0], s...)
		if bn.Lowercase {
			for k, c := range low {
				if c >= 'A' && c <= 'Z' {
					low[k] = c + 32
				}
			}
		}
		start := -1
		for k := 0; k <= len(low); k++ {
			var c byte = ' '
			if k < len(low) {
				c = low[k]
			}
			sp := c == ' ' || c == '\t' || c == '\n' || c == '\r'
			if sp || isBertPunc(rune(c)) {
				if start >= 0 {
					if buf, err = wp.tokenizeASCII(low[start:k], base+start, e, buf); err != nil {
						return nil, true, err
					}
					start = -1
				}
				if !sp && k < len(low) {
					if buf, err = wp.tokenizeASCII(low[k:k+1], base+k, e, buf); err != nil {
						return nil, true, err
					}
				}
			} else if start < 0 {
				start = k
			}
		}
	}
	if charOffsets {
		toCharOffsets(text, e.Offsets)
	}
	return e, true, nil
}

// tokenizeASCII is tokenize for an ASCII word at input offset base,
// appending to e; buf is scratch space, returned for reuse.
func (w *wordPiece) tokenizeASCII(word []byte, base int, e *Encoding, buf []byte) ([]byte, error) {
	mark := len(e.IDs)
	unk := func() ([]byte, error) {
		id, ok := w.vocab[w.unk]
		if !ok {
			return buf, errMissingUnk(w.unk)
		}
		e.IDs, e.Tokens, e.Offsets = e.IDs[:mark], e.Tokens[:mark], e.Offsets[:mark]
		e.IDs = append(e.IDs, id)
		e.Tokens = append(e.Tokens, w.unk)
		e.Offsets = append(e.Offsets, [2]int{base, base + len(word)})
		return buf, nil
	}
	if len(word) > w.maxChars {
		return unk()
	}
	for start := 0; start < len(word); {
		end := len(word)
		found := false
		for start < end {
			var id int
			var ok bool
			if start > 0 {
				buf = append(append(buf[:0], w.prefix...), word[start:end]...)
				id, ok = w.vocab[string(buf)]
			} else {
				id, ok = w.vocab[string(word[start:end])]
			}
			if ok {
				e.IDs = append(e.IDs, id)
				e.Tokens = append(e.Tokens, w.vocabR[id])
				e.Offsets = append(e.Offsets, [2]int{base + start, base + end})
				found = true
				break
			}
			end--
		}
		if !found {
			return unk()
		}
		start = end
	}
	return buf, nil
}
