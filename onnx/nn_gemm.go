package onnx

import (
	"fmt"
	"sync"

	"github.com/adjoint-go/adjoint/gemm"
)

// Matrix products: Gemm and MatMul, each one call of the module's GEMM
// (gemm.Sgemm / Dgemm, transposes as flags, never materialised). Gemm's C
// is broadcast into Y first and the product added with beta = 1. MatMul
// broadcasts its batch dimensions as NumPy does; runs of batch dimensions
// where each operand is either present or broadcast become one strided
// batched GEMM (gemm.SgemmStrided, stride 0 for a broadcast operand), so
// attention's [B,H,T,d]·[B,1,d,T] is B calls of H products, not B·H.

func init() {
	Register("", "Gemm", 1, Latest, newGemm)
	Register("", "MatMul", 1, Latest, newMatMul)
}

type gemmKernel struct {
	alpha, beta    float32
	transA, transB bool
	act            act
}

func newGemm(n *Node) (Kernel, error) {
	k := &gemmKernel{
		alpha:  n.Float("alpha", 1),
		beta:   n.Float("beta", 1),
		transA: n.Int("transA", 0) != 0,
		transB: n.Int("transB", 0) != 0,
	}
	if len(n.Inputs) < 2 || len(n.Inputs) > 3 {
		return nil, n.Errorf("want 2 or 3 inputs, have %d", len(n.Inputs))
	}
	if n.Opset < 11 && (len(n.Inputs) < 3 || n.Inputs[2] == "") {
		return nil, n.Errorf("input C is required before opset 11")
	}
	return k, n.Err()
}

func (k *gemmKernel) Run(in, out []*Tensor) error {
	a, b, c := in[0], in[1], Input(in, 2)
	if a.DType != b.DType || c != nil && c.DType != a.DType {
		return fmt.Errorf("Gemm: element types differ: A %v, B %v", a.DType, b.DType)
	}
	f32, ok := floatKind(a.DType)
	if !ok {
		return fmt.Errorf("Gemm: element type %v: %w", a.DType, ErrUnsupported)
	}
	if a.Rank() != 2 || b.Rank() != 2 {
		return fmt.Errorf("Gemm: A shape %v and B shape %v must be matrices", a.Shape, b.Shape)
	}
	m, ka := a.Shape[0], a.Shape[1]
	if k.transA {
		m, ka = ka, m
	}
	kb, n := b.Shape[0], b.Shape[1]
	if k.transB {
		kb, n = n, kb
	}
	if ka != kb {
		return fmt.Errorf("Gemm: A shape %v (transA %v) and B shape %v (transB %v) do not multiply", a.Shape, k.transA, b.Shape, k.transB)
	}
	if c != nil {
		if err := unidirectional(c.Shape, m, n); err != nil {
			return fmt.Errorf("Gemm: C %v", err)
		}
	}
	var shape [2]int
	shape[0], shape[1] = m, n
	out[0].Reset(a.DType, shape[:])
	if f32 {
		gemmRun(k, m, n, ka, a.F32, a.Shape[1], b.F32, b.Shape[1], c, out[0].F32)
	} else {
		gemmRun(k, m, n, ka, a.F64, a.Shape[1], b.F64, b.Shape[1], c, out[0].F64)
	}
	return nil
}

// unidirectional checks that shape broadcasts to [m, n].
func unidirectional(shape []int, m, n int) error {
	if len(shape) > 2 {
		return fmt.Errorf("shape %v does not broadcast to [%d %d]", shape, m, n)
	}
	full := [2]int{1, 1}
	copy(full[2-len(shape):], shape)
	if full[0] != 1 && full[0] != m || full[1] != 1 && full[1] != n {
		return fmt.Errorf("shape %v does not broadcast to [%d %d]", shape, m, n)
	}
	return nil
}

func gemmRun[T real](k *gemmKernel, m, n, kk int, a []T, lda int, b []T, ldb int, c *Tensor, y []T) {
	beta := T(0)
	if c != nil && k.beta != 0 {
		cv := floatsOf[T](c)
		cm, cn := 1, 1
		if c.Rank() == 2 {
			cm, cn = c.Shape[0], c.Shape[1]
		} else if c.Rank() == 1 {
			cn = c.Shape[0]
		}
		bt := T(k.beta)
		for i := range m {
			row := y[i*n : (i+1)*n]
			ci := 0
			if cm != 1 {
				ci = i * cn
			}
			if cn == 1 {
				fill(row, bt*cv[ci])
				continue
			}
			for j, v := range cv[ci : ci+n] {
				row[j] = bt * v
			}
		}
		beta = 1
	}
	gemmT(k.transA, k.transB, m, n, kk, T(k.alpha), a, lda, b, ldb, beta, y, n)
	applyAct(k.act, y)
}

