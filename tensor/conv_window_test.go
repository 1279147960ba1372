package tensor

import (
	"fmt"
	"math"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/require"
)

// convAxis is one axis's geometry: size, kernel, stride, padding,
// dilation.
type convAxis struct{ n, k, s, p, d int }

// convAxes lists every valid axis with size 1..5, kernel 1..4, stride
// 1..3, padding 0..3 and dilation 1..3.
func convAxes() []convAxis {
	var out []convAxis
	for n := 1; n <= 5; n++ {
		for k := 1; k <= 4; k++ {
			for s := 1; s <= 3; s++ {
				for p := 0; p <= 3; p++ {
					for d := 1; d <= 3; d++ {
						if d*(k-1)+1 <= n+2*p {
							out = append(out, convAxis{n, k, s, p, d})
						}
					}
				}
			}
		}
	}
	return out
}

// naiveIm2Col is the definition: col[r][p] is the pixel that output p
// sees through kernel position r, or 0 in the padding.
func naiveIm2Col(g Conv2D, x []float64) []float64 {
	g = g.norm()
	oh := (g.H+2*g.PadH-g.DilationH*(g.KH-1)-1)/g.StrideH + 1
	ow := (g.W+2*g.PadW-g.DilationW*(g.KW-1)-1)/g.StrideW + 1
	col := make([]float64, g.C*g.KH*g.KW*oh*ow)
	i := 0
	for c := range g.C {
		for kh := range g.KH {
			for kw := range g.KW {
				for y := range oh {
					for z := range ow {
						ih := y*g.StrideH - g.PadH + kh*g.DilationH
						iw := z*g.StrideW - g.PadW + kw*g.DilationW
						if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
							col[i] = x[(c*g.H+ih)*g.W+iw]
						}
						i++
					}
				}
			}
		}
	}
	return col
}

// TestConvWindowExhaustive is issue 23 item 6: Im2Col and Col2Im panicked
// with "slice bounds out of range [-1:]" when every output of a kernel
// column falls in the padding (x [1,1,3,1], w [1,1,1,5], stride (2,1),
// padding (0,2), which PyTorch accepts). Every valid axis geometry with
// small sizes is checked, on each axis against a few of the other's (both
// ways round, so the stride-1 shifted-copy path is covered), against the
// naive loop: Im2Col must equal it and write every element, Col2Im must
// add exactly its transpose and write nothing outside the image.
func TestConvWindowExhaustive(t *testing.T) {
	axes := convAxes()
	others := []convAxis{{1, 1, 1, 0, 1}, {3, 1, 1, 0, 1}, {3, 5, 2, 2, 1}, {4, 3, 1, 1, 1}, {2, 3, 2, 2, 2}, {3, 2, 1, 0, 2}}
	n := 0
	for _, a := range axes {
		for _, b := range others {
			for _, swap := range []bool{false, true} {
				h, w := a, b
				if swap {
					h, w = b, a
				}
				g := Conv2D{C: 2, H: h.n, W: w.n, KH: h.k, KW: w.k, StrideH: h.s, StrideW: w.s,
					PadH: h.p, PadW: w.p, DilationH: h.d, DilationW: w.d}
				require.Empty(t, g.Problem(), "%+v", g)
				checkConvWindow(t, g)
				n++
			}
		}
	}
	t.Logf("%d geometries", n)
	// The two repros of the issue, as written there.
	checkConvWindow(t, Conv2D{C: 1, H: 3, W: 1, KH: 1, KW: 5, StrideH: 2, StrideW: 1, PadH: 0, PadW: 2})
	checkConvWindow(t, Conv2D{C: 1, H: 2, W: 1, KH: 1, KW: 3, StrideH: 2, StrideW: 1, PadH: 2, PadW: 2, DilationH: 1, DilationW: 2})
}

