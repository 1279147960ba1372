package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
)

type float interface{ float32 | float64 }

// unitRoundoff is u for T: 2⁻²⁴ or 2⁻⁵³.
func unitRoundoff[T float]() float64 {
	var z T
	if _, ok := any(z).(float64); ok {
		return 0x1p-53
	}
	return 0x1p-24
}

func typeIndex[T float]() int {
	var z T
	if _, ok := any(z).(float64); ok {
		return 1
	}
	return 0
}

// callGemm calls Sgemm or Dgemm for T.
func callGemm[T float](tA, tB Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		Sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		Dgemm(tA, tB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// withKernel runs f as one subtest per kernel this CPU can run
// (impl=generic/avx2/avx512), restoring the kernel afterwards.
func withKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, name := range testKernels() {
		t.Run("impl="+name, func(t *testing.T) {
			prev := Kernel()
			require.NoError(t, SetKernel(name))
			defer func() { require.NoError(t, SetKernel(prev)) }()
			f(t)
		})
	}
}

// testKernels is the kernels withKernel runs: all of them, except in the
// emulated CI runs (-short with ADJOINT_EXPECT_KERNEL set: qemu-user's
// Haswell, Nehalem and arm64), which test only the kernel that run exists
// for. The others are the same code tested natively, and emulating them
// too doubled the longest CI steps.
func testKernels() []string {
	if want := os.Getenv("ADJOINT_EXPECT_KERNEL"); want != "" && testing.Short() {
		return []string{want}
	}
	return Kernels()
}

// guarded is a stored rows×cols matrix with leading dimension ld inside a
// buffer of NaN guards: 16 before, 16 after and every gap between rows.
type guarded[T float] struct {
	buf              []T
	s                []T // the slice passed to GEMM: exactly (rows-1)*ld+cols long
	rows, cols, ld   int
	pad              int
	used             func(i int) bool // whether s[i] is an element of the matrix
	origBits, nanPat []uint64
}

const guardPad = 16

func newGuarded[T float](rng *rand.Rand, rows, cols, ld int) *guarded[T] {
	n := 0
	if rows > 0 && cols > 0 {
		n = (rows-1)*ld + cols
	}
	g := &guarded[T]{buf: make([]T, n+2*guardPad), rows: rows, cols: cols, ld: ld, pad: guardPad}
	nan := T(math.NaN())
	for i := range g.buf {
		g.buf[i] = nan
	}
	g.s = g.buf[guardPad : guardPad+n : guardPad+n]
	for i := range rows {
		for j := range cols {
			g.s[i*ld+j] = T(rng.Float64()*2 - 1)
		}
	}
	return g
}

func (g *guarded[T]) at(i, j int) T { return g.s[i*g.ld+j] }

func (g *guarded[T]) inside(idx int) bool {
	idx -= g.pad
	if idx < 0 || idx >= len(g.s) {
		return false
	}
	return idx%g.ld < g.cols
}

func (g *guarded[T]) clone() []T { return append([]T(nil), g.buf...) }

func bitsOf[T float](v T) uint64 {
	switch v := any(v).(type) {
	case float32:
		return uint64(math.Float32bits(v))
	case float64:
		return math.Float64bits(v)
	}
	return 0
}

// opAt returns op(X)(i, j) of a stored matrix.
func opAt[T float](g *guarded[T], t Transpose, i, j int) T {
	if t == Trans {
		return g.at(j, i)
	}
	return g.at(i, j)
}

// gemmCase is one product to check, with stored dimensions derived from the
// transposes and the leading dimensions padded by ldPad.
type gemmCase struct {
	tA, tB      Transpose
	m, n, k     int
	alpha, beta float64
	ldPad       int
	cNaN        bool // fill C with NaN (only meaningful with beta == 0)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("%c%c/m=%d/n=%d/k=%d/alpha=%v/beta=%v/ldpad=%d", tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.ldPad)
}

type operands[T float] struct {
	a, b, c *guarded[T]
	lda     int
	ldb     int
	ldc     int
}

func makeOperands[T float](rng *rand.Rand, tc gemmCase) operands[T] {
	ar, ac := tc.m, tc.k
	if tc.tA == Trans {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.tB == Trans {
		br, bc = tc.n, tc.k
	}
	o := operands[T]{lda: max(ac, 1) + tc.ldPad, ldb: max(bc, 1) + tc.ldPad, ldc: max(tc.n, 1) + tc.ldPad}
	o.a = newGuarded[T](rng, ar, ac, o.lda)
	o.b = newGuarded[T](rng, br, bc, o.ldb)
	o.c = newGuarded[T](rng, tc.m, tc.n, o.ldc)
	if tc.cNaN {
		for i := range tc.m {
			for j := range tc.n {
				o.c.s[i*o.ldc+j] = T(math.NaN())
			}
		}
	}
	return o
}

// run calls GEMM on o and returns C's buffer afterwards.
func (o operands[T]) run(tc gemmCase, c []T) {
	callGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, T(tc.alpha), o.a.s, o.lda, o.b.s, o.ldb, T(tc.beta), c, o.ldc)
}

// checkGemm runs one case and checks it against a float64 triple loop with
// the error bound of a k-term dot product, (k+3)·u·(|alpha|·Σ|a||b| +
// |beta·c|), and checks that nothing outside C's elements was written and A
// and B are unchanged.
func checkGemm[T float](t *testing.T, rng *rand.Rand, tc gemmCase) {
	t.Helper()
	o := makeOperands[T](rng, tc)
	a0, b0, c0 := o.a.clone(), o.b.clone(), o.c.clone()
	o.run(tc, o.c.s)
	u := unitRoundoff[T]()
	for idx := range o.a.buf {
		require.Equal(t, bitsOf(a0[idx]), bitsOf(o.a.buf[idx]), "%v: A changed at buffer index %d", tc, idx)
	}
	for idx := range o.b.buf {
		require.Equal(t, bitsOf(b0[idx]), bitsOf(o.b.buf[idx]), "%v: B changed at buffer index %d", tc, idx)
	}
	for idx := range o.c.buf {
		if !o.c.inside(idx) {
			require.Equal(t, bitsOf(c0[idx]), bitsOf(o.c.buf[idx]), "%v: write outside C at buffer index %d", tc, idx)
		}
	}
	for i := range tc.m {
		for j := range tc.n {
			var s, sa float64
			if tc.alpha != 0 {
				for p := range tc.k {
					x, y := float64(opAt(o.a, tc.tA, i, p)), float64(opAt(o.b, tc.tB, p, j))
					s += x * y
					sa += math.Abs(x * y)
				}
			}
			cOld := float64(c0[guardPad+i*o.ldc+j])
			want := tc.alpha * s
			bound := float64(tc.k+3) * u * math.Abs(tc.alpha) * sa
			if tc.beta != 0 {
				want += tc.beta * cOld
				bound += 3 * u * math.Abs(tc.beta*cOld)
			}
			got := float64(o.c.at(i, j))
			if !(math.Abs(got-want) <= bound) {
				require.Failf(t, "wrong element", "%v: C(%d,%d) = %v, want %v ± %v", tc, i, j, got, want, bound)
			}
		}
	}
}

var transPairs = [][2]Transpose{{NoTrans, NoTrans}, {NoTrans, Trans}, {Trans, NoTrans}, {Trans, Trans}}

// sizesAround returns x-1, x, x+1 (positive ones).
func sizesAround(xs ...int) []int {
	var out []int
	seen := map[int]bool{}
	for _, x := range xs {
		for _, v := range []int{x - 1, x, x + 1} {
			if v > 0 && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

func TestGemmShapes(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { withKernel(t, testShapes[float32]) })
	t.Run("type=f64", func(t *testing.T) { withKernel(t, testShapes[float64]) })
}

// testShapes sweeps sizes either side of the tile, the cache blocks and the
// small-matrix cut-off of the kernel in use, in every transpose pair.
func testShapes[T float](t *testing.T) {
	bl := blocks[current.Load()][typeIndex[T]()]
	rng := rand.New(rand.NewPCG(3, 4))
	edge := sizesAround(1, bl.mr, bl.nr, 2*bl.mr, curDesc().smallMax)
	if testing.Short() {
		edge = []int{1, bl.mr - 1, bl.mr + 1, bl.nr + 1}
	}
	ks := []int{1, 5, bl.kc + 1}
	if testing.Short() {
		ks = []int{1, 5}
	}
	for _, tp := range transPairs {
		// m and n across the tile edges, a short k and one past KC.
		for _, m := range edge {
			for _, n := range edge {
				for _, k := range ks {
					checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: m, n: n, k: k, alpha: 1, beta: 0.5})
				}
			}
		}
		// n either side of each narrow edge-kernel width, alone and after
		// full panels; and m likewise for narrow products (n < NR), which
		// may be computed transposed with the edge kernel on the m side.
		for _, w := range bl.nrEdge {
			if w == 0 {
				continue
			}
			ns := sizesAround(w, bl.nr+w)
			if testing.Short() {
				ns = []int{w + 1, bl.nr + w - 1}
			}
			for _, x := range ns {
				checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: 2*bl.mr + 3, n: x, k: ks[len(ks)-1], alpha: 1, beta: 0.5, ldPad: 1})
				checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: bl.nr + x, n: 3, k: 7, alpha: -1, beta: 0, cNaN: true})
			}
		}
		// m either side of each short edge-kernel height, alone and after a
		// full panel, against full, narrow and no column edges (corners).
		for _, h := range bl.mrEdge {
			if h == 0 {
				continue
			}
			ms, ns := sizesAround(h, bl.mr+h), []int{bl.nr + 3, 2 * bl.nr, bl.nr - 1}
			if testing.Short() {
				ms, ns = []int{h - 1, bl.mr + h}, []int{bl.nr + 3}
			}
			for _, m := range ms {
				for _, n := range ns {
					checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: m, n: n, k: ks[len(ks)-1], alpha: 0.5, beta: 1, ldPad: 2})
				}
			}
		}
		// Either side of the small-matrix cut-off (m·n·k <= kernelDesc.smallMax³).
		for _, d := range [][3]int{{0, 0, 0}, {0, 0, 1}, {1, 0, 0}, {-1, 0, 0}, {0, 1, 1}} {
			sm := curDesc().smallMax
			m, n, k := sm+d[0], sm+d[1], sm+d[2]
			require.Equal(t, d[0]+d[1]+d[2] <= 0, isSmall(int(current.Load()), m, n, k))
			checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: m, n: n, k: k, alpha: 2.5, beta: 1, ldPad: 2})
		}
		// B rows 4 KB apart (packed, not read in place, where packAliased
		// says so) and 4 KB + one element apart (read in place below the
		// cut-off), with a partial last column panel.
		var z T
		for _, pad := range []int{0, 1} {
			ldb := 4096/int(unsafe.Sizeof(z)) + pad
			n := ldb - bl.nr/2 - 1
			checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: 2*bl.mr + 1, n: n, k: 37, alpha: 1, beta: 0.5, ldPad: ldb - n})
		}
		// k either side of KC, ld larger than the row.
		for _, k := range sizesAround(bl.kc, 2*bl.kc) {
			checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: bl.mr + 3, n: bl.nr + 5, k: k, alpha: -1, beta: 1, ldPad: 3})
		}
		if testing.Short() {
			continue
		}
		// m either side of MC, n either side of NC.
		for _, m := range sizesAround(bl.mc) {
			checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: m, n: bl.nr + 1, k: 9, alpha: 0.5, beta: -1, ldPad: 1})
		}
		for _, n := range sizesAround(bl.nc) {
			checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: bl.mr + 1, n: n, k: 9, alpha: 0.5, beta: -1, ldPad: 1})
		}
		checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: 123, n: 157, k: 2*bl.kc + 7, alpha: 1, beta: 0, ldPad: 5, cNaN: true})
	}
}

