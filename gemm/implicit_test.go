package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/parallel"
)

// storedPacker is an igemm.Packer over a stored row-major k×n B, written
// element by element from packB's documented layout (not with packB), so
// that TestImplicitMatchesSgemm checks the driver's use of a packer and
// not packB against itself.
type storedPacker[T float] struct {
	b   []T
	ldb int
}

func (sp *storedPacker[T]) PackB(dst []T, p0, j0, nb, kb, nr, ew, q0, q1 int) {
	for q := q0; q < q1; q++ {
		jr := q * nr
		w := nr
		if nb-jr < nr {
			w = ew
		}
		for p := range kb {
			for j := range w {
				v := T(0)
				if jr+j < nb {
					v = sp.b[(p0+p)*sp.ldb+j0+jr+j]
				}
				dst[jr*kb+p*w+j] = v
			}
		}
	}
}

// inPlacePacker is a storedPacker that also offers its rows in place
// (igemm.InPlace): a copy of B with the rows in reverse order, unevenly
// spaced, NaN between them, so that a kernel reading a wrong row or past
// a row's n values puts NaN into C.
type inPlacePacker[T float] struct {
	storedPacker[T]
	base []T
	off  []int
}

func newInPlacePacker[T float](b []T, ldb, k, n int) *inPlacePacker[T] {
	ip := &inPlacePacker[T]{storedPacker: storedPacker[T]{b, ldb}, off: make([]int, k)}
	ip.base = make([]T, k*(n+3)+3)
	for i := range ip.base {
		ip.base[i] = T(math.NaN())
	}
	for r := range k {
		ip.off[r] = (k-1-r)*(n+3) + r%3
		copy(ip.base[ip.off[r]:ip.off[r]+n], b[r*ldb:r*ldb+n])
	}
	return ip
}

func (ip *inPlacePacker[T]) RowsInPlace() ([]T, []int) { return ip.base, ip.off }

func implicitCall[T float](m, n, k int, alpha T, a []T, lda int, pk igemm.Packer[T], beta T, c []T, ldc int) bool {
	return igemm.Gemm(m, n, k, alpha, a, lda, pk, beta, c, ldc)
}

// TestImplicitMatchesSgemm: the implicit entry point gives Sgemm's (Dgemm's)
// result bit for bit, on every kernel, at one and two threads, for shapes
// either side of the tile, KC, NC, the in-place B cut-off (kernelDesc.directBRows) and
// the parallel threshold, with leading dimensions larger than the rows,
// with B packed and with B read in place through row offsets
// (igemm.InPlace); and it declines (false, C untouched) exactly where Sgemm
// takes another path.
func TestImplicitMatchesSgemm(t *testing.T) {
	t.Run("type=float32", func(t *testing.T) { testImplicit[float32](t) })
	t.Run("type=float64", func(t *testing.T) { testImplicit[float64](t) })
}