func checkConvWindow(t *testing.T, g Conv2D) {
	t.Helper()
	x := make([]float64, g.C*g.H*g.W)
	for i := range x {
		x[i] = float64(i + 1)
	}
	want := naiveIm2Col(g, x)
	col := make([]float64, len(want))
	for i := range col {
		col[i] = math.NaN() // every element must be written
	}
	rows, cols := g.ColShape()
	require.Equal(t, rows*cols, len(want), "%+v", g)
	Im2Col(g, col, x)
	for i := range want {
		if col[i] != want[i] && !(math.IsNaN(col[i]) && math.IsNaN(want[i])) {
			t.Fatalf("Im2Col %+v: col[%d] = %v, want %v", g, i, col[i], want[i])
		}
	}
	// Col2Im of a patch matrix of distinct powers-of-two-free values: the
	// naive adjoint adds col[i] to the pixel col[i] was read from.
	for i := range col {
		col[i] = float64(i%7 + 1)
	}
	gn := g.norm()
	wantX := make([]float64, len(x))
	// Same walk as naiveIm2Col, adding instead of reading.
	oh, ow := g.Out()
	i := 0
	for c := range gn.C {
		for kh := range gn.KH {
			for kw := range gn.KW {
				for y := range oh {
					for z := range ow {
						ih := y*gn.StrideH - gn.PadH + kh*gn.DilationH
						iw := z*gn.StrideW - gn.PadW + kw*gn.DilationW
						if ih >= 0 && ih < gn.H && iw >= 0 && iw < gn.W {
							wantX[(c*gn.H+ih)*gn.W+iw] += col[i]
						}
						i++
					}
				}
			}
		}
	}
	// A guard past the image catches writes outside it.
	got := make([]float64, len(x)+1)
	got[len(x)] = -1
	Col2Im(g, got[:len(x)], col)
	require.Equal(t, wantX, got[:len(x)], "Col2Im %+v", g)
	require.Equal(t, -1.0, got[len(x)], "Col2Im %+v wrote past the image", g)
}

// TestConvProblemOverflow is issue 23 item 13: a dilation or padding near
// MaxInt overflowed past the geometry check (Conv2d then failed in New
// with a message that did not name it, MaxPool2d blamed padding, and the
// padded size printed negative). Problem now names the overflowing field.
func TestConvProblemOverflow(t *testing.T) {
	big := math.MaxInt/2 + 1 // 1<<62 on 64-bit
	for _, c := range []struct {
		g    Conv2D
		want string
	}{
		{Conv2D{C: 1, H: 4, W: 4, KH: 3, KW: 3, DilationH: big}, "kernel 3x3 with dilation " + fmt.Sprint(big) + "x1: the dilated size overflows an int"},
		{Conv2D{C: 1, H: 4, W: 4, KH: 2, KW: 3, DilationH: big}, "is larger than the padded input 4x4"},
		{Conv2D{C: 1, H: 4, W: 4, KH: 3, KW: 3, PadH: big}, "padding " + fmt.Sprint(big) + "x0 of input 4x4: the padded size overflows an int"},
		{Conv2D{C: 1, H: math.MaxInt, W: 4, KH: 1, KW: 1, PadH: 1}, "the padded size overflows"},
		{Conv2D{C: 1 << (bits.UintSize / 2), H: 1 << (bits.UintSize / 2), W: 2, KH: 1, KW: 1}, "C·H·W overflows an int"},
		{Conv2D{C: 1 << (bits.UintSize/2 - 2), H: 1 << (bits.UintSize / 4), W: 1 << (bits.UintSize / 4), KH: 3, KW: 3, PadH: 1, PadW: 1}, "the patch matrix"},
	} {
		require.Contains(t, c.g.Problem(), c.want, "%+v", c.g)
		requirePanicIs(t, ErrShape, func() { c.g.Check("Conv2d") }, "Conv2d: ", c.want)
	}
}

// FuzzConvWindow extends TestConvWindowExhaustive to larger geometries:
// any valid one, Im2Col and Col2Im against the naive loop.
func FuzzConvWindow(f *testing.F) {
	f.Add(uint8(1), uint8(3), uint8(1), uint8(1), uint8(5), uint8(2), uint8(1), uint8(0), uint8(2), uint8(1), uint8(1))
	f.Add(uint8(2), uint8(9), uint8(7), uint8(3), uint8(3), uint8(2), uint8(3), uint8(1), uint8(4), uint8(2), uint8(3))
	f.Fuzz(func(t *testing.T, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw uint8) {
		g := Conv2D{C: int(c%3) + 1, H: int(h % 12), W: int(w % 12), KH: int(kh % 6), KW: int(kw % 6),
			StrideH: int(sh % 5), StrideW: int(sw % 5), PadH: int(ph % 6), PadW: int(pw % 6),
			DilationH: int(dh % 4), DilationW: int(dw % 4)}
		if g.Problem() != "" {
			return
		}
		checkConvWindow(t, g)
	})
}
