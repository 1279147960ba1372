package gemm

import (
	"unsafe"

	"github.com/adjoint-go/adjoint/parallel"
)

// PackedB is op(B), a k×n operand, packed once into the panels the blocked
// driver multiplies, for products with many different A: a network's
// weights, multiplied by each batch of activations. GemmPacked then skips
// the packing of B that every Gemm call does (for B stored transposed, as
// PyTorch's Linear weights, a transposing copy of all of B per call).
//
// A PackedB keeps a reference to the B it was packed from: B must not
// change while the PackedB is used (pack it again after a change). It is
// safe for concurrent use by any number of GemmPacked calls.
type PackedB[T float32 | float64] struct {
	kern, ti int
	tB       Transpose
	k, n     int
	b        []T
	ldb      int
	nk       int
	panels   [][]T // one per (jc, pc) block, in the driver's order
}

// PackB packs op(B) (k×n; B stored k×n with tB NoTrans, n×k with Trans,
// row stride ldb) for the kernel in use now. It panics, as Gemm does, if
// tB is invalid, k or n is negative, ldb is too small or b too short.
func PackB[T float32 | float64](tB Transpose, k, n int, b []T, ldb int) *PackedB[T] {
	var z T
	ti, fn := 0, "PackB (float32)"
	if unsafe.Sizeof(z) == 8 {
		ti, fn = 1, "PackB (float64)"
	}
	// The checks of a 1×n×k product with this B.
	check(fn, NoTrans, tB, 1, n, k, make([]T, max(k, 1)), max(k, 1), b, ldb, make([]T, max(n, 1)), max(n, 1))
	p := &PackedB[T]{kern: int(current.Load()), ti: ti, tB: tB, k: k, n: n, b: b, ldb: ldb}
	if k == 0 || n == 0 {
		return p
	}
	bl := blocks[p.kern][ti]
	p.nk = ceilDiv(k, bl.kc)
	nblk := ceilDiv(n, bl.nc) * p.nk
	p.panels = make([][]T, nblk)
	for s := range nblk {
		jc := s / p.nk * bl.nc
		nb := min(bl.nc, n-jc)
		pc, pe := split(k, p.nk, s%p.nk)
		kb := pe - pc
		panel := make([]T, kb*roundUp(nb, bl.nr))
		packB(panel, tB, b, ldb, pc, jc, nb, kb, bl.nr, bl.edgeNR(nb%bl.nr), 0, ceilDiv(nb, bl.nr))
		p.panels[s] = panel
	}
	return p
}

// Dims returns op(B)'s k and n.
func (p *PackedB[T]) Dims() (k, n int) { return p.k, p.n }

// GemmPacked computes C = alpha·op(A)·op(B) + beta·C with op(B) from pb
// (k×n as pb was packed), bitwise as Gemm would on the B pb was packed
// from. Where Gemm would not use packed panels (a matrix-vector product,
// a small product, one narrower than a register tile, or a kernel changed
// since PackB) it calls Gemm with that B. It panics as Gemm does, and if n or k differ from pb's.
func GemmPacked[T float32 | float64](tA Transpose, m, n, k int, alpha T, a []T, lda int, pb *PackedB[T], beta T, c []T, ldc int) {
	gemmPacked(tA, m, n, k, alpha, a, lda, pb, beta, c, ldc, nil)
}

// An Epilogue finishes a block of C once its product is complete: rows
// [i0, i1) and columns [j0, j1). GemmPackedEpilogue calls it on disjoint
// blocks that together cover C, each once, right after the block's last
// product is written (so while it is still in cache), possibly on several
// goroutines at once.
type Epilogue func(i0, i1, j0, j1 int)

// GemmPackedEpilogue is GemmPacked followed by epi over every block of C
// (see Epilogue): a bias, an activation or a residual applied to C while
// the block is in cache instead of in a pass of its own. C's values are
// GemmPacked's before epi touches them. With a nil epi it is GemmPacked.
// Where GemmPacked calls Gemm, epi is called once, on all of C, after it.
// It panics as GemmPacked does.
func GemmPackedEpilogue[T float32 | float64](tA Transpose, m, n, k int, alpha T, a []T, lda int, pb *PackedB[T], beta T, c []T, ldc int, epi Epilogue) {
	gemmPacked(tA, m, n, k, alpha, a, lda, pb, beta, c, ldc, epi)
}

