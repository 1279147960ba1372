package tensor

import "fmt"

// Conv2D is the geometry of a 2-D convolution (or pooling window) over one
// NCHW image: C channels of H×W, a KH×KW window moved by StrideH×StrideW,
// sampled every DilationH×DilationW pixels, over the image with PadH rows
// and PadW columns of zeros added on each side. Zero strides and
// dilations mean 1.
//
// A convolution is a matrix product over image patches (im2col): column
// p = oh·OW + ow of the patch matrix holds the C·KH·KW input pixels that
// output pixel (oh, ow) sees, in (c, kh, kw) order, which is also the
// order of a PyTorch weight [OC, C, KH, KW] flattened to OC × C·KH·KW. So
// Y = W·col(X) is the convolution and the rows of channel c are
// contiguous, which is what lets groups take row blocks of the matrix.
type Conv2D struct {
	C, H, W              int
	KH, KW               int
	StrideH, StrideW     int
	PadH, PadW           int
	DilationH, DilationW int
}

// norm returns g with zero strides and dilations set to 1.
func (g Conv2D) norm() Conv2D {
	if g.StrideH == 0 {
		g.StrideH = 1
	}
	if g.StrideW == 0 {
		g.StrideW = 1
	}
	if g.DilationH == 0 {
		g.DilationH = 1
	}
	if g.DilationW == 0 {
		g.DilationW = 1
	}
	return g
}

// Check panics (ErrShape) with Problem's description, prefixed by op, if
// the geometry is invalid.
func (g Conv2D) Check(op string) {
	if p := g.Problem(); p != "" {
		fail(ErrShape, "%s: %s", op, p)
	}
}

// Problem describes what makes the geometry invalid, naming the field and
// its values, or returns "" if it is valid: a size below 1, a negative
// stride, padding or dilation, a (dilated) window larger than the padded
// image, or sizes whose products (the padded image, the dilated window,
// C·H·W, the patch matrix) overflow an int. Every size Out, ColShape,
// Im2Col and Col2Im compute from a valid geometry fits an int.
func (g Conv2D) Problem() string {
	g = g.norm()
	switch {
	case g.C < 1 || g.H < 1 || g.W < 1:
		return fmt.Sprintf("input C %d, H %d, W %d (all must be >= 1)", g.C, g.H, g.W)
	case g.KH < 1 || g.KW < 1:
		return fmt.Sprintf("kernel %dx%d (both must be >= 1)", g.KH, g.KW)
	case g.StrideH < 1 || g.StrideW < 1:
		return fmt.Sprintf("stride %dx%d (both must be >= 1)", g.StrideH, g.StrideW)
	case g.PadH < 0 || g.PadW < 0:
		return fmt.Sprintf("padding %dx%d (both must be >= 0)", g.PadH, g.PadW)
	case g.DilationH < 1 || g.DilationW < 1:
		return fmt.Sprintf("dilation %dx%d (both must be >= 1)", g.DilationH, g.DilationW)
	}
	ph, okh := MulSizes(2, g.PadH)
	pw, okw := MulSizes(2, g.PadW)
	ph, okh2 := AddSizes(ph, g.H)
	pw, okw2 := AddSizes(pw, g.W)
	if !okh || !okw || !okh2 || !okw2 {
		return fmt.Sprintf("padding %dx%d of input %dx%d: the padded size overflows an int", g.PadH, g.PadW, g.H, g.W)
	}
	eh, okh := MulSizes(g.DilationH, g.KH-1)
	ew, okw := MulSizes(g.DilationW, g.KW-1)
	if !okh || !okw || eh >= ph || ew >= pw {
		// eh+1 > ph without computing eh+1, which may overflow.
		if !okh || !okw {
			return fmt.Sprintf("kernel %dx%d with dilation %dx%d: the dilated size overflows an int",
				g.KH, g.KW, g.DilationH, g.DilationW)
		}
		return fmt.Sprintf("kernel %dx%d (dilated %dx%d) is larger than the padded input %dx%d",
			g.KH, g.KW, eh+1, ew+1, ph, pw)
	}
	if _, ok := MulSizes(g.C, g.H, g.W); !ok {
		return fmt.Sprintf("input C %d, H %d, W %d: C·H·W overflows an int", g.C, g.H, g.W)
	}
	oh, ow := g.Out()
	if _, ok := MulSizes(g.C, g.KH, g.KW, oh, ow); !ok {
		return fmt.Sprintf("the patch matrix of C %d, kernel %dx%d and output %dx%d overflows an int", g.C, g.KH, g.KW, oh, ow)
	}
	return ""
}

// Out returns the output height and width, as PyTorch computes them:
// ⌊(H + 2·PadH − DilationH·(KH − 1) − 1) / StrideH⌋ + 1, and the same for W.
// The geometry must be valid (Check).
func (g Conv2D) Out() (oh, ow int) {
	g = g.norm()
	oh = (g.H+2*g.PadH-g.DilationH*(g.KH-1)-1)/g.StrideH + 1
	ow = (g.W+2*g.PadW-g.DilationW*(g.KW-1)-1)/g.StrideW + 1
	return oh, ow
}

