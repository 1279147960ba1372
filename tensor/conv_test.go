package tensor

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// convCases covers stride 2, padding, dilation 2, odd sizes, 1×1 kernels
// and kernels as large as the (padded) input.
var convCases = []Conv2D{
	{C: 1, H: 5, W: 5, KH: 3, KW: 3},
	{C: 2, H: 7, W: 6, KH: 3, KW: 2, PadH: 1, PadW: 2},
	{C: 3, H: 9, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
	{C: 2, H: 8, W: 9, KH: 3, KW: 2, DilationH: 2, DilationW: 2, PadH: 2},
	{C: 4, H: 5, W: 3, KH: 1, KW: 1},
	{C: 2, H: 4, W: 5, KH: 4, KW: 5},
	{C: 1, H: 3, W: 3, KH: 5, KW: 5, PadH: 1, PadW: 1},
	{C: 3, H: 11, W: 10, KH: 5, KW: 3, StrideH: 3, StrideW: 2, PadH: 2, PadW: 1, DilationH: 2},
	{C: 1, H: 28, W: 28, KH: 5, KW: 5, PadH: 2, PadW: 2},
	// Output as wide as the input: the shifted-copy path of Im2Col.
	{C: 2, H: 6, W: 7, KH: 3, KW: 3, PadH: 1, PadW: 2, DilationW: 2},
	{C: 2, H: 8, W: 5, KH: 4, KW: 3, PadH: 1, PadW: 1, DilationH: 2, StrideH: 2},
	{C: 1, H: 2, W: 3, KH: 1, KW: 3, PadW: 1},
}

// pixel returns the input pixel that patch row r, column p of g's patch
// matrix reads, and whether it is inside the image (else padding).
func pixel(g Conv2D, r, p int) (c, ih, iw int, ok bool) {
	g = g.norm()
	_, ow := g.Out()
	c, kh, kw := r/(g.KH*g.KW), r/g.KW%g.KH, r%g.KW
	oh, oq := p/ow, p%ow
	ih = oh*g.StrideH - g.PadH + kh*g.DilationH
	iw = oq*g.StrideW - g.PadW + kw*g.DilationW
	return c, ih, iw, ih >= 0 && ih < g.H && iw >= 0 && iw < g.W
}

func TestIm2ColCol2Im(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range convCases {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			rows, cols := g.ColShape()
			x := make([]float64, g.C*g.H*g.W)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			col := make([]float64, rows*cols+3)
			for i := range col {
				col[i] = math.NaN()
			}
			Im2Col(g, col, x)
			for r := range rows {
				for p := range cols {
					c, ih, iw, ok := pixel(g, r, p)
					want := 0.0
					if ok {
						want = x[(c*g.H+ih)*g.W+iw]
					}
					require.Equal(t, want, col[r*cols+p], "row %d col %d", r, p)
				}
			}
			for _, v := range col[rows*cols:] {
				require.True(t, math.IsNaN(v), "Im2Col wrote past the patch matrix")
			}

			// Col2Im adds to x: start from a known image and check every pixel
			// against a naive scatter.
			for i := range col {
				col[i] = rng.NormFloat64()
			}
			base := make([]float64, len(x))
			for i := range base {
				base[i] = rng.NormFloat64()
			}
			want := append([]float64(nil), base...)
			for r := range rows {
				for p := range cols {
					if c, ih, iw, ok := pixel(g, r, p); ok {
						want[(c*g.H+ih)*g.W+iw] += col[r*cols+p]
					}
				}
			}
			got := append([]float64(nil), base...)
			Col2Im(g, got, col)
			for i := range want {
				require.InDelta(t, want[i], got[i], 1e-12, "pixel %d", i)
			}
		})
	}
}

// TestIm2ColConvolution: W·col(X) against a naive 7-loop convolution, in
// float32 and float64.
func TestIm2ColConvolution(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testIm2ColConv[float32](t, 1e-4) })
	t.Run("float64", func(t *testing.T) { testIm2ColConv[float64](t, 1e-12) })
}