func testImplicit[T float](t *testing.T) {
	bl := blocks[bestKernel()][typeIndex[T]()]
	shapes := [][3]int{
		{1, 1, 1}, {3, 5, 7}, {8, 48, 1}, {9, 49, 25}, {32, 784, 25}, {64, 196, 150},
		{65, 100, 30}, {70, 5, 40}, {17, bl.nr - 1, 3}, {100, 2*bl.nr + 3, bl.kc + 1},
		{2*bl.mr + 1, bl.nc + 5, 20}, {250, 260, 240},
		{kernels[kernAVX512].directBRows[typeIndex[T]()], 60, 30}, {kernels[kernAVX512].directBRows[typeIndex[T]()] + 1, 60, 30},
	}
	if testing.Short() {
		shapes = shapes[:10]
	}
	withKernel(t, func(t *testing.T) {
		for _, threads := range []int{1, 2} {
			for _, s := range shapes {
				for _, ab := range [][2]T{{1, 0}, {1, 1}, {-0.5, 0.25}} {
					for _, inPlace := range []bool{false, true} {
						m, n, k := s[0], s[1], s[2]
						t.Run(fmt.Sprintf("threads=%d/m=%d/n=%d/k=%d/alpha=%v/beta=%v/inplace=%v", threads, m, n, k, ab[0], ab[1], inPlace), func(t *testing.T) {
							defer parallel.SetThreads(parallel.SetThreads(threads))
							r := rand.New(rand.NewPCG(uint64(m), uint64(n*k)))
							lda, ldb, ldc := k+3, n+2, n+1
							a, b := make([]T, m*lda), make([]T, k*ldb)
							for i := range a {
								a[i] = T(r.NormFloat64())
							}
							for i := range b {
								b[i] = T(r.NormFloat64())
							}
							want, got := make([]T, m*ldc), make([]T, m*ldc)
							for i := range want {
								want[i] = T(r.NormFloat64())
								got[i] = want[i]
							}
							before := append([]T(nil), got...)
							callGemm(NoTrans, NoTrans, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
							var pk igemm.Packer[T] = &storedPacker[T]{b, ldb}
							if inPlace {
								pk = newInPlacePacker(b, ldb, k, n)
							}
							ok := implicitCall(m, n, k, ab[0], a, lda, pk, ab[1], got, ldc)
							declines := isSmall(int(current.Load()), m, n, k) || swapPays(blocks[current.Load()][typeIndex[T]()], m, n)
							require.Equal(t, !declines, ok, "implicit reported %v", ok)
							if !ok {
								require.Equal(t, sliceBits(before), sliceBits(got), "declined but wrote C")
								return
							}
							require.Equal(t, sliceBits(want), sliceBits(got))
						})
					}
				}
			}
		}
	})
}

func sliceBits[T float](s []T) []uint64 {
	out := make([]uint64, len(s))
	for i, v := range s {
		out[i] = bitsOf(v)
	}
	return out
}

// TestImplicitNoAllocs: once warm, an implicit product allocates nothing,
// on one thread and two.
func TestImplicitNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	m, n, k := 300, 300, 300
	if testing.Short() {
		m, n, k = 160, 160, 160 // still parallel; a sixth of the work under qemu
	}
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	pk := &storedPacker[float32]{b, n}
	for _, threads := range []int{1, 2} {
		func() {
			defer parallel.SetThreads(parallel.SetThreads(threads))
			for range 5 {
				implicitCall(m, n, k, 1, a, k, igemm.Packer[float32](pk), 0, c, n)
			}
			allocs := testing.AllocsPerRun(20, func() {
				implicitCall(m, n, k, 1, a, k, igemm.Packer[float32](pk), 0, c, n)
			})
			require.Zero(t, allocs, "threads=%d", threads)
		}()
	}
}

// TestImplicitPanics: bad arguments panic with gemm's sentinels.
func TestImplicitPanics(t *testing.T) {
	pk := &storedPacker[float32]{make([]float32, 100), 10}
	a, c := make([]float32, 100), make([]float32, 100)
	for _, tc := range []struct {
		name string
		f    func()
		err  error
	}{
		{"m<0", func() { igemm.Sgemm(-1, 10, 10, 1, a, 10, pk, 0, c, 10) }, ErrShape},
		{"lda<k", func() { igemm.Sgemm(10, 10, 10, 1, a, 9, pk, 0, c, 10) }, ErrLeadingDim},
		{"short c", func() { igemm.Sgemm(10, 10, 10, 1, a, 10, pk, 0, c[:99], 10) }, ErrShort},
		{"c overlaps a", func() { igemm.Sgemm(10, 10, 10, 1, a, 10, pk, 0, a, 10) }, ErrOverlap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				err, ok := r.(error)
				require.True(t, ok, "panic value %v", r)
				require.ErrorIs(t, err, tc.err)
			}()
			tc.f()
		})
	}
}