// ColShape returns the patch matrix's rows (C·KH·KW) and columns (OH·OW).
func (g Conv2D) ColShape() (rows, cols int) {
	oh, ow := g.Out()
	return g.C * g.KH * g.KW, oh * ow
}

// convSpan returns the range [lo, hi) of output positions o in [0, n) whose
// input position o·s − p + k·d lies inside [0, size).
func convSpan(n, size, s, p, kd int) (lo, hi int) {
	// o·s ≥ p − kd  and  o·s ≤ size − 1 + p − kd
	a := p - kd
	if a > 0 {
		lo = (a + s - 1) / s
	}
	b := size - 1 + p - kd
	if b < 0 {
		return 0, 0
	}
	hi = min(b/s+1, n)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// checkConvSlices panics unless x and col are long enough for g.
func checkConvSlices(op string, g Conv2D, nx, ncol int) {
	g.Check(op)
	rows, cols := g.ColShape()
	if nx < g.C*g.H*g.W {
		fail(ErrShape, "%s: image slice of length %d < C·H·W = %d", op, nx, g.C*g.H*g.W)
	}
	if ncol < rows*cols {
		fail(ErrShape, "%s: col slice of length %d < %d×%d", op, ncol, rows, cols)
	}
}

// Im2Col writes the patch matrix of image x (C×H×W, contiguous) into col,
// rows×cols row-major with (rows, cols) = g.ColShape(); padding reads as
// zero. It panics (ErrShape) if g is invalid or a slice is too short.
func Im2Col[T Float](g Conv2D, col, x []T) {
	checkConvSlices("Im2Col", g, len(x), len(col))
	g = g.norm()
	oh, ow := g.Out()
	np := oh * ow
	r := 0
	for c := range g.C {
		img := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for kh := range g.KH {
			hlo, hhi := convSpan(oh, g.H, g.StrideH, g.PadH, kh*g.DilationH)
			for kw := range g.KW {
				row := col[r*np : (r+1)*np]
				r++
				wlo, whi := convSpan(ow, g.W, g.StrideW, g.PadW, kw*g.DilationW)
				clear(row[:hlo*ow])
				clear(row[hhi*ow:])
				if g.StrideH == 1 && g.StrideW == 1 && ow == g.W {
					// At stride 1 with rows of col and of the image of one length,
					// the valid rows are the image shifted by a constant:
					// one copy, then zero the columns that fell off the left
					// or right edge (they hold pixels of the next or
					// previous image row, or nothing where the copy was
					// clipped at the ends of the image).
					shift := (kh*g.DilationH-g.PadH)*g.W + kw*g.DilationW - g.PadW
					lo, hi := max(hlo*ow, -shift), min(hhi*ow, g.H*g.W-shift)
					if lo < hi {
						copy(row[lo:hi], img[lo+shift:hi+shift])
					}
					for o := hlo; o < hhi; o++ {
						d := row[o*ow : (o+1)*ow]
						for q := 0; q < wlo; q++ {
							d[q] = 0
						}
						for q := whi; q < ow; q++ {
							d[q] = 0
						}
					}
					continue
				}
				for o := hlo; o < hhi; o++ {
					dst := row[o*ow : (o+1)*ow]
					clear(dst[:wlo])
					clear(dst[whi:])
					if wlo == whi {
						// Every output of this kernel column reads padding;
						// iw below would be out of the image (negative).
						continue
					}
					src := img[(o*g.StrideH-g.PadH+kh*g.DilationH)*g.W:]
					iw := wlo*g.StrideW - g.PadW + kw*g.DilationW
					if g.StrideW == 1 {
						copy(dst[wlo:whi], src[iw:])
						continue
					}
					for q := wlo; q < whi; q++ {
						dst[q] = src[iw]
						iw += g.StrideW
					}
				}
			}
		}
	}
}

// Col2Im is the adjoint of Im2Col: it adds each element of the patch
// matrix col to the image pixel it was read from, x += col2im(col), and
// drops the elements that came from padding. It panics as Im2Col does.
func Col2Im[T Float](g Conv2D, x, col []T) {
	checkConvSlices("Col2Im", g, len(x), len(col))
	g = g.norm()
	oh, ow := g.Out()
	np := oh * ow
	r := 0
	for c := range g.C {
		img := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for kh := range g.KH {
			hlo, hhi := convSpan(oh, g.H, g.StrideH, g.PadH, kh*g.DilationH)
			for kw := range g.KW {
				row := col[r*np : (r+1)*np]
				r++
				wlo, whi := convSpan(ow, g.W, g.StrideW, g.PadW, kw*g.DilationW)
				if wlo == whi {
					continue // every element of this row came from padding
				}
				for o := hlo; o < hhi; o++ {
					src := row[o*ow : (o+1)*ow]
					dst := img[(o*g.StrideH-g.PadH+kh*g.DilationH)*g.W:]
					iw := wlo*g.StrideW - g.PadW + kw*g.DilationW
					if g.StrideW == 1 {
						d := dst[iw : iw+whi-wlo]
						for q, v := range src[wlo:whi] {
							d[q] += v
						}
						continue
					}
					for q := wlo; q < whi; q++ {
						dst[iw] += src[q]
						iw += g.StrideW
					}
				}
			}
		}
	}
}