// ---------------------------------------------------------------- MatMul

type matMulKernel struct {
	// bias, when set by the MatMul+Add rewrite, is added to every row
	// (the last dimension) in the epilogue.
	bias *Tensor
	act  act
	// scale, when set by the MatMul-by-constant rewrite (attention's
	// division by √d), is GEMM's alpha; 0 means 1.
	scale float32
	// pack, set by markConstB when B is a 2-D constant (a weight), holds B
	// packed once for gemm.GemmPacked.
	pack *packedB
	jobs jobList // the epilogue's parallel argument blocks
}

// packedB is a MatMul's constant B, packed on the first run (by whichever
// of concurrent runs gets there first) and read by every run after.
type packedB struct {
	once sync.Once
	f32  *gemm.PackedB[float32]
	f64  *gemm.PackedB[float64]
}

// markConstB gives every MatMul whose B is a 2-D float constant a packedB
// (the last rewrite: the kernels are final by then). Its weights are then
// packed into GEMM panels once, not on every run: the encoders' MatMuls
// spent a tenth of their time re-reading B (docs/encoder-tuning.md).
func markConstB(g *Graph, order []*Node) []*Node {
	for _, n := range order {
		k, ok := n.kernel.(*matMulKernel)
		if !ok || n.OpType != "MatMul" || n.Domain != "" || len(n.Inputs) != 2 {
			continue
		}
		if w := n.ConstInput(1); w != nil && w.Rank() == 2 && (w.DType == Float || w.DType == Double) {
			k.pack = &packedB{}
		}
	}
	return order
}

// packedRun multiplies A, rows of kk with every batch dimension folded
// into its rows, by the packed constant B (kk×n): one GEMM of m·batch rows,
// the bias and activation (if fused) applied in its epilogue.
func packedRun[T real](k *matMulKernel, rows, n, kk int, alpha T, a, b, y []T) {
	p := k.pack
	// A fused bias is copied into the rows first and the product added to
	// it (beta = 1): the kernel adds it as it stores, cheaper than a pass
	// after. A fused activation runs in the GEMM's epilogue, on each strip
	// of y as the team finishes it (in cache, split as the product is).
	beta := T(0)
	if k.bias != nil {
		fa := fillArgs[T]{y: y, row: floatsOf[T](k.bias)}
		if serial(len(y)) {
			fa.block(0, rows)
		} else {
			forArgs(&k.jobs, rows, max(1, elemGrain/n), fa)
		}
		beta = 1
	}
	var epi gemm.Epilogue
	var j *epiJob[T]
	if k.act.kind != actNone {
		j = takeEpiJob[T](&k.jobs)
		j.args = epiArgs[T]{act: k.act, y: y, n: n}
		epi = j.run
	}
	switch a := any(a).(type) {
	case []float32:
		p.once.Do(func() { p.f32 = gemm.PackB(gemm.NoTrans, kk, n, any(b).([]float32), n) })
		gemm.GemmPackedEpilogue(gemm.NoTrans, rows, n, kk, float32(alpha), a, kk, p.f32, float32(beta), any(y).([]float32), n, epi)
	case []float64:
		p.once.Do(func() { p.f64 = gemm.PackB(gemm.NoTrans, kk, n, any(b).([]float64), n) })
		gemm.GemmPackedEpilogue(gemm.NoTrans, rows, n, kk, float64(alpha), a, kk, p.f64, float64(beta), any(y).([]float64), n, epi)
	}
	if j != nil {
		j.args = epiArgs[T]{}
		k.jobs.put(j)
	}
}

// fillArgs copies row into rows [lo, hi) of y (rows of len(row)).
type fillArgs[T real] struct{ y, row []T }

func (a fillArgs[T]) block(lo, hi int) {
	n := len(a.row)
	for r := lo; r < hi; r++ {
		copy(a.y[r*n:(r+1)*n], a.row)
	}
}

// epiJob is a packed MatMul's epilogue: args, with run bound once to
// apply (so a call allocates nothing).
type epiJob[T real] struct {
	args epiArgs[T]
	run  gemm.Epilogue
}

