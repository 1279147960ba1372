package onnx

import (
	"fmt"
	"sort"
	"strings"
)

// Einsum by its definition: every combination of the labels' values is
// visited once, the inputs' elements at it multiplied and summed into the
// output element its output labels name. Repeated labels in one term take
// diagonals; "..." stands for broadcast dimensions. Correct for any
// equation, fast for none: models that use Einsum for a matrix product
// can be rewritten to MatMul by their exporter.

func init() {
	Register("", "Einsum", 12, Latest, newEinsum)
}

type einsumKernel struct {
	terms   []string // input terms, "..." kept
	out     string   // output term ("" with explicit "->" means a scalar)
	explict bool
}

func newEinsum(n *Node) (Kernel, error) {
	eq := strings.ReplaceAll(n.String("equation", ""), " ", "")
	if eq == "" {
		return nil, n.Errorf("missing equation")
	}
	k := &einsumKernel{}
	lhs := eq
	if i := strings.Index(eq, "->"); i >= 0 {
		lhs, k.out, k.explict = eq[:i], eq[i+2:], true
	}
	k.terms = strings.Split(lhs, ",")
	if len(k.terms) != len(n.Inputs) {
		return nil, n.Errorf("equation %q has %d terms for %d inputs", eq, len(k.terms), len(n.Inputs))
	}
	for _, t := range append(append([]string(nil), k.terms...), k.out) {
		s := strings.Replace(t, "...", "", 1)
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return nil, n.Errorf("equation %q: label %q", eq, c)
			}
		}
	}
	return k, n.Err()
}

// expand returns term's labels with "..." replaced by ell labels
// (runes 0..e-1 counted from the right), for an operand of rank r.
func expandTerm(term string, r int) ([]rune, error) {
	i := strings.Index(term, "...")
	if i < 0 {
		if len([]rune(term)) != r {
			return nil, fmt.Errorf("term %q does not fit rank %d", term, r)
		}
		return []rune(term), nil
	}
	pre, post := []rune(term[:i]), []rune(term[i+3:])
	e := r - len(pre) - len(post)
	if e < 0 {
		return nil, fmt.Errorf("term %q does not fit rank %d", term, r)
	}
	out := append([]rune(nil), pre...)
	for j := range e {
		out = append(out, rune(e-1-j)) // ellipsis dims as runes 0.., right-aligned
	}
	return append(out, post...), nil
}

func (k *einsumKernel) Run(in, out []*Tensor) error {
	dt := in[0].DType
	for _, t := range in {
		if t.DType != dt {
			return fmt.Errorf("Einsum: inputs of types %v and %v", dt, t.DType)
		}
	}
	st := dt.Storage()
	if st != StoreF32 && st != StoreF64 && st != StoreI64 {
		return fmt.Errorf("Einsum: element type %v: %w", dt, ErrUnsupported)
	}
	size := map[rune]int{}
	labels := make([][]rune, len(in))
	maxEll := 0
	count := map[rune]int{}
	for i, t := range in {
		ls, err := expandTerm(k.terms[i], t.Rank())
		if err != nil {
			return fmt.Errorf("Einsum: %v", err)
		}
		labels[i] = ls
		for d, l := range ls {
			count[l]++
			if l < 32 {
				maxEll = max(maxEll, int(l)+1)
			}
			s := t.Shape[d]
			if old, ok := size[l]; ok && old != s {
				if l < 32 && (old == 1 || s == 1) {
					size[l] = max(old, s) // ellipsis dims broadcast
					continue
				}
				return fmt.Errorf("Einsum: label %q has sizes %d and %d", l, old, s)
			}
			size[l] = s
		}
	}
	var outLabels []rune
	if k.explict {
		if strings.Contains(k.out, "...") {
			i := strings.Index(k.out, "...")
			outLabels = append(outLabels, []rune(k.out[:i])...)
			for j := range maxEll {
				outLabels = append(outLabels, rune(maxEll-1-j))
			}
			outLabels = append(outLabels, []rune(k.out[i+3:])...)
		} else {
			outLabels = []rune(k.out)
		}
	} else {
		for j := range maxEll {
			outLabels = append(outLabels, rune(maxEll-1-j))
		}
		var once []rune
		for l, c := range count {
			if l >= 32 && c == 1 {
				once = append(once, l)
			}
		}
		sort.Slice(once, func(a, b int) bool { return once[a] < once[b] })
		outLabels = append(outLabels, once...)
	}
	all := append([]rune(nil), outLabels...)
	inOut := map[rune]bool{}
	for _, l := range outLabels {
		if _, ok := size[l]; !ok {
			return fmt.Errorf("Einsum: output label %q not in any input", l)
		}
		inOut[l] = true
	}
	var rest []rune
	for l := range size {
		if !inOut[l] {
			rest = append(rest, l)
		}
	}
	sort.Slice(rest, func(a, b int) bool { return rest[a] < rest[b] })
	all = append(all, rest...)
	pos := map[rune]int{}
	dims := make([]int, len(all))
	for i, l := range all {
		pos[l], dims[i] = i, size[l]
	}
	// Per input, the stride each label's value moves it by (0 where the
	// input's dimension is a broadcast 1).
	strides := make([][]int, len(in))
	for i, t := range in {
		strides[i] = make([]int, len(all))
		s := 1
		for d := t.Rank() - 1; d >= 0; d-- {
			if t.Shape[d] != 1 || size[labels[i][d]] == 1 {
				strides[i][pos[labels[i][d]]] += s
			}
			s *= t.Shape[d]
		}
	}
	oshape := make([]int, len(outLabels))
	for i, l := range outLabels {
		oshape[i] = size[l]
	}
	if numel(dims) > 1<<28 {
		return fmt.Errorf("Einsum: %d terms to sum: %w", numel(dims), ErrUnsupported)
	}
	out[0].Reset(dt, oshape)
	out[0].Zero()
	nout := len(outLabels)
	ostride := make([]int, len(all))
	s := 1
	for d := nout - 1; d >= 0; d-- {
		ostride[d] = s
		s *= oshape[d]
	}
	idx := make([]int, len(all))
	offs := make([]int, len(in))
	oo := 0
	total := numel(dims)
	for range total {
		switch st {
		case StoreF32, StoreF64:
			p := 1.0
			for i, t := range in {
				p *= t.Float64At(offs[i])
			}
			if st == StoreF32 {
				out[0].F32[oo] += float32(p)
			} else {
				out[0].F64[oo] += p
			}
		case StoreI64:
			p := int64(1)
			for i, t := range in {
				p *= t.I64[offs[i]]
			}
			out[0].I64[oo] += p
		}
		for d := len(all) - 1; d >= 0; d-- {
			idx[d]++
			for i := range in {
				offs[i] += strides[i][d]
			}
			oo += ostride[d]
			if idx[d] < dims[d] {
				break
			}
			for i := range in {
				offs[i] -= strides[i][d] * dims[d]
			}
			oo -= ostride[d] * dims[d]
			idx[d] = 0
		}
	}
	return nil
}
