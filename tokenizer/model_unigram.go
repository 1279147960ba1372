package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// unigram is SentencePiece's unigram model: the segmentation with the
// highest total log-probability (Viterbi), unknown characters scored
// min_score - 10 and consecutive unknowns fused into one token.
type unigram struct {
	pieces   []string
	scores   []float64
	vocab    map[string]int
	unkID    int // -1 if none
	byteFB   bool
	minScore float64
	trie     *prefixTrie
}

const unkPenalty = 10.0

func init() {
	registerModel("Unigram", func(raw json.RawMessage) (model, error) { return newUnigram(raw) })
}

func newUnigram(raw json.RawMessage) (*unigram, error) {
	var j struct {
		UnkID  *int              `json:"unk_id"`
		Vocab  []json.RawMessage `json:"vocab"`
		ByteFB bool              `json:"byte_fallback"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	u := &unigram{vocab: make(map[string]int, len(j.Vocab)), unkID: -1, byteFB: j.ByteFB, minScore: math.Inf(1), trie: newPrefixTrie()}
	for i, r := range j.Vocab {
		var pair []json.RawMessage
		var s string
		var num json.Number
		if err := json.Unmarshal(r, &pair); err != nil || len(pair) != 2 ||
			json.Unmarshal(pair[0], &s) != nil || json.Unmarshal(pair[1], &num) != nil {
			return nil, fmt.Errorf("vocab entry %d is not [piece, score]", i)
		}
		f, err := serdeFloat(string(num))
		if err != nil {
			return nil, fmt.Errorf("vocab entry %d: %v", i, err)
		}
		u.pieces = append(u.pieces, s)
		u.scores = append(u.scores, f)
		u.vocab[s] = i
		u.minScore = math.Min(u.minScore, f)
		u.trie.insert(s, i)
	}
	if j.UnkID != nil {
		if *j.UnkID < 0 || *j.UnkID >= len(u.pieces) {
			return nil, fmt.Errorf("unk_id %d outside the vocabulary of %d", *j.UnkID, len(u.pieces))
		}
		u.unkID = *j.UnkID
	}
	if len(u.pieces) == 0 {
		u.minScore = 0
	}
	return u, nil
}

func (u *unigram) tokenToID(s string) (int, bool) { id, ok := u.vocab[s]; return id, ok }
func (u *unigram) idToToken(id int) (string, bool) {
	if id < 0 || id >= len(u.pieces) {
		return "", false
	}
	return u.pieces[id], true
}
func (u *unigram) vocabSize() int { return len(u.pieces) }

func (u *unigram) tokenize(s string) ([]token, error) {
	if s == "" {
		return nil, nil
	}
	type node struct {
		id     int
		score  float64
		start  int
		filled bool
	}
	best := make([]node, len(s)+1)
	best[0].filled = true
	unkScore := u.minScore - unkPenalty
	for start := 0; start < len(s); {
		_, mb := utf8.DecodeRuneInString(s[start:])
		base := best[start].score
		single := false
		u.trie.prefixes(s[start:], func(n, id int) {
			end := start + n
			c := base + u.scores[id]
			if !best[end].filled || c > best[end].score {
				best[end] = node{id: id, score: c, start: start, filled: true}
			}
			if n == mb {
				single = true
			}
		})
		if !single {
			if u.unkID < 0 {
				return nil, fmt.Errorf("tokenizer: Unigram: no unk_id for an unknown character")
			}
			end := start + mb
			c := base + unkScore
			if !best[end].filled || c > best[end].score {
				best[end] = node{id: u.unkID, score: c, start: start, filled: true}
			}
		}
		start += mb
	}
	// Backtrack; consecutive unknowns fuse into one piece.
	var fused [][2]int
	prevUnk := false
	for end := len(s); end > 0; {
		n := best[end]
		isUnk := u.unkID >= 0 && n.id == u.unkID
		if isUnk && prevUnk {
			fused[len(fused)-1][0] = n.start
		} else {
			fused = append(fused, [2]int{n.start, end})
		}
		prevUnk = isUnk
		end = n.start
	}
	for i, j := 0, len(fused)-1; i < j; i, j = i+1, j-1 {
		fused[i], fused[j] = fused[j], fused[i]
	}
	out := make([]token, 0, len(fused))
	for _, p := range fused {
		str := s[p[0]:p[1]]
		id, ok := u.vocab[str]
		if !ok {
			if u.byteFB {
				all := true
				for k := 0; k < len(str); k++ {
					if _, ok := u.vocab[fmt.Sprintf("<0x%02X>", str[k])]; !ok {
						all = false
						break
					}
				}
				if all {
					for k := 0; k < len(str); k++ {
						bs := fmt.Sprintf("<0x%02X>", str[k])
						out = append(out, token{id: u.vocab[bs], value: bs, off: p})
					}
					continue
				}
			}
			if u.unkID < 0 {
				return nil, fmt.Errorf("tokenizer: Unigram: no unk_id for %q", str)
			}
			id = u.unkID
		}
		out = append(out, token{id: id, value: str, off: p})
	}
	return out, nil
}

// prefixTrie finds every vocabulary piece that is a prefix of a string.
type prefixTrie struct {
	nodes []trieNode
}

type trieNode struct {
	next map[byte]int32
	id   int32 // -1 if no piece ends here
}

func newPrefixTrie() *prefixTrie {
	return &prefixTrie{nodes: []trieNode{{id: -1}}}
}

func (t *prefixTrie) insert(s string, id int) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		nx, ok := t.nodes[n].next[c]
		if !ok {
			if t.nodes[n].next == nil {
				t.nodes[n].next = map[byte]int32{}
			}
			nx = int32(len(t.nodes))
			t.nodes[n].next[c] = nx
			t.nodes = append(t.nodes, trieNode{id: -1})
		}
		n = int(nx)
	}
	t.nodes[n].id = int32(id)
}

// prefixes calls f(length, id) for each piece that prefixes s, shortest
// first.
func (t *prefixTrie) prefixes(s string, f func(n, id int)) {
	n := 0
	for i := 0; i < len(s); i++ {
		nx, ok := t.nodes[n].next[s[i]]
		if !ok {
			return
		}
		n = int(nx)
		if id := t.nodes[n].id; id >= 0 {
			f(i+1, int(id))
		}
	}
}