func takeEpiJob[T real](l *jobList) *epiJob[T] {
	j, ok := takeJob[*epiJob[T]](l)
	if !ok {
		j = &epiJob[T]{}
		j.run = j.apply
	}
	return j
}

// apply applies the activation to columns [j0, j1) of rows [i0, i1).
func (j *epiJob[T]) apply(i0, i1, j0, j1 int) {
	a := &j.args
	for r := i0; r < i1; r++ {
		applyAct(a.act, a.y[r*a.n+j0:r*a.n+j1])
	}
}

func newMatMul(n *Node) (Kernel, error) {
	if len(n.Inputs) != 2 {
		return nil, n.Errorf("want 2 inputs, have %d", len(n.Inputs))
	}
	return &matMulKernel{}, n.Err()
}

// maxBatchRank bounds MatMul's batch dimensions (ONNX models use at most a
// handful).
const maxBatchRank = 8

func (k *matMulKernel) Run(in, out []*Tensor) error {
	a, b := in[0], in[1]
	if a.DType != b.DType {
		return fmt.Errorf("MatMul: element types differ: A %v, B %v", a.DType, b.DType)
	}
	f32, ok := floatKind(a.DType)
	if !ok {
		return fmt.Errorf("MatMul: element type %v: %w", a.DType, ErrUnsupported)
	}
	if a.Rank() == 0 || b.Rank() == 0 {
		return fmt.Errorf("MatMul: A shape %v, B shape %v: scalars do not multiply", a.Shape, b.Shape)
	}
	if a.Rank() > maxBatchRank+2 || b.Rank() > maxBatchRank+2 {
		return fmt.Errorf("MatMul: A shape %v, B shape %v: more than %d batch dimensions: %w", a.Shape, b.Shape, maxBatchRank, ErrUnsupported)
	}
	// Matrices: a 1-D A is a row, a 1-D B a column (dropped from the output).
	m, ka := 1, a.Shape[a.Rank()-1]
	if a.Rank() >= 2 {
		m = a.Shape[a.Rank()-2]
	}
	kb, n := b.Shape[0], 1
	if b.Rank() >= 2 {
		kb, n = b.Shape[b.Rank()-2], b.Shape[b.Rank()-1]
	}
	if ka != kb {
		return fmt.Errorf("MatMul: A shape %v and B shape %v do not multiply", a.Shape, b.Shape)
	}
	var ab, bb [maxBatchRank]int
	na, nb := max(a.Rank()-2, 0), max(b.Rank()-2, 0)
	nbat := max(na, nb)
	// Batch dimensions, right-aligned to nbat.
	for i := range nbat {
		ab[i], bb[i] = 1, 1
	}
	copy(ab[nbat-na:nbat], a.Shape[:na])
	copy(bb[nbat-nb:nbat], b.Shape[:nb])
	var shape [maxBatchRank + 2]int
	s := shape[:0]
	for i := range nbat {
		switch {
		case ab[i] == bb[i] || bb[i] == 1:
			s = append(s, ab[i])
		case ab[i] == 1:
			s = append(s, bb[i])
		default:
			return fmt.Errorf("MatMul: batch dimensions of A shape %v and B shape %v do not broadcast", a.Shape, b.Shape)
		}
	}
	if a.Rank() >= 2 {
		s = append(s, m)
	}
	if b.Rank() >= 2 {
		s = append(s, n)
	}
	if k.bias != nil && (k.bias.Size() != n || k.bias.DType != a.DType || k.bias.Rank() > len(s)) {
		return fmt.Errorf("MatMul: fused bias shape %v does not fit %d columns", k.bias.Shape, n)
	}
	out[0].Reset(a.DType, s)
	bat := batches{rank: nbat, a: ab, b: bb}
	for i := range nbat {
		bat.out[i] = s[i]
	}
	if f32 {
		matMulRun(k, bat, m, n, ka, a.F32, b.F32, out[0].F32)
	} else {
		matMulRun(k, bat, m, n, ka, a.F64, b.F64, out[0].F64)
	}
	return nil
}

// batches are MatMul's broadcast batch dimensions: A's, B's and the
// output's sizes, right-aligned.
type batches struct {
	rank      int
	a, b, out [maxBatchRank]int
}

