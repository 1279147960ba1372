package gemm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPackStrided checks the transposing pack against its definition,
// d[p*w + r] = src[r*ld + p], with and without the assembly transposes
// (column counts either side of their 8- and 4-column blocks, row counts
// either side of the 8-row blocks), and that nothing else in d is written.
func TestPackStrided(t *testing.T) {
	t.Run("type=f32", testPackStrided[float32])
	t.Run("type=f64", testPackStrided[float64])
}

func testPackStrided[T float](t *testing.T) {
	defer func(v bool) { packAsm = v }(packAsm)
	modes := []bool{false}
	if packAsm {
		modes = append(modes, true)
	}
	for _, asm := range modes {
		packAsm = asm
		for _, rows := range []int{1, 6, 7, 8, 9, 14, 16, 17, 24} {
			for _, w := range []int{6, 8, 16, 24, 32, 48} {
				if w < rows {
					continue
				}
				for _, kb := range []int{1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100} {
					ld := kb + 3
					src := make([]T, (rows-1)*ld+kb) // exactly to the last element
					for i := range src {
						src[i] = T(i + 1)
					}
					d := make([]T, kb*w)
					for i := range d {
						d[i] = T(math.NaN())
					}
					packStrided(d, src, ld, rows, kb, w)
					for p := range kb {
						for j := range w {
							got := d[p*w+j]
							if j < rows {
								require.Equal(t, src[j*ld+p], got, "asm=%v rows=%d w=%d kb=%d p=%d r=%d", asm, rows, w, kb, p, j)
							} else {
								require.True(t, got != got, "asm=%v rows=%d w=%d kb=%d: wrote d[%d*w+%d]", asm, rows, w, kb, p, j)
							}
						}
					}
				}
			}
		}
	}
}
