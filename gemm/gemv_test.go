package gemm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/parallel"
)

// callGemv calls Sgemv or Dgemv for T.
func callGemv[T float](tA Transpose, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	switch a := any(a).(type) {
	case []float32:
		Sgemv(tA, m, n, float32(alpha), a, lda, any(x).([]float32), float32(beta), any(y).([]float32))
	case []float64:
		Dgemv(tA, m, n, float64(alpha), a, lda, any(x).([]float64), float64(beta), any(y).([]float64))
	}
}

type gemvCase struct {
	tA          Transpose
	m, n, ldPad int
	alpha, beta float64
	yNaN        bool // fill y with NaN (beta == 0 must not read it)
}

func (tc gemvCase) String() string {
	return fmt.Sprintf("%c/m=%d/n=%d/ldpad=%d/alpha=%v/beta=%v", tc.tA, tc.m, tc.n, tc.ldPad, tc.alpha, tc.beta)
}

// verifyGemv runs one case inside NaN guards and checks y against a float64
// loop with the error bound of a k-term dot product, that nothing but y's
// elements was written and that A and x are unchanged.
func verifyGemv[T float](t *testing.T, rng *rand.Rand, tc gemvCase) {
	t.Helper()
	lx, ly := tc.n, tc.m
	if tc.tA == Trans {
		lx, ly = tc.m, tc.n
	}
	lda := max(tc.n, 1) + tc.ldPad
	a := newGuarded[T](rng, tc.m, tc.n, lda)
	x := newGuarded[T](rng, 1, lx, max(lx, 1))
	y := newGuarded[T](rng, 1, ly, max(ly, 1))
	if tc.yNaN {
		for i := range y.s {
			y.s[i] = T(math.NaN())
		}
	}
	a0, x0, y0 := a.clone(), x.clone(), y.clone()
	callGemv(tc.tA, tc.m, tc.n, T(tc.alpha), a.s, lda, x.s, T(tc.beta), y.s)
	for i := range a.buf {
		require.Equal(t, bitsOf(a0[i]), bitsOf(a.buf[i]), "%v: A changed at buffer index %d", tc, i)
	}
	for i := range x.buf {
		require.Equal(t, bitsOf(x0[i]), bitsOf(x.buf[i]), "%v: x changed at buffer index %d", tc, i)
	}
	for i := range y.buf {
		if !y.inside(i) {
			require.Equal(t, bitsOf(y0[i]), bitsOf(y.buf[i]), "%v: write outside y at buffer index %d", tc, i)
		}
	}
	u := unitRoundoff[T]()
	k := lx
	for i := range ly {
		var s, sa float64
		if tc.alpha != 0 {
			for p := range k {
				var av T
				if tc.tA == Trans {
					av = a.at(p, i)
				} else {
					av = a.at(i, p)
				}
				v := float64(av) * float64(x.s[p])
				s += v
				sa += math.Abs(v)
			}
		}
		want := tc.alpha * s
		bound := float64(k+3) * u * math.Abs(tc.alpha) * sa
		if tc.beta != 0 {
			old := float64(y0[guardPad+i])
			want += tc.beta * old
			bound += 3 * u * math.Abs(tc.beta*old)
		}
		got := float64(y.s[i])
		if !(math.Abs(got-want) <= bound) {
			require.Failf(t, "wrong element", "%v: y[%d] = %v, want %v ± %v", tc, i, got, want, bound)
		}
	}
}

func TestGemvShapes(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { withKernel(t, testGemvShapes[float32]) })
	t.Run("type=f64", func(t *testing.T) { withKernel(t, testGemvShapes[float64]) })
}

// testGemvShapes sweeps m and n either side of the vector widths (4 and 8
// lanes), the kernels' 2-vector step (16 float32) and the 4-row group, with
// leading dimensions past the row, and alpha and beta with their special
// values.
func testGemvShapes[T float](t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sizes := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 15, 16, 17, 23, 24, 31, 32, 33, 67}
	if testing.Short() {
		sizes = []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33}
	}
	ab := [][2]float64{{1, 0}, {1, 1}, {-0.5, 0.7}}
	for _, tA := range []Transpose{NoTrans, Trans} {
		for _, m := range sizes {
			for _, n := range sizes {
				for i, c := range ab {
					verifyGemv[T](t, rng, gemvCase{tA: tA, m: m, n: n, ldPad: 3 * (i % 2), alpha: c[0], beta: c[1], yNaN: c[1] == 0})
				}
			}
		}
		// Past the Trans column block, and longer rows.
		verifyGemv[T](t, rng, gemvCase{tA: tA, m: 5, n: gemvColBlock + 9, alpha: 1.5, beta: -1})
		verifyGemv[T](t, rng, gemvCase{tA: tA, m: 301, n: 517, ldPad: 1, alpha: 1, beta: 0, yNaN: true})
		// alpha == 0: y = beta·y, A and x not read.
		verifyGemv[T](t, rng, gemvCase{tA: tA, m: 9, n: 7, alpha: 0, beta: 0.5})
		verifyGemv[T](t, rng, gemvCase{tA: tA, m: 9, n: 7, alpha: 0, beta: 0, yNaN: true})
	}
}