func gemmPacked[T float32 | float64](tA Transpose, m, n, k int, alpha T, a []T, lda int, pb *PackedB[T], beta T, c []T, ldc int, epi Epilogue) {
	if n != pb.n || k != pb.k {
		usage(ErrShape, "GemmPacked", "n %d, k %d but the PackedB is %d×%d (k×n)", n, k, pb.k, pb.n)
	}
	kern := int(current.Load())
	if kern != pb.kern || pb.panels == nil || m <= 1 || n <= 1 || alpha == 0 || isSmall(kern, m, n, k) ||
		swapEdges && swapPays(blocks[kern][pb.ti], m, n) {
		Gemm(tA, pb.tB, m, n, k, alpha, a, lda, pb.b, pb.ldb, beta, c, ldc)
		if epi != nil && m > 0 && n > 0 {
			epi(0, m, 0, n)
		}
		return
	}
	fn := "GemmPacked (float32)"
	if pb.ti == 1 {
		fn = "GemmPacked (float64)"
	}
	check(fn, tA, pb.tB, m, n, k, a, lda, pb.b, pb.ldb, c, ldc)
	cl := getCall[T]()
	cl.kern, cl.ti, cl.bl = kern, pb.ti, blocks[kern][pb.ti]
	cl.tA, cl.tB, cl.m, cl.n, cl.k = tA, pb.tB, m, n, k
	cl.alpha, cl.beta = alpha, beta
	cl.a, cl.b, cl.c, cl.lda, cl.ldb, cl.ldc = a, pb.b, c, lda, pb.ldb, ldc
	cl.cT, cl.bDirect = false, false
	cl.pre = pb.panels
	cl.epi = epi
	threads := 1
	if flops(m, n, k) >= float64(kernels[kern].parMinFlops) {
		threads = parallel.Threads()
	}
	cl.plan(threads)
	if cl.team > 1 {
		parallel.Do(cl.team, cl.doTeam)
	} else {
		cl.teamRun(0)
	}
	cl.a, cl.b, cl.c, cl.pre, cl.epi = nil, nil, nil, nil, nil
	callList[T]().Put(cl)
}

// PackedA is op(A), an m×k operand, packed once into the row micro-panels
// the blocked driver multiplies, for products with many different B: a
// convolution's weights, multiplied by each image's patches (or by the
// image itself for a 1×1 window). GemmPackedA then skips the packing of A
// that every Gemm call does per row block, and per column task at several
// threads.
//
// A PackedA keeps a reference to the A it was packed from: A must not
// change while the PackedA is used (pack it again after a change). It is
// safe for concurrent use by any number of GemmPackedA calls.
type PackedA[T float32 | float64] struct {
	kern, ti int
	tA       Transpose
	m, k     int
	a        []T
	lda      int
	panels   [][]T // one per depth block: all m rows, as packA lays them out
}

// PackA packs op(A) (m×k; A stored m×k with tA NoTrans, k×m with Trans,
// row stride lda) for the kernel in use now. It panics, as Gemm does, if
// tA is invalid, m or k is negative, lda is too small or a too short.
func PackA[T float32 | float64](tA Transpose, m, k int, a []T, lda int) *PackedA[T] {
	var z T
	ti, fn := 0, "PackA (float32)"
	if unsafe.Sizeof(z) == 8 {
		ti, fn = 1, "PackA (float64)"
	}
	// The checks of an m×1×k product with this A.
	check(fn, tA, NoTrans, m, 1, k, a, lda, make([]T, max(k, 1)), 1, make([]T, max(m, 1)), 1)
	p := &PackedA[T]{kern: int(current.Load()), ti: ti, tA: tA, m: m, k: k, a: a, lda: lda}
	if k == 0 || m == 0 {
		return p
	}
	bl := blocks[p.kern][ti]
	nk := ceilDiv(k, bl.kc)
	me := bl.edgeMR(m % bl.mr)
	rows := m / bl.mr * bl.mr
	if m%bl.mr != 0 {
		rows += me
	}
	p.panels = make([][]T, nk)
	for s := range nk {
		pc, pe := split(k, nk, s)
		kb := pe - pc
		panel := make([]T, rows*kb)
		packA(panel, tA, a, lda, 0, pc, m, kb, bl.mr, me)
		p.panels[s] = panel
	}
	return p
}

// Dims returns op(A)'s m and k.
func (p *PackedA[T]) Dims() (m, k int) { return p.m, p.k }

// GemmPackedA computes C = alpha·op(A)·op(B) + beta·C with op(A) from pa
// (m×k as pa was packed), bitwise as Gemm would on the A pa was packed
// from. Where Gemm would not use packed panels (a matrix-vector product,
// a small product, one narrower than a register tile, or a kernel changed
// since PackA) it calls Gemm with that A. It panics as Gemm does, and if m
// or k differ from pa's.
func GemmPackedA[T float32 | float64](tB Transpose, m, n, k int, alpha T, pa *PackedA[T], b []T, ldb int, beta T, c []T, ldc int) {
	if m != pa.m || k != pa.k {
		usage(ErrShape, "GemmPackedA", "m %d, k %d but the PackedA is %d×%d (m×k)", m, k, pa.m, pa.k)
	}
	kern := int(current.Load())
	if kern != pa.kern || pa.panels == nil || m <= 1 || n <= 1 || alpha == 0 || isSmall(kern, m, n, k) ||
		swapEdges && swapPays(blocks[kern][pa.ti], m, n) {
		Gemm(pa.tA, tB, m, n, k, alpha, pa.a, pa.lda, b, ldb, beta, c, ldc)
		return
	}
	fn := "GemmPackedA (float32)"
	if pa.ti == 1 {
		fn = "GemmPackedA (float64)"
	}
	check(fn, pa.tA, tB, m, n, k, pa.a, pa.lda, b, ldb, c, ldc)
	driveWith(kern, pa.ti, pa.tA, tB, m, n, k, alpha, pa.a, pa.lda, b, ldb, nil, nil, pa.panels, beta, c, ldc, false)
}
