package igemm

// Patches is the patch matrix (im2col) of one C×H×W image as a Packer:
// its C·KH·KW rows are (c, kh, kw) in that order and its OH·OW columns are
// the output pixels p = oh·OW + ow, and B(r, p) is the pixel
// X[c][oh·SH − PH + kh·DH][ow·SW − PW + kw·DW], zero where that falls in
// the padding: exactly tensor.Im2Col's matrix. Strides and dilations must
// be at least 1, and OH, OW the output size the geometry gives.
type Patches[T float32 | float64] struct {
	X              []T // the image, C×H×W contiguous
	C, H, W        int
	KH, KW         int
	SH, SW, PH, PW int
	DH, DW         int
	OH, OW         int
	// Ones adds a last row of ones (row C·KH·KW), so that a bias in the
	// last column of A is added by the product itself.
	Ones bool
	// Off is scratch for Stage's table of row offsets (RowsInPlace),
	// kept by the caller between images so that staging allocates only
	// when the table must grow.
	Off []int

	staged []T // set by Stage
}

// StageLen returns the scratch Stage needs, or 0 where the geometry
// cannot be staged (only stride 1 with output rows as long as input rows).
// It includes room for the row of ones, whether or not Ones is set.
func (pt *Patches[T]) StageLen() int {
	if pt.SH != 1 || pt.SW != 1 || pt.OW != pt.W {
		return 0
	}
	return pt.C*pt.KW*(pt.H+2*pt.PH)*pt.W + pt.OH*pt.OW
}

// RowsInPlace implements InPlace once Stage has run: patch row (c, kh, kw)
// is the run of plane (c, kw) from row kh·DH on, OH·OW values long (the
// plane has H + 2·PH = OH + (KH−1)·DH rows at stride 1), and the row of
// ones is a run of ones after the planes. Before Stage it returns nil.
func (pt *Patches[T]) RowsInPlace() ([]T, []int) {
	if pt.staged == nil {
		return nil, nil
	}
	return pt.staged, pt.Off
}

// Stage prepares buf (StageLen elements, not shared with another
// goroutine's Patches) so that every patch row packs as one plain copy:
// for each channel c and kernel column kw, the image shifted by kw·DW − PW
// columns with the columns that fall off either edge zeroed, and PH rows
// of zeros above and below. Patch row (c, kh, kw) is then that plane from
// row kh·DH on, read straight through. It costs KW passes over the image,
// against KH·KW patch rows that no longer need their edges fixed one
// output row at a time. It also fills Off (growing it if needed) with
// every patch row's offset in buf, and with Ones writes OH·OW ones after
// the planes, for RowsInPlace.
func (pt *Patches[T]) Stage(buf []T) {
	w, rows := pt.W, pt.H+2*pt.PH
	plane := rows * w
	planes := pt.C * pt.KW * plane
	buf = buf[:planes+pt.OH*pt.OW]
	nr := pt.C * pt.KH * pt.KW
	if pt.Ones {
		nr++
		// By doubling copies, which run as vector moves (784 scalar
		// stores an image for conv1 were a third of Stage).
		ones := buf[planes:]
		ones[0] = 1
		for f := 1; f < len(ones); f *= 2 {
			copy(ones[f:], ones[:f])
		}
	}
	if cap(pt.Off) < nr {
		pt.Off = make([]int, nr)
	}
	pt.Off = pt.Off[:nr]
	r := 0
	for c := range pt.C {
		for kh := range pt.KH {
			for kw := range pt.KW {
				pt.Off[r] = (c*pt.KW+kw)*plane + kh*pt.DH*w
				r++
			}
		}
	}
	if pt.Ones {
		pt.Off[r] = planes
	}
	hw := pt.H * w
	for c := range pt.C {
		img := pt.X[c*hw : (c+1)*hw]
		for kw := range pt.KW {
			d := buf[(c*pt.KW+kw)*plane : (c*pt.KW+kw+1)*plane]
			clear(d[:pt.PH*w])
			clear(d[(pt.PH+pt.H)*w:])
			in := d[pt.PH*w : (pt.PH+pt.H)*w]
			off := kw*pt.DW - pt.PW
			lo, hi := max(-off, 0), min(w-off, w) // output columns reading inside the row
			if lo >= hi {
				clear(in)
				continue
			}
			// The whole image shifted by off in one copy, then the
			// columns that wrapped into the neighbouring row zeroed, a
			// few scalar stores a row (a copy and two clears a row cost
			// a quarter of conv1's forward).
			if off >= 0 {
				copy(in, img[off:])
			} else {
				copy(in[-off:], img)
			}
			for r := 0; r < hw; r += w {
				for q := r; q < r+lo; q++ {
					in[q] = 0
				}
				for q := r + hi; q < r+w; q++ {
					in[q] = 0
				}
			}
		}
	}
	pt.staged = buf
}