// TestGemvAlphaZeroSkipsA: with alpha == 0, NaNs in A and x do not reach y.
func TestGemvAlphaZeroSkipsA(t *testing.T) {
	nan := float32(math.NaN())
	a := []float32{nan, nan, nan, nan}
	y := []float32{1, 2}
	Sgemv(NoTrans, 2, 2, 0, a, 2, []float32{nan, nan}, 2, y)
	require.Equal(t, []float32{2, 4}, y)
	Sgemv(Trans, 2, 2, 0, a, 2, []float32{nan, nan}, 0, y)
	require.Equal(t, []float32{0, 0}, y)
}

// TestGemvThreads checks that the result is bitwise the same for any thread
// count, for every kernel: the split never cuts a dot product.
func TestGemvThreads(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { withKernel(t, testGemvThreads[float32]) })
	t.Run("type=f64", func(t *testing.T) { withKernel(t, testGemvThreads[float64]) })
}

func testGemvThreads[T float](t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := [][2]int{{1001, 300}, {300, 1001}, {4099, 33}, {33, 4099}, {1, 70000}, {70000, 1}}
	for _, tA := range []Transpose{NoTrans, Trans} {
		for _, sh := range shapes {
			m, n := sh[0], sh[1]
			lda := n + 1
			a := newGuarded[T](rng, m, n, lda)
			lx, ly := n, m
			if tA == Trans {
				lx, ly = m, n
			}
			x := make([]T, lx)
			for i := range x {
				x[i] = T(rng.Float64()*2 - 1)
			}
			y0 := make([]T, ly)
			for i := range y0 {
				y0[i] = T(rng.Float64())
			}
			var ref []T
			for _, th := range []int{1, 2, 3, 7} {
				y := append([]T(nil), y0...)
				func() {
					defer parallel.SetThreads(parallel.SetThreads(th))
					callGemv(tA, m, n, 0.75, a.s, lda, x, 0.5, y)
				}()
				if ref == nil {
					ref = y
					continue
				}
				for i := range y {
					if bitsOf(y[i]) != bitsOf(ref[i]) {
						require.Failf(t, "thread count changed the result", "%c m=%d n=%d threads=%d: y[%d] = %v, 1 thread %v", tA, m, n, th, i, y[i], ref[i])
					}
				}
			}
		}
	}
}

// TestGemvNoAlloc: a parallel call allocates nothing once warm.
func TestGemvNoAlloc(t *testing.T) {
	defer parallel.SetThreads(parallel.SetThreads(2))
	m, n := 512, 512
	a, x, y := make([]float32, m*n), make([]float32, n), make([]float32, m)
	for _, tA := range []Transpose{NoTrans, Trans} {
		allocs := testing.AllocsPerRun(10, func() { Sgemv(tA, m, n, 1, a, n, x, 1, y) })
		require.Zero(t, allocs, "%c", tA)
	}
}

