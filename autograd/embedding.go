package autograd

import "github.com/adjoint-go/adjoint/tensor"

// Embedding returns the rows of table ([V, C]) at the given indices: a
// [len(indices), C] matrix whose row i is table row indices[i] (a gather).
// Backward scatter-adds each row's adjoint into the table's, so an index
// that repeats receives the sum over its occurrences, and a table that is
// also used elsewhere (weight tying: the same token embedding as a GPT's
// output matrix) sums the adjoints of both paths. indices is copied. It
// panics (ErrShape) unless table is a matrix, and (ErrIndex) if an index is
// outside [0, V).
func (tp *Tape[T]) Embedding(table *Var[T], indices []int) *Var[T] {
	tp.check("Embedding", table)
	s := table.value.Shape()
	if len(s) != 2 {
		fail(ErrShape, "Embedding: table shape %v is not a matrix [V, C]", s)
	}
	nv, c := s[0], s[1]
	for i, r := range indices {
		if r < 0 || r >= nv {
			fail(ErrIndex, "Embedding: index %d at %d out of range for %d rows", r, i, nv)
		}
	}
	w, _ := tp.contig(table.value)
	out := tp.alloc(len(indices), c)
	o := out.Data()
	for i, r := range indices {
		copy(o[i*c:i*c+c], w[r*c:r*c+c])
	}
	n := newNode[embeddingNode[T]](tp, embeddingKey)
	n.table, n.pad = table, -1
	n.idx = append(n.idx[:0], indices...)
	return tp.record("Embedding", n, out, table, nil, nil)
}

// embeddingNode is the saved state of Embedding and EmbeddingPadding: a
// copy of the indices and the padding row, or −1.
type embeddingNode[T tensor.Float] struct {
	table *Var[T]
	idx   []int
	pad   int
}

var embeddingKey = newPoolKey()

// clearRefs keeps the indices' capacity.
func (n *embeddingNode[T]) clearRefs() { *n = embeddingNode[T]{idx: n.idx[:0]} }

func (n *embeddingNode[T]) backward(tp *Tape[T], u *Var[T]) {
	if !n.table.requiresGrad {
		return
	}
	c := n.table.value.Shape()[1]
	gt, acc := tp.grad(n.table)
	if !acc {
		clear(gt)
	}
	g := u.grad.Data()
	for i, r := range n.idx {
		if r != n.pad {
			addAcc(gt[r*c:r*c+c], g[i*c:i*c+c])
		}
	}
}

// EmbeddingPadding is Embedding with PyTorch's padding_idx: the rows it
// gathers for index paddingIdx (negative counts from the end, as PyTorch)
// receive no adjoint, so that row of the table is never trained (PyTorch's
// nn.Embedding also starts it at zero; the gather itself reads the row as
// it is). It panics as Embedding does, and (ErrIndex) if paddingIdx is out
// of range.
func (tp *Tape[T]) EmbeddingPadding(table *Var[T], indices []int, paddingIdx int) *Var[T] {
	tp.check("EmbeddingPadding", table)
	s := table.value.Shape()
	if len(s) == 2 {
		pad := paddingIdx
		if pad < 0 {
			pad += s[0]
		}
		if pad < 0 || pad >= s[0] {
			fail(ErrIndex, "EmbeddingPadding: padding index %d out of range for %d rows", paddingIdx, s[0])
		}
		v := tp.Embedding(table, indices)
		v.fn.(*embeddingNode[T]).pad = pad
		return v
	}
	return tp.Embedding(table, indices)
}