func TestGemmAlphaBeta(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { withKernel(t, testAlphaBeta[float32]) })
	t.Run("type=f64", func(t *testing.T) { withKernel(t, testAlphaBeta[float64]) })
}

func testAlphaBeta[T float](t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vals := []float64{0, 1, -1, 0.5}
	sizes := [][3]int{{3, 5, 4}, {37, 61, 29}, {50, 70, 140}}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, tp := range transPairs {
		for _, alpha := range vals {
			for _, beta := range vals {
				for _, sz := range sizes {
					tc := gemmCase{tA: tp[0], tB: tp[1], m: sz[0], n: sz[1], k: sz[2], alpha: alpha, beta: beta, ldPad: 2, cNaN: beta == 0}
					checkGemm[T](t, rng, tc)
				}
			}
		}
	}
}

// TestGemmNoRead checks that alpha == 0 and k == 0 never read A or B (NaN
// there must not reach C) and that beta == 0 then zeroes C without reading it.
func TestGemmNoRead(t *testing.T) {
	nan := math.NaN()
	for _, k := range []int{0, 4} {
		for _, beta := range []float64{0, 1, 0.5} {
			t.Run(fmt.Sprintf("k=%d/beta=%v", k, beta), func(t *testing.T) {
				m, n := 3, 5
				a := make([]float64, max(m*k, 1))
				b := make([]float64, max(k*n, 1))
				for i := range a {
					a[i] = nan
				}
				for i := range b {
					b[i] = nan
				}
				c := make([]float64, m*n)
				for i := range c {
					c[i] = float64(i)
					if beta == 0 {
						c[i] = nan
					}
				}
				alpha := 0.0
				if k == 0 {
					alpha = 2
				}
				Dgemm(NoTrans, NoTrans, m, n, k, alpha, a, max(k, 1), b, n, beta, c, n)
				for i := range c {
					want := beta * float64(i)
					require.Equal(t, want, c[i], "C[%d]", i)
				}
			})
		}
	}
}

