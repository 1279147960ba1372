package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// tileKernel is one microkernel under test (assembly or generic), with its
// tile and, for assembly, the FMA probe of its width.
type tileKernel[T float32 | float64] struct {
	mr, nr int
	fn     func(k int, a, b, c *T, ldc int, alpha, beta T)
	peak   func(n int)
	lanes  int
}

// testTile runs checkTile over k either side of every unroll factor used
// (4, 8) and the alpha/beta pairs that take distinct paths, with row
// strides equal to and wider than the tile.
func testTile[T float32 | float64](t *testing.T, kern tileKernel[T], u float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 256, 257} {
		for _, alpha := range []T{0, 1, -1, 0.5} {
			for _, beta := range []T{0, 1, -1, 0.5} {
				for _, pad := range []int{0, 3} {
					if err := checkTile(kern, u, k, alpha, beta, pad, rng); err != nil {
						t.Fatalf("k=%d/alpha=%v/beta=%v/pad=%d: %v", k, alpha, beta, pad, err)
					}
				}
			}
		}
	}
}

// checkTile runs kern once on random panels and compares with the exact
// product within the standard error bound of a k-term dot product plus the
// alpha/beta update, (k+3)·u·(|alpha|·Σ|a·b| + |beta·c|). The tile sits in
// a NaN frame (a guard row above and below, two guard columns left, pad
// right: ldc = nr+2+pad) that must stay untouched; with beta == 0 the tile
// itself starts as NaN and must be overwritten, never read. a and b must be
// unchanged.
func checkTile[T float32 | float64](kern tileKernel[T], u float64, k int, alpha, beta T, pad int, rng *rand.Rand) error {
	mr, nr := kern.mr, kern.nr
	a := make([]T, k*mr)
	b := make([]T, k*nr)
	for i := range a {
		a[i] = T(rng.Float64()*2 - 1)
	}
	for i := range b {
		b[i] = T(rng.Float64()*2 - 1)
	}
	a0, b0 := append([]T(nil), a...), append([]T(nil), b...)
	ldc := nr + 2 + pad
	buf := make([]T, (mr+2)*ldc)
	for i := range buf {
		buf[i] = T(math.NaN())
	}
	off := ldc + 2
	c0 := make([]T, mr*nr)
	if beta != 0 {
		for i := range mr {
			for j := range nr {
				c0[i*nr+j] = T(rng.Float64()*2 - 1)
				buf[off+i*ldc+j] = c0[i*nr+j]
			}
		}
	}
	kern.fn(k, &a[0], &b[0], &buf[off], ldc, alpha, beta)
	for i := range mr {
		for j := range nr {
			var s, mag float64
			for p := range k {
				x, y := float64(a[p*mr+i]), float64(b[p*nr+j])
				s += x * y
				mag += math.Abs(x * y)
			}
			want := float64(alpha) * s
			bound := math.Abs(float64(alpha)) * mag
			if beta != 0 {
				want += float64(beta) * float64(c0[i*nr+j])
				bound += math.Abs(float64(beta) * float64(c0[i*nr+j]))
			}
			bound *= float64(k+3) * u
			if got := float64(buf[off+i*ldc+j]); !(math.Abs(got-want) <= bound) {
				return fmt.Errorf("C(%d,%d) = %v, want %v (error bound %g)", i, j, got, want, bound)
			}
		}
	}
	for x, v := range buf {
		r, col := x/ldc, x%ldc-2
		inTile := r >= 1 && r <= mr && col >= 0 && col < nr
		if !inTile && v == v {
			return fmt.Errorf("wrote %v outside the tile at row %d, column %d (ldc %d)", v, r-1, col, ldc)
		}
	}
	for i := range a {
		if a[i] != a0[i] {
			return fmt.Errorf("a[%d] changed", i)
		}
	}
	for i := range b {
		if b[i] != b0[i] {
			return fmt.Errorf("b[%d] changed", i)
		}
	}
	return nil
}

// testTileNaN checks that a NaN in A and an Inf in B reach exactly the
// entries of C they feed: a NaN in row ri of A makes row ri NaN, an Inf in
// column cj of B makes column cj Inf elsewhere, every other entry is k = 9.
// The NaN sits at p = 6 and the Inf at p = 8: inside the unrolled loop and
// in the remainder steps for unroll 4, both in the remainder for unroll 8.
func testTileNaN[T float32 | float64](t *testing.T, kern tileKernel[T]) {
	mr, nr, k := kern.mr, kern.nr, 9
	for _, ri := range []int{0, mr - 1} {
		for _, cj := range []int{0, min(5, nr-1), nr - 1} {
			a := make([]T, k*mr)
			b := make([]T, k*nr)
			fillTile(a, 1)
			fillTile(b, 1)
			a[6*mr+ri] = T(math.NaN())
			b[8*nr+cj] = T(math.Inf(1))
			c := make([]T, mr*nr)
			kern.fn(k, &a[0], &b[0], &c[0], nr, 1, 0)
			for i := range mr {
				for j := range nr {
					v := float64(c[i*nr+j])
					switch {
					case i == ri && !math.IsNaN(v):
						t.Fatalf("ri=%d cj=%d: C(%d,%d) = %v, want NaN", ri, cj, i, j, v)
					case i != ri && j == cj && !math.IsInf(v, 1):
						t.Fatalf("ri=%d cj=%d: C(%d,%d) = %v, want +Inf", ri, cj, i, j, v)
					case i != ri && j != cj && v != float64(k):
						t.Fatalf("ri=%d cj=%d: C(%d,%d) = %v, want %d", ri, cj, i, j, v, k)
					}
				}
			}
		}
	}
}

// genericTiles are the generic kernels of every tile, whichever this
// architecture uses, adapted to the assembly kernels' pointer signature.
func genericTiles[T float32 | float64]() map[string]tileKernel[T] {
	wrap := func(mr, nr int, fn func(k int, a, b, c []T, ldc int, alpha, beta T)) tileKernel[T] {
		return tileKernel[T]{mr: mr, nr: nr, fn: func(k int, a, b, c *T, ldc int, alpha, beta T) {
			fn(k, unsafe.Slice(a, k*mr), unsafe.Slice(b, k*nr), unsafe.Slice(c, (mr-1)*ldc+nr), ldc, alpha, beta)
		}}
	}
	return map[string]tileKernel[T]{
		"2x2":      wrap(2, 2, kernelGeneric2x2[T]),
		"4x2":      wrap(4, 2, kernelGeneric4x2[T]),
		"4x4":      wrap(4, 4, kernelGeneric4x4[T]),
		"selected": wrap(genMR, genNR, kernelGeneric[T]),
	}
}

// TestKernelGenericTiles checks every generic tile against the float64
// reference, and NaN/Inf propagation, on every architecture.
func TestKernelGenericTiles(t *testing.T) {
	for name, kern := range genericTiles[float32]() {
		t.Run("type=f32/tile="+name, func(t *testing.T) {
			testTile(t, kern, 0x1p-24)
			testTileNaN(t, kern)
		})
	}
	for name, kern := range genericTiles[float64]() {
		t.Run("type=f64/tile="+name, func(t *testing.T) {
			testTile(t, kern, 0x1p-53)
			testTileNaN(t, kern)
		})
	}
}

func fillTile[T float32 | float64](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}