func testIm2ColConv[T Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range convCases {
		const n, oc = 2, 3
		gn := g.norm()
		oh, ow := g.Out()
		x := make([]T, n*g.C*g.H*g.W)
		w := make([]T, oc*g.C*g.KH*g.KW)
		for i := range x {
			x[i] = T(rng.NormFloat64())
		}
		for i := range w {
			w[i] = T(rng.NormFloat64())
		}
		// The naive convolution, 7 loops.
		want := make([]float64, n*oc*oh*ow)
		for b := range n {
			for o := range oc {
				for i := range oh {
					for j := range ow {
						s := 0.0
						for c := range g.C {
							for kh := range g.KH {
								for kw := range g.KW {
									ih := i*gn.StrideH - g.PadH + kh*gn.DilationH
									iw := j*gn.StrideW - g.PadW + kw*gn.DilationW
									if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
										continue
									}
									s += float64(w[((o*g.C+c)*g.KH+kh)*g.KW+kw]) * float64(x[((b*g.C+c)*g.H+ih)*g.W+iw])
								}
							}
						}
						want[((b*oc+o)*oh+i)*ow+j] = s
					}
				}
			}
		}
		rows, cols := g.ColShape()
		col := make([]T, rows*cols)
		for b := range n {
			Im2Col(g, col, x[b*g.C*g.H*g.W:])
			for o := range oc {
				for p := range cols {
					s := 0.0
					for r := range rows {
						s += float64(w[o*rows+r]) * float64(col[r*cols+p])
					}
					require.InDelta(t, want[(b*oc+o)*cols+p], s, tol, "%+v n %d oc %d p %d", g, b, o, p)
				}
			}
		}
	}
}

func TestConv2DCheck(t *testing.T) {
	for _, tc := range []struct {
		g    Conv2D
		want string
	}{
		{Conv2D{C: 0, H: 3, W: 3, KH: 1, KW: 1}, "input C 0"},
		{Conv2D{C: 1, H: 3, W: 3, KH: 0, KW: 1}, "kernel 0x1"},
		{Conv2D{C: 1, H: 3, W: 3, KH: 1, KW: 1, StrideW: -1}, "stride 1x-1"},
		{Conv2D{C: 1, H: 3, W: 3, KH: 1, KW: 1, PadH: -1}, "padding -1x0"},
		{Conv2D{C: 1, H: 3, W: 3, KH: 1, KW: 1, DilationH: -2}, "dilation -2x1"},
		{Conv2D{C: 1, H: 3, W: 3, KH: 4, KW: 1}, "kernel 4x1 (dilated 4x1) is larger than the padded input 3x3"},
		{Conv2D{C: 1, H: 5, W: 5, KH: 3, KW: 3, DilationW: 3}, "kernel 3x3 (dilated 3x7) is larger than the padded input 5x5"},
	} {
		func() {
			defer func() {
				p := recover()
				require.NotNil(t, p, "%+v", tc.g)
				err, ok := p.(error)
				require.True(t, ok)
				require.True(t, errors.Is(err, ErrShape))
				require.True(t, strings.HasPrefix(err.Error(), "tensor: Im2Col: "), err.Error())
				require.Contains(t, err.Error(), tc.want)
			}()
			Im2Col(tc.g, make([]float32, 100), make([]float32, 100))
		}()
	}
	require.PanicsWithError(t, "tensor: Col2Im: col slice of length 8 < 9×1", func() {
		Col2Im(Conv2D{C: 1, H: 3, W: 3, KH: 3, KW: 3}, make([]float32, 9), make([]float32, 8))
	})
	require.PanicsWithError(t, "tensor: Im2Col: image slice of length 8 < C·H·W = 9", func() {
		Im2Col(Conv2D{C: 1, H: 3, W: 3, KH: 3, KW: 3}, make([]float32, 9), make([]float32, 8))
	})
}

func TestIm2ColAllocs(t *testing.T) {
	g := convCases[2]
	rows, cols := g.ColShape()
	x, col := make([]float32, g.C*g.H*g.W), make([]float32, rows*cols)
	require.Zero(t, testing.AllocsPerRun(10, func() { Im2Col(g, col, x); Col2Im(g, x, col) }))
}
