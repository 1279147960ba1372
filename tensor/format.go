package tensor

import (
	"strconv"
	"strings"
	"unsafe"
)

// Tensors with more elements than printThreshold are abbreviated: each
// dimension longer than 2·printEdge shows its first and last printEdge
// entries around "...". Whatever the shape (a broadcast view of 2^60
// elements is valid), at most printMaxElems elements are printed; the rest
// becomes one "...".
const (
	printThreshold = 1000
	printEdge      = 3
	printMaxElems  = 5000
)

// String formats t like NumPy: nested brackets, one row per line, values
// in the shortest form that reads back exactly. Large tensors are
// abbreviated with "...", and a tensor with no elements is "[]" whatever
// its shape, as NumPy's str prints it. The output and the stack used are
// bounded for every tensor: the loop below walks the dimensions with an
// index per dimension rather than recursing.
func (t *Dense[T]) String() string {
	bits := 8 * int(unsafe.Sizeof(T(0)))
	r := len(t.shape)
	if r == 0 {
		return strconv.FormatFloat(float64(t.data[t.offset]), 'g', -1, bits)
	}
	if t.Size() == 0 {
		return "[]"
	}
	abbrev := t.Size() > printThreshold
	// pos[d] counts the entries of dimension d shown so far; cut[d] says
	// the dimension is abbreviated (positions printEdge.. map to the last
	// printEdge indices).
	pos := make([]int, r)
	idx := make([]int, r)
	cut := make([]bool, r)
	shown := make([]int, r)
	for d, n := range t.shape {
		cut[d] = abbrev && n > 2*printEdge
		shown[d] = n
		if cut[d] {
			shown[d] = 2 * printEdge
		}
	}
	var sb strings.Builder
	sb.WriteString(strings.Repeat("[", r))
	for left := printMaxElems; ; left-- {
		sb.WriteString(strconv.FormatFloat(float64(t.data[t.offsetOf(idx)]), 'g', -1, bits))
		// The innermost dimension that has entries left moves on; those
		// inside it close and start again.
		d := r - 1
		for d >= 0 && pos[d] == shown[d]-1 {
			d--
		}
		if d < 0 {
			sb.WriteString(strings.Repeat("]", r))
			break
		}
		sb.WriteString(strings.Repeat("]", r-1-d))
		sep := " "
		if d < r-1 {
			sep = strings.Repeat("\n", r-1-d) + strings.Repeat(" ", d+1)
		}
		sb.WriteString(sep)
		if left == 1 {
			// Out of budget: one "..." for everything not printed.
			sb.WriteString("...")
			sb.WriteString(strings.Repeat("]", d+1))
			break
		}
		pos[d]++
		idx[d] = pos[d]
		if cut[d] && pos[d] == printEdge {
			if d == r-1 {
				sb.WriteString("... ")
			} else {
				sb.WriteString("...\n")
				sb.WriteString(strings.Repeat(" ", d+1))
			}
		}
		if cut[d] && pos[d] >= printEdge {
			idx[d] = t.shape[d] - 2*printEdge + pos[d]
		}
		for e := d + 1; e < r; e++ {
			pos[e], idx[e] = 0, 0
		}
		sb.WriteString(strings.Repeat("[", r-1-d))
	}
	return sb.String()
}
