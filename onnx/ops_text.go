package onnx

import (
	"fmt"
	"strconv"
	"strings"
)

// Text ops: StringNormalizer and TfIdfVectorizer.

func init() {
	Register("", "StringNormalizer", 10, Latest, newStringNormalizer)
	Register("", "TfIdfVectorizer", 9, Latest, newTfIdf)
}

func newStringNormalizer(n *Node) (Kernel, error) {
	action := n.String("case_change_action", "NONE")
	if action != "NONE" && action != "LOWER" && action != "UPPER" {
		return nil, n.Errorf("case_change_action %q", action)
	}
	sensitive := n.Int("is_case_sensitive", 0) != 0
	stop := map[string]bool{}
	for _, w := range n.Strings("stopwords", nil) {
		if !sensitive {
			w = strings.ToLower(w)
		}
		stop[w] = true
	}
	return KernelFunc(func(in, out []*Tensor) error {
		x := in[0]
		if x.DType != String {
			return fmt.Errorf("input is %v, want string", x.DType)
		}
		if !(len(x.Shape) == 1 || (len(x.Shape) == 2 && x.Shape[0] == 1)) {
			return fmt.Errorf("input shape %v, want [C] or [1, C]", x.Shape)
		}
		var keep []string
		for _, s := range x.S {
			k := s
			if !sensitive {
				k = strings.ToLower(s)
			}
			if stop[k] {
				continue
			}
			switch action {
			case "LOWER":
				s = strings.ToLower(s)
			case "UPPER":
				s = strings.ToUpper(s)
			}
			keep = append(keep, s)
		}
		if len(keep) == 0 {
			keep = []string{""}
		}
		shape := []int{len(keep)}
		if len(x.Shape) == 2 {
			shape = []int{1, len(keep)}
		}
		o := out[0]
		o.Reset(String, shape)
		copy(o.S, keep)
		return nil
	}), nil
}

type tfidfKernel struct {
	minN, maxN, maxSkip int
	mode                string
	pool                []map[string]int // per n: n-gram key -> output index
	weights             []float32
	outLen              int
}

func newTfIdf(n *Node) (Kernel, error) {
	k := &tfidfKernel{
		minN: int(n.Int("min_gram_length", 0)), maxN: int(n.Int("max_gram_length", 0)),
		maxSkip: int(n.Int("max_skip_count", 0)), mode: n.String("mode", ""),
		weights: n.Floats("weights", nil),
	}
	if k.minN < 1 || k.maxN < k.minN || k.maxSkip < 0 || k.maxN > 64 || k.maxSkip > 1<<20 {
		return nil, n.Errorf("gram lengths %d..%d, max_skip_count %d", k.minN, k.maxN, k.maxSkip)
	}
	switch k.mode {
	case "TF", "IDF", "TFIDF":
	default:
		return nil, n.Errorf("mode %q", k.mode)
	}
	counts := n.IntsAsInt("ngram_counts")
	idx := n.IntsAsInt("ngram_indexes")
	var pool []string
	if p := n.Strings("pool_strings", nil); p != nil {
		pool = p
	} else {
		for _, v := range n.Ints("pool_int64s", nil) {
			pool = append(pool, strconv.FormatInt(v, 10))
		}
	}
	if len(counts) == 0 || len(counts) > k.maxN {
		return nil, n.Errorf("ngram_counts %v for max_gram_length %d", counts, k.maxN)
	}
	k.pool = make([]map[string]int, k.maxN+1)
	g := 0 // n-gram ordinal
	for i, start := range counts {
		gn := i + 1
		end := len(pool)
		if i+1 < len(counts) {
			end = counts[i+1]
		}
		if start < 0 || end < start || end > len(pool) || (end-start)%gn != 0 {
			return nil, n.Errorf("ngram_counts %v do not fit a pool of %d", counts, len(pool))
		}
		k.pool[gn] = map[string]int{}
		for p := start; p < end; p += gn {
			if g >= len(idx) || idx[g] < 0 || idx[g] > 1<<24 {
				return nil, n.Errorf("ngram_indexes %v too short or out of range", idx)
			}
			k.pool[gn][strings.Join(pool[p:p+gn], "\x00")] = idx[g]
			k.outLen = max(k.outLen, idx[g]+1)
			g++
		}
	}
	if k.weights != nil && len(k.weights) < k.outLen {
		return nil, n.Errorf("%d weights for %d outputs", len(k.weights), k.outLen)
	}
	return k, nil
}

func (k *tfidfKernel) Run(in, out []*Tensor) error {
	x := in[0]
	var rows, c int
	switch len(x.Shape) {
	case 1:
		rows, c = 1, x.Shape[0]
	case 2:
		rows, c = x.Shape[0], x.Shape[1]
	default:
		return fmt.Errorf("input shape %v, want [C] or [N, C]", x.Shape)
	}
	if x.DType != String && x.DType.Storage() != StoreI64 {
		return fmt.Errorf("input type %v: %w", x.DType, ErrUnsupported)
	}
	item := func(i int) string {
		if x.DType == String {
			return x.S[i]
		}
		return strconv.FormatInt(x.I64[i], 10)
	}
	o := out[0]
	if len(x.Shape) == 1 {
		o.Reset(Float, []int{k.outLen})
	} else {
		o.Reset(Float, []int{rows, k.outLen})
	}
	o.Zero()
	parts := make([]string, k.maxN)
	for r := range rows {
		cnt := o.F32[r*k.outLen : (r+1)*k.outLen]
		for gn := k.minN; gn <= k.maxN; gn++ {
			if k.pool[gn] == nil {
				continue
			}
			maxSkip := k.maxSkip
			if gn == 1 {
				maxSkip = 0
			}
			for skip := 0; skip <= maxSkip; skip++ {
				for s := 0; s+(gn-1)*(skip+1) < c; s++ {
					for j := range gn {
						parts[j] = item(r*c + s + j*(skip+1))
					}
					if i, ok := k.pool[gn][strings.Join(parts[:gn], "\x00")]; ok {
						cnt[i]++
					}
				}
			}
		}
		for i, v := range cnt {
			w := float32(1)
			if k.weights != nil {
				w = k.weights[i]
			}
			switch k.mode {
			case "IDF":
				if v > 0 {
					cnt[i] = w
				}
			case "TFIDF":
				cnt[i] = v * w
			}
		}
	}
	return nil
}
