package igemm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/internal/igemm"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// geoms covers stride, padding, dilation, odd sizes, 1×1 kernels and
// kernels as large as the padded input.
var geoms = []tensor.Conv2D{
	{C: 1, H: 28, W: 28, KH: 5, KW: 5, PadH: 2, PadW: 2},
	{C: 3, H: 14, W: 14, KH: 5, KW: 5, PadH: 2, PadW: 2},
	{C: 2, H: 9, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
	{C: 3, H: 11, W: 13, KH: 3, KW: 2, StrideH: 1, StrideW: 3, PadH: 0, PadW: 2, DilationH: 2, DilationW: 1},
	{C: 4, H: 10, W: 9, KH: 1, KW: 1},
	{C: 2, H: 7, W: 5, KH: 9, KW: 7, PadH: 1, PadW: 1},
	{C: 2, H: 6, W: 6, KH: 6, KW: 6},
	{C: 5, H: 13, W: 17, KH: 3, KW: 3, StrideH: 2, StrideW: 1, PadH: 3, PadW: 2, DilationH: 2, DilationW: 3},
}

func patches[T float32 | float64](g tensor.Conv2D, x []T) *igemm.Patches[T] {
	oh, ow := g.Out()
	one := func(v int) int { return max(v, 1) }
	return &igemm.Patches[T]{X: x, C: g.C, H: g.H, W: g.W, KH: g.KH, KW: g.KW,
		SH: one(g.StrideH), SW: one(g.StrideW), PH: g.PadH, PW: g.PadW,
		DH: one(g.DilationH), DW: one(g.DilationW), OH: oh, OW: ow}
}

// bitsOf returns s's bit patterns, so that equality is bitwise (and NaN
// from a wrong read shows).
func bitsOf[T float32 | float64](s []T) []uint64 {
	out := make([]uint64, len(s))
	for i, v := range s {
		if f, ok := any(v).(float32); ok {
			out[i] = uint64(math.Float32bits(f))
		} else {
			out[i] = math.Float64bits(float64(v))
		}
	}
	return out
}

func image[T float32 | float64](g tensor.Conv2D, seed uint64) []T {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]T, g.C*g.H*g.W)
	for i := range x {
		x[i] = T(r.NormFloat64())
	}
	return x
}

// TestPatchesPackB: every panel Patches packs is the panel of
// tensor.Im2Col's matrix (with a row of ones below it, with Ones; read
// from the planes Stage builds, where the geometry allows) in the documented layout (written here element
// by element), for panels at several offsets, depths, widths and edge
// widths, and it writes nothing outside its micro-panels.
func TestPatchesPackB(t *testing.T) {
	for gi, g := range geoms {
		t.Run(fmt.Sprintf("geom=%d", gi), func(t *testing.T) {
			rows, cols := g.ColShape()
			x := image[float32](g, uint64(gi))
			col := make([]float32, rows*cols)
			tensor.Im2Col(g, col, x)
			for _, ones := range []bool{false, true} {
				pt := patches(g, x)
				pt.Ones = ones
				if ones {
					// Patches' extra row of ones.
					for range cols {
						col = append(col, 1)
					}
					rows++
				}
				for _, staged := range []bool{false, true} {
					if staged {
						n := pt.StageLen()
						if n == 0 {
							continue
						}
						buf := make([]float32, n)
						for i := range buf {
							buf[i] = float32(math.NaN()) // Stage must write every element it reads back
						}
						pt.Stage(buf)
					}
					for _, nr := range []int{48, 16, 8} {
						for _, pc := range [][2]int{{0, rows}, {rows / 3, rows - rows/3}, {rows - 1, 1}} {
							for _, jc := range [][2]int{{0, cols}, {cols / 2, cols - cols/2}, {1, min(cols-1, 2*nr+3)}} {
								p0, kb, j0, nb := pc[0], pc[1], jc[0], jc[1]
								if kb < 1 || nb < 1 {
									continue
								}
								nq := (nb + nr - 1) / nr
								ew := nr
								if nb%nr != 0 {
									ew = min(nr, (nb%nr+7)/8*8)
								}
								size := nq * nr * kb
								want := make([]float32, size+8)
								got := make([]float32, size+8)
								for i := range want {
									want[i], got[i] = -7, -7
								}
								for q := range nq {
									jr := q * nr
									w := nr
									if nb-jr < nr {
										w = ew
									}
									for p := range kb {
										for j := range w {
											v := float32(0)
											if jr+j < nb {
												v = col[(p0+p)*cols+j0+jr+j]
											}
											want[jr*kb+p*w+j] = v
										}
									}
								}
								// Two shares, as two goroutines of gemm's team would pack them.
								h := nq / 2
								pt.PackB(got, p0, j0, nb, kb, nr, ew, 0, h)
								pt.PackB(got, p0, j0, nb, kb, nr, ew, h, nq)
								require.Equal(t, want, got, "ones %v, staged %v, nr %d, rows [%d,+%d), cols [%d,+%d), ew %d", ones, staged, nr, p0, kb, j0, nb, ew)
							}
						}
					}
				}
			}
		})
	}
}

