package gemm

import "github.com/klauspost/cpuid/v2"

// blocking holds the register tile and cache block sizes for one kernel and
// one element type.
type blocking struct {
	mr, nr     int // register tile: the microkernel computes mr×nr of C
	kc, mc, nc int // cache blocks: multiples of 1, mr, nr respectively
	// nrEdge lists, narrowest first, the widths (< nr) of the kernels of
	// the same family for the last, partial column panel; 0 = none.
	nrEdge [2]int
	// mrEdge likewise lists the heights (< mr) of the kernels for the last,
	// partial row panel.
	mrEdge [2]int
}

// padM returns the rows computed for m rows: whole tiles, the last one
// through the shortest edge kernel that covers it.
func (bl *blocking) padM(m int) int {
	p := m / bl.mr * bl.mr
	if m%bl.mr != 0 {
		p += bl.edgeMR(m % bl.mr)
	}
	return p
}

// padN is padM for columns.
func (bl *blocking) padN(n int) int {
	p := n / bl.nr * bl.nr
	if n%bl.nr != 0 {
		p += bl.edgeNR(n % bl.nr)
	}
	return p
}

// edgeMR returns the height of the tile computing a row panel of rows rows.
func (bl *blocking) edgeMR(rows int) int {
	for _, h := range bl.mrEdge {
		if h != 0 && rows <= h {
			return h
		}
	}
	return bl.mr
}

// edgeNR returns the width of the tile computing a column panel of cols
// columns: the narrowest kernel that covers them, nr if none is narrower.
func (bl *blocking) edgeNR(cols int) int {
	for _, w := range bl.nrEdge {
		if w != 0 && cols <= w {
			return w
		}
	}
	return bl.nr
}

// cacheGeom describes the data caches the model uses. cpuid reports only
// sizes; the associativities are typical of current x86 parts (and of most
// arm64 ones) and only steer how much of each level is budgeted.
type cacheGeom struct {
	l1, l2, l3 int // bytes per core (l3: shared)
	w1, w2, w3 int // ways
	line       int // bytes
}

// Safe defaults when cpuid cannot tell (non-x86, virtualised, old CPUs):
// small enough to fit almost any core made in the last fifteen years.
const (
	defL1 = 32 << 10
	defL2 = 256 << 10
	defL3 = 4 << 20
)

func hostCaches() cacheGeom {
	g := cacheGeom{l1: defL1, l2: defL2, l3: defL3, w1: 8, w2: 8, w3: 16, line: 64}
	c := cpuid.CPU.Cache
	if c.L1D > 0 {
		g.l1 = c.L1D
	}
	if c.L2 > 0 {
		g.l2 = c.L2
	}
	if c.L3 > 0 {
		g.l3 = c.L3
	}
	if cpuid.CPU.CacheLine > 0 {
		g.line = cpuid.CPU.CacheLine
	}
	return g
}

// maxNC bounds the B panel so the pack buffer stays modest (a few MiB) even
// when the L3 is huge; beyond a few thousand columns a wider panel saves
// nothing measurable.
const maxNC = 4096

// kcMin is the smallest KC used; see model.
const kcMin = 384

// model derives KC, MC and NC from the cache geometry with the analytical
// model of Low, Igual, Smith and Quintana-Ortí, "Analytical modeling is
// enough for high-performance BLIS" (ACM TOMS 43(2), 2016):
//
//   - L1 keeps the KC×NR micro-panel of B (reused by every MR-row micro-panel
//     of A in the ir loop) while A's MR×KC micro-panel streams through. Of
//     the W1 ways, one is left for C, and A gets CAr = ⌊(W1−1)/(1+NR/MR)⌋
//     ways (at least one), B the proportional rest; so
//     KC = CAr·sets1·line / (MR·size).
//   - L2 keeps the MC×KC block of A, reused by every NR-column micro-panel
//     of B in the jr loop; one way is left for C and enough ways for a B
//     micro-panel, A gets the rest: MC = CAc·sets2·line / (KC·size).
//   - L3 keeps the KC×NC panel of B the same way: NC = CBc·sets3·line /
//     (KC·size), capped at maxNC.
//
// MC and NC are rounded down to multiples of MR and NR.
//
// The model assumes the kernel is bound by L1 traffic. The AVX kernels are
// bound by FMA throughput instead (Zen 4 runs a 512-bit FMA per cycle; B's
// three vector loads per k step easily come from L2), while each kernel call
// pays a fixed cost to load and store its C tile from L2 or L3. So KC is
// raised to at least kcMin, which amortises that cost to a few percent
// (docs/gemm-tuning.md); MC and NC then follow from the model with that KC.
func model(g cacheGeom, mr, nr, size int) blocking {
	sets1 := g.l1 / (g.w1 * g.line)
	car := max(int(float64(g.w1-1)/(1+float64(nr)/float64(mr))), 1)
	kc := max(car*sets1*g.line/(mr*size), kcMin)

	sets2 := g.l2 / (g.w2 * g.line)
	way2 := sets2 * g.line
	cbr := ceilDiv(nr*kc*size, way2)
	cac := max(g.w2-1-cbr, 1)
	mc := max(cac*way2/(kc*size)/mr*mr, mr)

	sets3 := g.l3 / (g.w3 * g.line)
	way3 := sets3 * g.line
	cac3 := ceilDiv(mc*kc*size, way3)
	cbc := max(g.w3-1-cac3, 1)
	nc := min(cbc*way3/(kc*size), maxNC) / nr * nr
	nc = max(nc, nr)
	return blocking{mr: mr, nr: nr, kc: kc, mc: mc, nc: nc}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// blocks[kernel][0 for float32, 1 for float64], fixed at start-up: the
// tiles of the kernel table with cache blocks from the model.
var blocks [numKernels][2]blocking

func init() {
	g := hostCaches()
	for kern, kd := range kernels {
		for ti, tl := range kd.tile {
			bl := model(g, tl.mr, tl.nr, 4<<ti)
			bl.mrEdge, bl.nrEdge = tl.mrEdge, tl.nrEdge
			blocks[kern][ti] = bl
		}
	}
}
