package onnx

import (
	"fmt"
	"slices"
	"sync"
)

// Attention heads read in place. A transformer exported from PyTorch
// splits the heads of Q, K and V as
//
//	Transpose(Reshape(X, [B, T, H, D]), perm)  → MatMul
//
// with perm [0,2,1,3] (Q, V: [B, H, T, D]) or [0,2,3,1] (K: [B, H, D, T]),
// a reshape and a transposing copy of every projection per layer. Each head
// is a T×D block of X with row stride H·D, so the MatMul can read it where
// it lies: a strided batched GEMM over the heads (batch stride D), K's
// through the transpose flag. fuseHeadViews points the MatMul at X and
// drops the Reshape and the Transpose when the MatMul is their only
// reader; the kernel falls back to materialising the view when the shapes
// at run time are not the simple case (see headMatMul.Run).

// headView is one MatMul operand read through Reshape(X, shape) and
// Transpose(perm [0,2,1,3], or [0,2,3,1] when kT).
type headView struct {
	shape []int64 // the Reshape's constant shape (0 copies, -1 infers)
	kT    bool
}

// headMatMul is a MatMul (with whatever epilogue its kernel has) whose
// operands may be head views of their inputs.
type headMatMul struct {
	mm    *matMulKernel
	views [2]*headView
	// outT: the product's [B, H, T, N] is written as [B, T, H, N] (the
	// Transpose [0,2,1,3] that merged the heads back is dropped): head h
	// is the T×N block at column h·N of rows of H·N.
	outT bool

	mu   sync.Mutex
	free []*headScratch // materialise's tensors, one per concurrent run
}

func fuseHeadViews(g *Graph, order []*Node) []*Node {
	sole := soleReaders(g, order)
	prod := producers(order)
	drop := map[*Node]bool{}
	for _, mm := range order {
		if mm.OpType != "MatMul" || mm.Domain != "" || len(mm.Inputs) != 2 || len(mm.Outputs) != 1 {
			continue
		}
		k, ok := mm.kernel.(*matMulKernel)
		if !ok || k.pack != nil || mm.Inputs[0] == mm.Inputs[1] {
			continue
		}
		var views [2]*headView
		for i, in := range mm.Inputs {
			tr := prod[in]
			if tr == nil || tr.OpType != "Transpose" || tr.Domain != "" || len(tr.Inputs) != 1 || sole[in] != mm || drop[tr] {
				continue
			}
			perm := tr.IntsAsInt("perm")
			kT := slices.Equal(perm, []int{0, 2, 3, 1})
			if !kT && !slices.Equal(perm, []int{0, 2, 1, 3}) || kT && i == 0 {
				continue
			}
			rs := prod[tr.Inputs[0]]
			if rs == nil || rs.OpType != "Reshape" || rs.Domain != "" || len(rs.Inputs) != 2 || sole[tr.Inputs[0]] != tr ||
				drop[rs] || rs.Int("allowzero", 0) != 0 {
				continue
			}
			sh := rs.ConstInput(1)
			if sh == nil || sh.DType != Int64 || sh.Rank() != 1 || len(sh.I64) != 4 {
				continue
			}
			views[i] = &headView{shape: slices.Clone(sh.I64), kT: kT}
			mm.Inputs[i] = rs.Inputs[0]
			drop[tr], drop[rs] = true, true
		}
		if views[0] == nil && views[1] == nil {
			continue
		}
		hm := &headMatMul{mm: k, views: views}
		mm.kernel = hm
		// The heads merged back: Transpose(MatMul, [0,2,1,3]), its sole
		// reader, becomes the MatMul writing each head in place.
		if tr := sole[mm.Outputs[0]]; tr != nil && tr.OpType == "Transpose" && tr.Domain == "" && len(tr.Inputs) == 1 &&
			len(tr.Outputs) == 1 && !drop[tr] && slices.Equal(tr.IntsAsInt("perm"), []int{0, 2, 1, 3}) {
			hm.outT = true
			mm.Outputs[0] = tr.Outputs[0]
			drop[tr] = true
		}
	}
	return without(order, drop)
}

// resolve returns the view's [B, T, H, D] for an input of shape x, as
// Reshape would (0 copies x's dimension, -1 takes what is left), and
// whether x is 3-D [B, T, H·D] with that split.
func (v *headView) resolve(x []int) ([4]int, bool) {
	var r [4]int
	n := 1
	for _, d := range x {
		n *= d
	}
	infer, known := -1, 1
	for i, s := range v.shape {
		switch {
		case s == 0 && i < len(x):
			r[i] = x[i]
		case s == -1 && infer < 0:
			infer = i
			continue
		case s > 0:
			r[i] = int(s)
		default:
			return r, false
		}
		known *= r[i]
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return r, false
		}
		r[infer] = n / known
	}
	ok := len(x) == 3 && x[0] == r[0] && x[1] == r[1] && x[2] == r[2]*r[3] && r[0]*r[1]*r[2]*r[3] == n
	return r, ok
}

// operand describes one operand of the batched product over [B, H].
type operand struct {
	rows, cols int  // op(X) is rows×cols
	t          bool // stored transposed
	ld         int
	sH, sB     int // offsets between heads and between batches
}