// PackB implements Packer, one micro-panel at a time and within it one
// patch row at a time: each row of a micro-panel is up to nr neighbouring
// pixels, which span a few output rows, and within an output row the
// pixels read are one run of the image row (strided by SW), with zeros
// where the kernel overhangs the padding.
func (pt *Patches[T]) PackB(dst []T, p0, j0, nb, kb, nr, ew, q0, q1 int) {
	if pt.staged != nil {
		pt.packStaged(dst, p0, j0, nb, kb, nr, ew, q0, q1)
		return
	}
	if pt.SH == 1 && pt.SW == 1 && pt.OW == pt.W {
		pt.packShift(dst, p0, j0, nb, kb, nr, ew, q0, q1)
		return
	}
	kk := pt.KH * pt.KW
	for q := q0; q < q1; q++ {
		jr := q * nr
		cols := min(nr, nb-jr)
		w := nr
		if cols < nr {
			w = ew
		}
		d := dst[jr*kb : jr*kb+w*kb]
		s := j0 + jr
		oh0, ow0 := s/pt.OW, s%pt.OW
		c, kh, kw := p0/kk, p0%kk/pt.KW, p0%pt.KW
		for p := range kb {
			row := d[p*w : (p+1)*w]
			if c == pt.C {
				onesRow(row, cols)
				continue
			}
			pt.run(row[:cols], c, kh, kw, oh0, ow0)
			clear(row[cols:])
			if kw++; kw == pt.KW {
				kw = 0
				if kh++; kh == pt.KH {
					kh = 0
					c++
				}
			}
		}
	}
}

// run writes len(dst) neighbouring pixels of patch row (c, kh, kw) from
// output pixel (oh, ow).
func (pt *Patches[T]) run(dst []T, c, kh, kw, oh, ow int) {

	// Valid output columns [wlo, whi): those whose input column
	// ow·SW − PW + kw·DW lies in [0, W).
	off := kw*pt.DW - pt.PW
	wlo, whi := 0, pt.OW
	if off < 0 {
		wlo = (-off + pt.SW - 1) / pt.SW
	}
	if last := pt.W - 1 - off; last < 0 {
		whi = 0
	} else {
		whi = min(last/pt.SW+1, pt.OW)
	}
	img := pt.X[c*pt.H*pt.W : (c+1)*pt.H*pt.W]
	ihOff := kh*pt.DH - pt.PH
	for len(dst) > 0 {
		n := min(len(dst), pt.OW-ow)
		seg := dst[:n]
		dst = dst[n:]
		ih := oh*pt.SH + ihOff
		lo, hi := max(ow, wlo), min(ow+n, whi)
		if ih < 0 || ih >= pt.H || lo >= hi {
			clear(seg)
		} else {
			clear(seg[:lo-ow])
			clear(seg[hi-ow:])
			src := img[ih*pt.W+lo*pt.SW+off:]
			out := seg[lo-ow : hi-ow]
			if pt.SW == 1 {
				copy(out, src)
			} else {
				for i := range out {
					out[i] = src[i*pt.SW]
				}
			}
		}
		oh++
		ow = 0
	}
}