// TestPatchesRowsInPlace: after Stage, RowsInPlace gives every row of
// tensor.Im2Col's matrix (and the row of ones, with Ones) at its offset,
// OH·OW values long inside the buffer; before Stage it gives nil.
func TestPatchesRowsInPlace(t *testing.T) {
	ran := 0
	for gi, g := range geoms {
		rows, cols := g.ColShape()
		x := image[float64](g, uint64(gi))
		col := make([]float64, rows*cols)
		tensor.Im2Col(g, col, x)
		for _, ones := range []bool{false, true} {
			pt := patches(g, x)
			pt.Ones = ones
			if base, off := pt.RowsInPlace(); base != nil || off != nil {
				t.Fatalf("geom %d: rows in place before Stage", gi)
			}
			n := pt.StageLen()
			if n == 0 {
				continue
			}
			ran++
			buf := make([]float64, n)
			for i := range buf {
				buf[i] = math.NaN()
			}
			pt.Stage(buf)
			base, off := pt.RowsInPlace()
			want := rows
			if ones {
				want++
			}
			require.Len(t, off, want, "geom %d", gi)
			for r, o := range off {
				require.True(t, o >= 0 && o+cols <= len(base), "geom %d row %d: offset %d, %d values, base %d", gi, r, o, cols, len(base))
				for j := range cols {
					v := 1.0
					if r < rows {
						v = col[r*cols+j]
					}
					require.Equal(t, v, base[o+j], "geom %d ones %v: B(%d, %d)", gi, ones, r, j)
				}
			}
		}
	}
	require.Positive(t, ran, "no geometry could be staged")
}

// TestPatchesGemm: the implicit product W·col(X) equals Sgemm (Dgemm) on
// tensor.Im2Col's matrix bit for bit, at one and two threads, packed from
// the image and (where the geometry allows) from the staged planes, which
// GEMM then reads in place (RowsInPlace), with and without the row of ones
// (W's last column against it), wherever the implicit entry point does
// not decline.
func TestPatchesGemm(t *testing.T) {
	t.Run("type=float32", func(t *testing.T) { testPatchesGemm[float32](t) })
	t.Run("type=float64", func(t *testing.T) { testPatchesGemm[float64](t) })
}

func testPatchesGemm[T float32 | float64](t *testing.T) {
	ran := 0
	for gi, g := range geoms {
		for _, oc := range []int{5, 32, 70} {
			for _, threads := range []int{1, 2} {
				for _, mode := range []string{"packed", "staged", "staged+ones"} {
					t.Run(fmt.Sprintf("geom=%d/oc=%d/threads=%d/%s", gi, oc, threads, mode), func(t *testing.T) {
						defer parallel.SetThreads(parallel.SetThreads(threads))
						rows, cols := g.ColShape()
						x := image[T](g, uint64(gi))
						pt := patches(g, x)
						if mode != "packed" {
							n := pt.StageLen()
							if n == 0 {
								return
							}
							pt.Ones = mode == "staged+ones"
							buf := make([]T, n)
							for i := range buf {
								buf[i] = T(math.NaN())
							}
							pt.Stage(buf)
						}
						col := make([]T, rows*cols)
						tensor.Im2Col(g, col, x)
						k := rows
						if pt.Ones {
							k++
							for range cols {
								col = append(col, 1)
							}
						}
						w := image[T](tensor.Conv2D{C: oc, H: k, W: 1}, uint64(oc))
						want, got := make([]T, oc*cols), make([]T, oc*cols)
						for i := range want {
							want[i] = T(i%5) - 2
							got[i] = want[i]
						}
						if !igemm.Gemm(oc, cols, k, 1, w, k, igemm.Packer[T](pt), 1, got, cols) {
							return
						}
						ran++
						// One output column is a matrix-vector product, which
						// gemm hands to its GEMV kernels (another summation
						// order); a zero second column keeps the reference on
						// the GEMM kernel that igemm.Gemm runs.
						ldb, ldc, wantC := cols, cols, want
						if cols == 1 {
							col = padColumn(col)
							wantC, ldb, ldc = padColumn(want), 2, 2
						}
						gemm.Gemm(gemm.NoTrans, gemm.NoTrans, oc, ldb, k, 1, w, k, col, ldb, 1, wantC, ldc)
						if cols == 1 {
							for i := range want {
								want[i] = wantC[2*i]
							}
						}
						require.Equal(t, bitsOf(want), bitsOf(got))
					})
				}
			}
		}
	}
	require.Greater(t, ran, len(geoms), "too few shapes took the implicit path")
}

// padColumn returns the one-column matrix v as two columns, the second 0.
func padColumn[T float32 | float64](v []T) []T {
	out := make([]T, 2*len(v))
	for i, x := range v {
		out[2*i] = x
	}
	return out
}