func TestGemmNaNInf(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { withKernel(t, testNaNInf[float32]) })
	t.Run("type=f64", func(t *testing.T) { withKernel(t, testNaNInf[float64]) })
}

// testNaNInf puts a NaN in A and an Inf in B and checks they reach exactly
// the row and column of C that depend on them.
func testNaNInf[T float](t *testing.T) {
	bl := blocks[current.Load()][typeIndex[T]()]
	for _, sz := range [][3]int{{5, 7, 3}, {2*bl.mr + 1, 2*bl.nr + 3, bl.kc + 2}} {
		m, n, k := sz[0], sz[1], sz[2]
		a := make([]T, m*k)
		b := make([]T, k*n)
		for i := range a {
			a[i] = 1
		}
		for i := range b {
			b[i] = 1
		}
		ni, nj := m-2, n/2
		a[ni*k+1] = T(math.NaN())
		b[(k-1)*n+nj] = T(math.Inf(1))
		c := make([]T, m*n)
		callGemm(NoTrans, NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
		for i := range m {
			for j := range n {
				v := float64(c[i*n+j])
				switch {
				case i == ni:
					require.True(t, math.IsNaN(v), "C(%d,%d) = %v, want NaN", i, j, v)
				case j == nj:
					require.True(t, math.IsInf(v, 1), "C(%d,%d) = %v, want +Inf", i, j, v)
				default:
					require.Equal(t, float64(k), v, "C(%d,%d)", i, j)
				}
			}
		}
	}
}

// TestGemmThreadsBitwise checks that results do not depend on the thread
// count, at shapes that split by rows, by columns and both.
func TestGemmThreadsBitwise(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { withKernel(t, testThreadsBitwise[float32]) })
	t.Run("type=f64", func(t *testing.T) { withKernel(t, testThreadsBitwise[float64]) })
}