// packShift is PackB at stride 1 where output and input rows are equally
// long ("same" padding): there, as in tensor.Im2Col, patch row (c, kh, kw)
// is the image shifted by a constant, so each micro-panel row is one copy
// (a fixed-size one for full rows of the common widths), with zeros where
// it leaves the image's rows and in the columns that wrapped past the left
// or right edge. Row by row, so that the row's constants are computed once
// for all its micro-panels.
func (pt *Patches[T]) packShift(dst []T, p0, j0, nb, kb, nr, ew, q0, q1 int) {
	kk := pt.KH * pt.KW
	ow := pt.OW
	hw := pt.H * pt.W
	c, kh, kw := p0/kk, p0%kk/pt.KW, p0%pt.KW
	for p := range kb {
		if c == pt.C {
			for q := q0; q < q1; q++ {
				jr := q * nr
				cols := min(nr, nb-jr)
				w := nr
				if cols < nr {
					w = ew
				}
				onesRow(dst[jr*kb+p*w:jr*kb+(p+1)*w], cols)
			}
			continue
		}
		img := pt.X[c*hw : (c+1)*hw]
		dh, off := kh*pt.DH-pt.PH, kw*pt.DW-pt.PW
		shift := dh*pt.W + off
		// Valid pixels [vlo, vhi): input row oh+dh in [0, H), and inside img.
		vlo := max(max(-dh, 0)*ow, -shift)
		vhi := min(min(pt.H-dh, pt.OH)*ow, hw-shift)
		// Output columns whose input column ow+off is outside [0, W).
		wlo, whi := max(-off, 0), min(pt.W-off, ow)
		edges := wlo > 0 || whi < ow
		for q := q0; q < q1; q++ {
			jr := q * nr
			cols := min(nr, nb-jr)
			w := nr
			if cols < nr {
				w = ew
			}
			row := dst[jr*kb+p*w : jr*kb+(p+1)*w]
			s := j0 + jr
			lo, hi := max(s, vlo), min(s+cols, vhi)
			switch {
			case lo >= hi:
				clear(row)
				continue
			case lo == s && hi == s+w && w == 48:
				*(*[48]T)(row) = *(*[48]T)(img[lo+shift:])
			case lo == s && hi == s+w && w == 24:
				*(*[24]T)(row) = *(*[24]T)(img[lo+shift:])
			default:
				clear(row[:lo-s])
				copy(row[lo-s:hi-s], img[lo+shift:hi+shift])
				clear(row[hi-s:])
			}
			if !edges {
				continue
			}
			for r := lo / ow; r*ow < hi; r++ {
				base := r*ow - s
				for q := max(base, lo-s); q < min(base+wlo, hi-s); q++ {
					row[q] = 0
				}
				for q := max(base+whi, lo-s); q < min(base+ow, hi-s); q++ {
					row[q] = 0
				}
			}
		}
		if kw++; kw == pt.KW {
			kw = 0
			if kh++; kh == pt.KH {
				kh = 0
				c++
			}
		}
	}
}

// onesRow sets the first cols values of row to 1 and the rest to 0.
func onesRow[T float32 | float64](row []T, cols int) {
	for i := range row[:cols] {
		row[i] = 1
	}
	clear(row[cols:])
}

// packStaged is PackB from the planes Stage built: each micro-panel row is
// one copy.
func (pt *Patches[T]) packStaged(dst []T, p0, j0, nb, kb, nr, ew, q0, q1 int) {
	kk := pt.KH * pt.KW
	plane := (pt.H + 2*pt.PH) * pt.W
	c, kh, kw := p0/kk, p0%kk/pt.KW, p0%pt.KW
	for p := range kb {
		var src []T
		if c < pt.C {
			src = pt.staged[(c*pt.KW+kw)*plane+kh*pt.DH*pt.W : (c*pt.KW+kw+1)*plane]
		}
		for q := q0; q < q1; q++ {
			jr := q * nr
			cols := min(nr, nb-jr)
			w := nr
			if cols < nr {
				w = ew
			}
			row := dst[jr*kb+p*w : jr*kb+(p+1)*w]
			switch {
			case src == nil: // the row of ones
				onesRow(row, cols)
			case cols == 48 && w == 48:
				*(*[48]T)(row) = *(*[48]T)(src[j0+jr:])
			case cols == 24 && w == 24:
				*(*[24]T)(row) = *(*[24]T)(src[j0+jr:])
			default:
				copy(row[:cols], src[j0+jr:j0+jr+cols])
				clear(row[cols:])
			}
		}
		if kw++; kw == pt.KW {
			kw = 0
			if kh++; kh == pt.KH {
				kh = 0
				c++
			}
		}
	}
}