func TestGemvPanics(t *testing.T) {
	a := make([]float32, 12)
	x, y := make([]float32, 4), make([]float32, 4)
	cases := []struct {
		f    func()
		kind error
		msg  string
	}{
		{func() { Sgemv('X', 3, 4, 1, a, 4, x, 0, y) }, ErrTranspose, `gemm: Sgemv: tA 'X' is neither NoTrans nor Trans`},
		{func() { Sgemv(NoTrans, -1, 4, 1, a, 4, x, 0, y) }, ErrShape, `gemm: Sgemv: m -1 < 0`},
		{func() { Sgemv(NoTrans, 3, -2, 1, a, 4, x, 0, y) }, ErrShape, `gemm: Sgemv: n -2 < 0`},
		{func() { Sgemv(NoTrans, 3, 4, 1, a, 3, x, 0, y) }, ErrLeadingDim, `gemm: Sgemv: lda 3 < n 4`},
		{func() { Sgemv(NoTrans, 3, 0, 1, a, 0, x, 0, y) }, ErrLeadingDim, `gemm: Sgemv: lda 0 < 1`},
		{func() { Sgemv(NoTrans, 4, 4, 1, a, 4, x, 0, y) }, ErrShort, `gemm: Sgemv: len(a) 12 < 16 (4×4, ld 4)`},
		{func() { Sgemv(NoTrans, 3, 4, 1, a, 4, x[:3], 0, y) }, ErrShort, `gemm: Sgemv: len(x) 3 < 4 (1×4, ld 4)`},
		{func() { Sgemv(Trans, 3, 4, 1, a, 4, x[:2], 0, y) }, ErrShort, `gemm: Sgemv: len(x) 2 < 3 (1×3, ld 3)`},
		{func() { Sgemv(NoTrans, 3, 4, 1, a, 4, x, 0, y[:2]) }, ErrShort, `gemm: Sgemv: len(y) 2 < 3 (1×3, ld 3)`},
		{func() { Sgemv(NoTrans, 2, 4, 1, a, 4, x, 0, a[5:7]) }, ErrOverlap, `gemm: Sgemv: y overlaps a`},
		{func() { Sgemv(Trans, 2, 2, 1, a, 2, y[:2], 0, y[1:3]) }, ErrOverlap, `gemm: Sgemv: y overlaps x`},
	}
	for _, c := range cases {
		func() {
			defer func() {
				r := recover()
				require.NotNil(t, r, c.msg)
				err, ok := r.(error)
				require.True(t, ok, "%v", r)
				require.True(t, errors.Is(err, c.kind), "%v", err)
				require.Equal(t, c.msg, err.Error())
			}()
			c.f()
		}()
	}
	// Nothing is written before the panic.
	y = []float32{1, 2, 3, 4}
	require.Panics(t, func() { Sgemv(NoTrans, 4, 4, 1, a, 4, x, 0, y) })
	require.Equal(t, []float32{1, 2, 3, 4}, y)
	// Dgemv names itself.
	require.PanicsWithError(t, `gemm: Dgemv: m -1 < 0`, func() { Dgemv(NoTrans, -1, 1, 1, nil, 1, nil, 0, nil) })
}

// TestGemmVectorShapes checks Sgemm and Dgemm on products with one side a
// vector (m == 1 or n == 1), which they may hand to the GEMV kernels, in
// every transpose pair, with and without padded leading dimensions.
func TestGemmVectorShapes(t *testing.T) {
	t.Run("type=f32", func(t *testing.T) { withKernel(t, testGemmVectorShapes[float32]) })
	t.Run("type=f64", func(t *testing.T) { withKernel(t, testGemmVectorShapes[float64]) })
}

func testGemmVectorShapes[T float](t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	others := []int{1, 7, 17, 130}
	ks := []int{1, 9, 300}
	for _, tp := range transPairs {
		for _, o := range others {
			for _, k := range ks {
				for _, pad := range []int{0, 2} {
					checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: 1, n: o, k: k, alpha: 1, beta: 0.5, ldPad: pad})
					checkGemm[T](t, rng, gemmCase{tA: tp[0], tB: tp[1], m: o, n: 1, k: k, alpha: -2, beta: 0, ldPad: pad, cNaN: true})
				}
			}
		}
	}
}

// FuzzGemv checks Sgemv and Dgemv with every kernel this CPU runs on
// fuzzer-chosen shapes (past the 4-row groups, the vector widths and the
// two-vector steps), padding, alpha, beta and transpose against the float64
// loop, inside NaN guards.
func FuzzGemv(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(0), uint8(1), false, uint64(1))
	f.Add(uint8(17), uint8(33), uint8(1), uint8(6), true, uint64(2))
	f.Add(uint8(130), uint8(7), uint8(2), uint8(8), false, uint64(3))
	f.Add(uint8(255), uint8(255), uint8(3), uint8(13), true, uint64(4))
	f.Fuzz(func(t *testing.T, m, n, pad, ab uint8, trans bool, seed uint64) {
		vals := []float64{0, 1, -1, 0.5, 2.5}
		tc := gemvCase{m: int(m), n: int(n), ldPad: int(pad) % 5,
			alpha: vals[int(ab)%len(vals)], beta: vals[int(ab)/len(vals)%len(vals)], tA: NoTrans}
		if trans {
			tc.tA = Trans
		}
		tc.yNaN = tc.beta == 0
		prev := Kernel()
		defer func() { _ = SetKernel(prev) }()
		for _, name := range Kernels() {
			if err := SetKernel(name); err != nil {
				t.Fatal(err)
			}
			verifyGemv[float32](t, rand.New(rand.NewPCG(seed, 1)), tc)
			verifyGemv[float64](t, rand.New(rand.NewPCG(seed, 2)), tc)
		}
	})
}
