package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// bpe is the byte-pair-encoding model: characters (or byte stand-ins) are
// merged pairwise, lowest merge rank first, leftmost first on ties.
type bpe struct {
	vocab      map[string]int
	vocabR     []string // by id; "" where unused
	hasID      []bool
	merges     map[[2]int]mergeInfo
	unk        string
	hasUnk     bool
	prefix     string
	suffix     string
	fuseUnk    bool
	byteFB     bool
	ignoreMrg  bool
	byteTokens [256]int // id of "<0xAB>" or -1

	// cache holds the tokens of words seen before (at most bpeCacheMax
	// words, as the Rust library's cache); values are shared, read-only.
	mu    sync.RWMutex
	cache map[string][]token
}

type mergeInfo struct{ rank, id int }

const bpeCacheMax = 10000

func init() {
	registerModel("BPE", func(raw json.RawMessage) (model, error) { return newBPEFromJSON(raw) })
}

func newBPEFromJSON(raw json.RawMessage) (*bpe, error) {
	var j struct {
		Dropout   *float64          `json:"dropout"`
		Unk       *string           `json:"unk_token"`
		Prefix    *string           `json:"continuing_subword_prefix"`
		Suffix    *string           `json:"end_of_word_suffix"`
		FuseUnk   bool              `json:"fuse_unk"`
		ByteFB    bool              `json:"byte_fallback"`
		IgnoreMrg bool              `json:"ignore_merges"`
		Vocab     map[string]int    `json:"vocab"`
		Merges    []json.RawMessage `json:"merges"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if j.Dropout != nil && *j.Dropout != 0 {
		return nil, fmt.Errorf("%w: BPE dropout %v (only 0 or null)", ErrUnsupported, *j.Dropout)
	}
	merges := make([][2]string, 0, len(j.Merges))
	for i, m := range j.Merges {
		var s string
		if json.Unmarshal(m, &s) == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok {
				return nil, fmt.Errorf("merge %d %q is not two tokens", i, s)
			}
			merges = append(merges, [2]string{a, b})
			continue
		}
		var p []string
		if err := json.Unmarshal(m, &p); err != nil || len(p) != 2 {
			return nil, fmt.Errorf("merge %d is neither \"a b\" nor [a, b]", i)
		}
		merges = append(merges, [2]string{p[0], p[1]})
	}
	b := &bpe{fuseUnk: j.FuseUnk, byteFB: j.ByteFB, ignoreMrg: j.IgnoreMrg}
	if j.Unk != nil {
		b.unk, b.hasUnk = *j.Unk, true
	}
	if j.Prefix != nil {
		b.prefix = *j.Prefix
	}
	if j.Suffix != nil {
		b.suffix = *j.Suffix
	}
	if err := b.setVocab(j.Vocab, merges); err != nil {
		return nil, err
	}
	return b, nil
}

// maxID bounds ids so a file cannot make us allocate by a claim alone: an
// id may be at most a small multiple of the entries actually read.
func checkIDs(vocab map[string]int) (int, error) {
	mx := -1
	for s, id := range vocab {
		if id < 0 {
			return 0, fmt.Errorf("token %q has negative id %d", s, id)
		}
		mx = max(mx, id)
	}
	if mx >= 4*len(vocab)+1024 {
		return 0, fmt.Errorf("id %d is far beyond the %d tokens of the vocabulary", mx, len(vocab))
	}
	return mx, nil
}

func (b *bpe) setVocab(vocab map[string]int, merges [][2]string) error {
	mx, err := checkIDs(vocab)
	if err != nil {
		return err
	}
	b.vocab = vocab
	b.vocabR = make([]string, mx+1)
	b.hasID = make([]bool, mx+1)
	for s, id := range vocab {
		b.vocabR[id] = s
		b.hasID[id] = true
	}
	b.merges = make(map[[2]int]mergeInfo, len(merges))
	for i, m := range merges {
		ia, ok1 := vocab[m[0]]
		ib, ok2 := vocab[m[1]]
		if !ok1 || !ok2 {
			missing := m[0]
			if ok1 {
				missing = m[1]
			}
			return fmt.Errorf("merge %d: token %q not in the vocabulary", i, missing)
		}
		rest := m[1]
		if len(b.prefix) <= len(rest) {
			rest = rest[len(b.prefix):]
		} else {
			rest = ""
		}
		nid, ok := vocab[m[0]+rest]
		if !ok {
			return fmt.Errorf("merge %d: token %q not in the vocabulary", i, m[0]+rest)
		}
		b.merges[[2]int{ia, ib}] = mergeInfo{i, nid}
	}
	for i := range b.byteTokens {
		b.byteTokens[i] = -1
		if id, ok := vocab[fmt.Sprintf("<0x%02X>", i)]; ok {
			b.byteTokens[i] = id
		}
	}
	return nil
}

func (b *bpe) tokenToID(s string) (int, bool) { id, ok := b.vocab[s]; return id, ok }
func (b *bpe) idToToken(id int) (string, bool) {
	if id < 0 || id >= len(b.vocabR) || !b.hasID[id] {
		return "", false
	}
	return b.vocabR[id], true
}
func (b *bpe) vocabSize() int { return len(b.vocab) }

func (b *bpe) tokenize(s string) ([]token, error) {
	if s == "" {
		return nil, nil
	}
	return b.tokenizeBytes([]byte(s))
}

// tokenizeBytes is tokenize for a word in a reused buffer: a cache hit
// allocates nothing.
func (b *bpe) tokenizeBytes(w []byte) ([]token, error) {
	if len(w) == 0 {
		return nil, nil
	}
	if b.ignoreMrg {
		if id, ok := b.vocab[string(w)]; ok {
			return []token{{id: id, value: b.vocabR[id], off: [2]int{0, len(w)}}}, nil
		}
	}
	b.mu.RLock()
	toks, ok := b.cache[string(w)]
	b.mu.RUnlock()
	if ok {
		return toks, nil
	}
	s := string(w)
	toks, err := b.mergeWord(s)
	if err != nil {
		return nil, err
	}
	if len(s) < 256 {
		b.mu.Lock()
		if b.cache == nil {
			b.cache = make(map[string][]token)
		}
		if len(b.cache) < bpeCacheMax {
			b.cache[s] = toks
		}
		b.mu.Unlock()
	}
	return toks, nil
}

// symbol is a node of the doubly linked list a word is merged in.
type symbol struct {
	id, size   int
	prev, next int
}

func (b *bpe) mergeWord(w string) ([]token, error) {
	syms := make([]symbol, 0, len(w))
	add := func(id, size int) {
		n := len(syms)
		syms = append(syms, symbol{id: id, size: size, prev: n - 1, next: n + 1})
	}
	unkID, unkLen, haveUnk := 0, 0, false
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		end := i + size
		s := w[i:end]
		if i > 0 && b.prefix != "" {
			s = b.prefix + s
		}
		if end == len(w) && b.suffix != "" {
			s += b.suffix
		}
		if id, ok := b.vocab[s]; ok {
			if haveUnk {
				add(unkID, unkLen)
				haveUnk = false
			}
			add(id, size)
			i = end
			continue
		}
		if b.byteFB {
			all := true
			for k := 0; k < len(s); k++ {
				if b.byteTokens[s[k]] < 0 {
					all = false
					break
				}
			}
			if all {
				for k := 0; k < len(s); k++ {
					add(b.byteTokens[s[k]], 1)
				}
				i = end
				continue
			}
		}
		if b.hasUnk {
			uid, ok := b.vocab[b.unk]
			if !ok {
				return nil, fmt.Errorf("tokenizer: BPE: unk token %q not in the vocabulary", b.unk)
			}
			switch {
			case haveUnk && b.fuseUnk:
				unkLen += size
			case haveUnk:
				add(unkID, unkLen)
				unkID, unkLen = uid, size
			default:
				unkID, unkLen, haveUnk = uid, size, true
			}
		}
		i = end
	}
	if haveUnk {
		add(unkID, unkLen)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	b.mergeAll(syms)
	toks := make([]token, 0, len(syms))
	off := 0
	for i := 0; i >= 0 && i < len(syms); i = syms[i].next {
		sym := syms[i]
		toks = append(toks, token{id: sym.id, value: b.vocabR[sym.id], off: [2]int{off, off + sym.size}})
		off += sym.size
	}
	return toks, nil
}

type mergeCand struct{ rank, pos, id int }

// mergeAll applies merges with a binary heap ordered by (rank, position),
// as the Rust Word::merge_all, skipping entries made stale by earlier
// merges.
func (b *bpe) mergeAll(syms []symbol) {
	if len(syms) < 2 || len(b.merges) == 0 {
		return
	}
	h := make([]mergeCand, 0, len(syms))
	less := func(x, y mergeCand) bool { return x.rank < y.rank || (x.rank == y.rank && x.pos < y.pos) }
	push := func(c mergeCand) {
		h = append(h, c)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !less(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pop := func() mergeCand {
		top := h[0]
		n := len(h) - 1
		h[0] = h[n]
		h = h[:n]
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < n && less(h[l], h[m]) {
				m = l
			}
			if r < n && less(h[r], h[m]) {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
		return top
	}
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := b.merges[[2]int{syms[i].id, syms[i+1].id}]; ok {
			push(mergeCand{m.rank, i, m.id})
		}
	}
	for len(h) > 0 {
		top := pop()
		cur := &syms[top.pos]
		if cur.size == 0 || cur.next == -1 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		m, ok := b.merges[[2]int{cur.id, right.id}]
		if !ok || m.id != top.id {
			continue
		}
		cur.id = top.id
		cur.size += right.size
		cur.next = right.next
		syms[nextPos].size = 0
		if right.next >= 0 && right.next < len(syms) {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if m, ok := b.merges[[2]int{syms[cur.prev].id, cur.id}]; ok {
				push(mergeCand{m.rank, cur.prev, m.id})
			}
		}
		if cur.next >= 0 && cur.next < len(syms) {
			if m, ok := b.merges[[2]int{cur.id, syms[cur.next].id}]; ok {
				push(mergeCand{m.rank, top.pos, m.id})
			}
		}
	}
}