func testThreadsBitwise[T float](t *testing.T) {
	lowParMin(t)
	defer parallel.SetThreads(parallel.Threads())
	bl := blocks[current.Load()][typeIndex[T]()]
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := [][3]int{
		{203, 301, bl.kc + 9},          // rows split
		{bl.mr, 40 * bl.nr, 150},       // only columns can split
		{3*bl.mr + 1, 9*bl.nr + 2, 97}, // both
		{301, max(bl.nr/2, 1), 200},    // narrow: computed transposed
	}
	if w := bl.nrEdge[0]; w != 0 {
		// Columns split, the last panel through the narrow edge kernel.
		shapes = append(shapes, [3]int{2*bl.mr + 1, 6*bl.nr + w - 3, 150})
	}
	for _, sh := range shapes {
		// Deep enough to be worth splitting.
		sh[2] = max(sh[2], ceilDiv(curDesc().parMinFlops, 2*sh[0]*sh[1])+1)
		pairs, counts := transPairs, []int{1, 2, 4}
		if testing.Short() {
			pairs, counts = transPairs[1:3], []int{1, 2}
		}
		for _, tp := range pairs {
			tc := gemmCase{tA: tp[0], tB: tp[1], m: sh[0], n: sh[1], k: sh[2], alpha: 0.5, beta: -1, ldPad: 1}
			require.GreaterOrEqual(t, 2*tc.m*tc.n*tc.k, curDesc().parMinFlops, "shape too small to split")
			o := makeOperands[T](rng, tc)
			var ref []T
			for _, th := range counts {
				parallel.SetThreads(th)
				c := o.c.clone()
				o.run(tc, c[guardPad:guardPad+len(o.c.s)])
				if ref == nil {
					ref = c
					continue
				}
				for i := range c {
					require.Equal(t, bitsOf(ref[i]), bitsOf(c[i]), "%v: threads=%d differs at %d", tc, th, i)
				}
			}
		}
	}
}