// merged collapses adjacent batch dimensions where each operand is either
// present in both or broadcast in both, so that the innermost run is one
// strided batched GEMM. It returns the number of dimensions left.
func (bt *batches) merge() {
	if bt.rank == 0 {
		return
	}
	w := 0
	for i := 1; i < bt.rank; i++ {
		same := (bt.a[w] == 1) == (bt.a[i] == 1) && (bt.b[w] == 1) == (bt.b[i] == 1)
		if same {
			bt.a[w] *= bt.a[i]
			bt.b[w] *= bt.b[i]
			bt.out[w] *= bt.out[i]
			continue
		}
		w++
		bt.a[w], bt.b[w], bt.out[w] = bt.a[i], bt.b[i], bt.out[i]
	}
	bt.rank = w + 1
}

func matMulRun[T real](k *matMulKernel, bt batches, m, n, kk int, a, b, y []T) {
	beta, alpha := T(0), T(1)
	if k.scale != 0 {
		alpha = T(k.scale)
	}
	total := numel(bt.out[:bt.rank])
	if k.pack != nil && nbRank(bt) == 0 && m > 0 && n > 0 && kk > 0 {
		// B is a 2-D constant: every batch of A (contiguous rows of kk)
		// meets the same B, so the batches are rows of one product. The
		// fused bias and activation run in the GEMM's epilogue, on each
		// block of y as the team finishes it (in cache, in parallel).
		rows := total * m
		y = y[:rows*n]
		packedRun(k, rows, n, kk, alpha, a, b, y)
		return
	}
	defer matMulEpilogue(k, y[:total*m*n], n)
	bt.merge()
	sa, sb, sy := m*kk, kk*n, m*n
	if bt.rank == 0 {
		gemmT(false, false, m, n, kk, alpha, a, kk, b, n, beta, y, n)
		return
	}
	// The innermost (merged) batch dimension is one strided call; the
	// outer ones are iterated, each operand's offset from its own strides.
	last := bt.rank - 1
	inner := bt.out[last]
	strideA, strideB := sa, sb
	if bt.a[last] == 1 {
		strideA = 0
	}
	if bt.b[last] == 1 {
		strideB = 0
	}
	outer := total / max(inner, 1)
	var idx [maxBatchRank]int
	for o := range outer {
		// Offsets of this outer index in A and B (broadcast dims add 0).
		offA, offB, mulA, mulB := 0, 0, bt.a[last], bt.b[last]
		for i := last - 1; i >= 0; i-- {
			if bt.a[i] != 1 {
				offA += idx[i] * mulA
			}
			if bt.b[i] != 1 {
				offB += idx[i] * mulB
			}
			mulA *= bt.a[i]
			mulB *= bt.b[i]
		}
		yo := y[o*inner*sy : (o+1)*inner*sy]
		gemmStridedT(false, false, m, n, kk, alpha, a[offA*sa:], kk, strideA, b[offB*sb:], n, strideB, beta, yo, n, sy, inner)
		for i := last - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < bt.out[i] {
				break
			}
			idx[i] = 0
		}
	}
}

// nbRank is how many of the batch dimensions B has (not broadcast).
func nbRank(bt batches) int {
	r := 0
	for i := range bt.rank {
		if bt.b[i] != 1 {
			r++
		}
	}
	return r
}

// matMulEpilogue adds the fused bias (if any) to every row of y (rows of
// n) and applies the fused activation (if any), in one pass over each row
// while it is in cache; in parallel over rows (argument blocks from the
// kernel's job list) when y is large.
func matMulEpilogue[T real](k *matMulKernel, y []T, n int) {
	if k.bias == nil && k.act.kind == actNone {
		return
	}
	a := epiArgs[T]{act: k.act, y: y, n: max(n, 1)}
	if k.bias != nil {
		a.bias = floatsOf[T](k.bias)
	}
	rows := len(y) / a.n
	if serial(len(y)) {
		a.block(0, rows)
		return
	}
	forArgs(&k.jobs, rows, max(1, elemGrain/a.n), a)
}

// epiArgs is a MatMul epilogue's arguments; block adds the bias to rows
// [lo, hi) of y (rows of n) and applies the activation.
type epiArgs[T real] struct {
	act     act
	y, bias []T
	n       int
}

func (a epiArgs[T]) block(lo, hi int) {
	for r := lo; r < hi; r++ {
		row := a.y[r*a.n : (r+1)*a.n]
		if a.bias != nil {
			row := row[:len(a.bias)]
			for j, b := range a.bias {
				row[j] += b
			}
		}
		applyAct(a.act, row)
	}
}
