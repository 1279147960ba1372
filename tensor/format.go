package tensor

import (
	"strconv"
	"strings"
	"unsafe"
)

// Tensors with more elements than printThreshold are abbreviated: each
// dimension longer than 2·printEdge shows its first and last printEdge
// entries around "...".
const (
	printThreshold = 1000
	printEdge      = 3
)

// String formats t like NumPy: nested brackets, one row per line, values
// in the shortest form that reads back exactly. Large tensors are
// abbreviated with "...".
func (t *Dense[T]) String() string {
	var sb strings.Builder
	abbrev := t.Size() > printThreshold
	idx := make([]int, len(t.shape))
	bits := 8 * int(unsafe.Sizeof(T(0)))
	t.format(&sb, idx, 0, abbrev, bits)
	return sb.String()
}

func (t *Dense[T]) format(sb *strings.Builder, idx []int, dim int, abbrev bool, bits int) {
	if dim == len(t.shape) {
		sb.WriteString(strconv.FormatFloat(float64(t.data[t.offsetOf(idx)]), 'g', -1, bits))
		return
	}
	sb.WriteByte('[')
	n := t.shape[dim]
	for i := 0; i < n; i++ {
		if abbrev && n > 2*printEdge && i == printEdge {
			if dim == len(t.shape)-1 {
				sb.WriteString("... ")
			} else {
				sb.WriteString("...\n")
				sb.WriteString(strings.Repeat(" ", dim+1))
			}
			i = n - printEdge
		}
		idx[dim] = i
		t.format(sb, idx, dim+1, abbrev, bits)
		if i < n-1 {
			if dim == len(t.shape)-1 {
				sb.WriteByte(' ')
			} else {
				sb.WriteString(strings.Repeat("\n", len(t.shape)-1-dim))
				sb.WriteString(strings.Repeat(" ", dim+1))
			}
		}
	}
	sb.WriteByte(']')
}