// TestGemmConcurrent has 16 goroutines multiply at once (run it with -race),
// one of them with a product that is itself split across threads.
func TestGemmConcurrent(t *testing.T) {
	lowParMin(t)
	defer parallel.SetThreads(parallel.SetThreads(2))
	require.GreaterOrEqual(t, flops(400, 200, 110), float64(curDesc().parMinFlops))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			m, n, k := 20+g*7, 30+g*5, 40+g*3
			if g%2 == 0 {
				m, n, k = 100+g, 90+g, 110
			}
			if g == 0 {
				m, n, k = 400, 200, 110 // large enough to split across threads
			}
			a := make([]float32, m*k)
			b := make([]float32, k*n)
			for i := range a {
				a[i] = float32(rng.IntN(7) - 3)
			}
			for i := range b {
				b[i] = float32(rng.IntN(7) - 3)
			}
			c := make([]float32, m*n)
			for range 3 {
				Sgemm(NoTrans, Trans, m, n, k, 1, a, k, transposed(b, k, n), k, 0, c, n)
				for i := range m {
					for j := range n {
						var s float32
						for p := range k {
							s += a[i*k+p] * b[p*n+j]
						}
						// Small integers: every partial sum is exact.
						if c[i*n+j] != s {
							errs <- fmt.Errorf("goroutine %d: C(%d,%d) = %v, want %v", g, i, j, c[i*n+j], s)
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func transposed[T float](x []T, r, c int) []T {
	y := make([]T, len(x))
	for i := range r {
		for j := range c {
			y[j*r+i] = x[i*c+j]
		}
	}
	return y
}

func TestGemmNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("512³ products are slow under -short/-race")
	}
	defer parallel.SetThreads(parallel.SetThreads(1))
	const n = 512
	a32, b32, c32 := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	a64, b64, c64 := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	Sgemm(NoTrans, NoTrans, n, n, n, 1, a32, n, b32, n, 0, c32, n) // warm the pools
	Dgemm(NoTrans, NoTrans, n, n, n, 1, a64, n, b64, n, 0, c64, n)
	require.Zero(t, testing.AllocsPerRun(3, func() {
		Sgemm(NoTrans, NoTrans, n, n, n, 1, a32, n, b32, n, 0, c32, n)
	}), "Sgemm allocations")
	require.Zero(t, testing.AllocsPerRun(3, func() {
		Dgemm(Trans, Trans, n, n, n, 1, a64, n, b64, n, 1, c64, n)
	}), "Dgemm allocations")
	require.Zero(t, testing.AllocsPerRun(20, func() {
		Sgemm(NoTrans, NoTrans, 8, 8, 8, 1, a32, 8, b32, 8, 0, c32, 8)
	}), "small Sgemm allocations")
}

func TestKernelSelection(t *testing.T) {
	ks := Kernels()
	require.Contains(t, ks, "generic")
	require.Contains(t, ks, Kernel())
	prev := Kernel()
	err := SetKernel("sse9")
	require.ErrorIs(t, err, ErrKernel)
	require.Equal(t, prev, Kernel())
	for _, name := range []string{"avx2", "avx512"} {
		if !available(map[string]int{"avx2": kernAVX2, "avx512": kernAVX512}[name]) {
			err := SetKernel(name)
			require.ErrorIs(t, err, ErrKernel)
			require.Equal(t, prev, Kernel())
		}
	}
	for _, name := range ks {
		require.NoError(t, SetKernel(name))
		require.Equal(t, name, Kernel())
	}
	require.NoError(t, SetKernel(prev))
	// The default is the best available one.
	require.Equal(t, ks[len(ks)-1], kernels[bestKernel()].name)
}

// lowParMin lowers the parallel cut-off for the rest of t to 2·96³, the
// tests' reference value, so that their shapes split across threads while
// staying small enough for the race detector and qemu; the table's
// parMinFlops is a tuned judgement (see kernels.go) that may change.
func lowParMin(t testing.TB) {
	setKernelDescs(t, func(kd *kernelDesc) { kd.parMinFlops = 2 * 96 * 96 * 96 })
}