func (k *headMatMul) Run(in, out []*Tensor) error {
	a, b := in[0], in[1]
	if a.DType != b.DType {
		return fmt.Errorf("MatMul: element types differ: A %v, B %v", a.DType, b.DType)
	}
	f32, ok := floatKind(a.DType)
	var ops [2]operand
	var bh [2][2]int // [B, H] of each operand
	for i, x := range []*Tensor{a, b} {
		if !ok {
			break
		}
		if v := k.views[i]; v != nil {
			r, fits := v.resolve(x.Shape)
			if !fits {
				ok = false
				break
			}
			bh[i] = [2]int{r[0], r[2]}
			// A head is the T×D block at h·D of each batch's T×(H·D) rows.
			o := operand{rows: r[1], cols: r[3], ld: r[2] * r[3], sH: r[3], sB: r[1] * r[2] * r[3]}
			if v.kT {
				o.rows, o.cols, o.t = r[3], r[1], true
			}
			ops[i] = o
			continue
		}
		if x.Rank() != 4 {
			ok = false
			break
		}
		s := x.Shape
		bh[i] = [2]int{s[0], s[1]}
		ops[i] = operand{rows: s[2], cols: s[3], ld: s[3], sH: s[2] * s[3], sB: s[1] * s[2] * s[3]}
	}
	if !ok || bh[0] != bh[1] || ops[0].cols != ops[1].rows {
		return k.materialise(in, out)
	}
	if k.mm.bias != nil && (k.mm.bias.Size() != ops[1].cols || k.mm.bias.DType != a.DType) {
		return k.materialise(in, out)
	}
	nb, nh, m, n, kk := bh[0][0], bh[0][1], ops[0].rows, ops[1].cols, ops[0].cols
	if k.outT {
		out[0].Reset(a.DType, []int{nb, m, nh, n})
	} else {
		out[0].Reset(a.DType, []int{nb, nh, m, n})
	}
	if f32 {
		headRun(k.mm, ops, k.outT, nb, nh, m, n, kk, a.F32, b.F32, out[0].F32)
	} else {
		headRun(k.mm, ops, k.outT, nb, nh, m, n, kk, a.F64, b.F64, out[0].F64)
	}
	return nil
}

func headRun[T real](k *matMulKernel, ops [2]operand, outT bool, nb, nh, m, n, kk int, a, b, y []T) {
	alpha := T(1)
	if k.scale != 0 {
		alpha = T(k.scale)
	}
	oa, ob := ops[0], ops[1]
	// Head h of batch i: [B, H, M, N] at (i·H + h)·M·N, rows of N; with
	// outT, [B, M, H, N] at i·M·H·N + h·N, rows of H·N.
	ldy, sy := n, m*n
	if outT {
		ldy, sy = nh*n, n
	}
	for i := range nb {
		gemmStridedT(oa.t, ob.t, m, n, kk, alpha, a[i*oa.sB:], oa.ld, oa.sH, b[i*ob.sB:], ob.ld, ob.sH,
			0, y[i*nh*m*n:], ldy, sy, nh)
	}
	matMulEpilogue(k, y[:nb*nh*m*n], n)
}

// materialise applies the views as the dropped Reshape and Transpose would
// have and runs the plain MatMul: the general case, for shapes the strided
// path does not cover. Its tensors come from the kernel's free list, so
// that a warm run allocates nothing here either.
func (k *headMatMul) materialise(in, out []*Tensor) error {
	hs := k.takeScratch()
	defer k.putScratch(hs)
	var ins [2]*Tensor
	for i, x := range in[:2] {
		v := k.views[i]
		if v == nil {
			ins[i] = x
			continue
		}
		hs.req = hs.req[:0]
		for _, d := range v.shape {
			hs.req = append(hs.req, int(d))
		}
		shape, err := reshapeShape(hs.shape[i][:0], x.Shape, hs.req, false)
		if err != nil {
			return err
		}
		hs.shape[i] = shape
		r := &hs.view[i]
		*r = Tensor{DType: x.DType, Shape: shape, F32: x.F32, F64: x.F64}
		perm := permHeads[:]
		if v.kT {
			perm = permHeadsT[:]
		}
		hs.in[0], hs.out[0] = r, &hs.t[i]
		if err := (transposeKernel{perm: perm}).Run(hs.in[:], hs.out[:]); err != nil {
			return err
		}
		ins[i] = &hs.t[i]
	}
	hs.in[0], hs.out[0] = nil, nil
	var err error
	if !k.outT {
		err = k.mm.Run(ins[:], out)
	} else if err = k.mm.Run(ins[:], hs.prod[:]); err == nil {
		if hs.prod[0].Rank() != 4 {
			err = fmt.Errorf("MatMul: product shape %v: the fused head merge wants 4 dimensions", hs.prod[0].Shape)
		} else {
			err = (transposeKernel{perm: permHeads[:]}).Run(hs.prod[:], out)
		}
	}
	for i := range hs.view {
		hs.view[i].F32, hs.view[i].F64 = nil, nil // drop the run's inputs
	}
	return err
}

var (
	permHeads  = [...]int{0, 2, 1, 3}
	permHeadsT = [...]int{0, 2, 3, 1}
)

// headScratch is one materialise call's tensors: the reshaped views and
// their transposed copies.
type headScratch struct {
	req     []int
	shape   [2][]int
	view, t [2]Tensor
	in, out [1]*Tensor
	prod    [1]*Tensor // the product before the head merge (outT)
}

func (k *headMatMul) takeScratch() *headScratch {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n := len(k.free); n > 0 {
		hs := k.free[n-1]
		k.free = k.free[:n-1]
		return hs
	}
	return &headScratch{prod: [1]*Tensor{{}}}
}

func (k *headMatMul) putScratch(hs *headScratch) {
	k.mu.Lock()
	if len(k.free) < scratchKeep {
		k.free = append(k.free, hs)
	}
	k.mu.Unlock()
}
