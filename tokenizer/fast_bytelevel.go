package tokenizer

// encodeByteLevelBPE is the GPT-2 pipeline (no normalizer, the ByteLevel
// pre-tokenizer with its split rule, BPE) without building normalised
// strings: each piece's byte stand-ins go into a reused buffer, and
// offsets are mapped back by walking the piece's bytes. It computes what
// the general path does (the parity tests run through here); ok is false
// when the tokenizer or the text needs the general path.
func (tk *Tokenizer) encodeByteLevelBPE(p *pretok, charOffsets bool, text string) (e *Encoding, ok bool, err error) {
	bl, isBL := tk.preTokenizer.(*byteLevel)
	m, isBPE := tk.model.(*bpe)
	if !isBL || !isBPE || !bl.UseRegex || tk.normalizer != nil || noFastPaths {
		return nil, false, nil
	}
	for i := range p.splits {
		if !p.splits[i].done && p.splits[i].n.align != nil {
			return nil, false, nil
		}
	}
	e = &Encoding{}
	n := len(text)/3 + 4
	e.IDs = make([]int, 0, n)
	e.Tokens = make([]string, 0, n)
	e.Offsets = make([][2]int, 0, n)
	var buf []byte
	var pieces [][2]int
	for i := range p.splits {
		sp := &p.splits[i]
		if sp.done {
			for _, t := range sp.toks {
				e.IDs = append(e.IDs, t.id)
				e.Tokens = append(e.Tokens, t.value)
				e.Offsets = append(e.Offsets, sp.n.origRange(t.off[0], t.off[1]))
			}
			continue
		}
		s, base := sp.n.s, sp.n.off
		v, pre := s, 0
		if bl.AddPrefixSpace && s[0] != ' ' {
			v, pre = " "+s, 1
		}
		// Original range of byte vi of v (the prefix space maps to the
		// first character, as Rust's prepend aligns it).
		startOf := func(vi int) int {
			if vi < pre {
				return base
			}
			return base + charStart(s, vi-pre)
		}
		endOf := func(vi int) int {
			if vi < pre {
				return base + charEnd(s, 0)
			}
			return base + charEnd(s, vi-pre)
		}
		pieces = gpt2Split(v, pieces[:0])
		for _, pc := range pieces {
			buf = buf[:0]
			for k := pc[0]; k < pc[1]; k++ {
				buf = append(buf, byteCharStr[v[k]]...)
			}
			toks, err := m.tokenizeBytes(buf)
			if err != nil {
				return nil, true, err
			}
			pos := pc[0]
			for _, t := range toks {
				start := pos
				for consumed := 0; consumed < t.off[1]-t.off[0] && pos < pc[1]; pos++ {
					consumed += len(byteCharStr[v[pos]])
				}
				e.IDs = append(e.IDs, t.id)
				e.Tokens = append(e.Tokens, t.value)
				if pos > start {
					e.Offsets = append(e.Offsets, [2]int{startOf(start), endOf(pos - 1)})
				} else {
					e.Offsets = append(e.Offsets, [2]int{startOf(start), startOf(start)})
				}
			}
		}
	}
	if charOffsets {
		toCharOffsets(text, e.Offsets)
	}
	return e, true, nil
}
