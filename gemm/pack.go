package gemm

import (
	"unsafe"
)

// arena is a reusable, 64-byte aligned scratch buffer.
type arena[T float32 | float64] struct{ raw []T }

const cacheAlign = 64

// get returns an aligned slice of n elements (contents undefined), growing
// the arena if needed.
func (ar *arena[T]) get(n int) []T {
	var z T
	sz := int(unsafe.Sizeof(z))
	extra := cacheAlign / sz
	if cap(ar.raw) < n+extra {
		ar.raw = make([]T, n+extra)
	}
	ar.raw = ar.raw[:cap(ar.raw)]
	mis := int(uintptr(unsafe.Pointer(&ar.raw[0])) % cacheAlign)
	off := ((cacheAlign - mis) % cacheAlign) / sz
	return ar.raw[off : off+n : off+n]
}

// getArena returns a per-goroutine buffer for a packed A block and an edge
// tile, from arenaList.
func getArena[T float32 | float64]() *arena[T] {
	if ar := arenaList[T]().Get(); ar != nil {
		return ar
	}
	return new(arena[T])
}

// packA copies the mb×kb block of op(A) at (i0, p0) into dst as a sequence
// of MR-row micro-panels, each holding kb groups of mr values
// (dst[q*mr*kb + p*mr + i] = op(A)(i0+q*mr+i, p0+p)); rows past mb are zero.
// A partial last micro-panel is packed me high instead (me >= its rows, the
// height of the edge kernel that reads it), still from dst[ir*kb].
func packA[T float32 | float64](dst []T, tA Transpose, a []T, lda, i0, p0, mb, kb, mr, me int) {
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		h := mr
		if rows < mr {
			h = me
		}
		d := dst[ir*kb : ir*kb+h*kb]
		if tA == Trans {
			// op(A)(i, p) = a[p*lda + i]: each k step is a contiguous run.
			packRuns(d, a[p0*lda+i0+ir:], lda, rows, kb, h)
			continue // packRuns pads
		}
		// op(A)(i, p) = a[i*lda + p]: read rows, write with stride h.
		if rows < h {
			clear(d) // the padding; one vectorised call beats per-row loops
		}
		packStrided(d, a[(i0+ir)*lda+p0:], lda, rows, kb, h)
	}
}

// packB copies the kb×nb panel of op(B) at (p0, j0) into dst as NR-column
// micro-panels of kb groups of nr values
// (dst[q*nr*kb + p*nr + j] = op(B)(p0+p, j0+q*nr+j)); columns past nb are
// zero. A partial last micro-panel (nb−jr < nr columns) is packed ew wide
// instead (ew >= its columns, the width of the edge kernel that reads it),
// still from dst[jr*kb]. Only micro-panels [q0, q1) are written, so several
// goroutines can share the work.
// packBRows selects the row-by-row packing of full NoTrans B micro-panels
// (a variable so that the tuning harness can compare).
var packBRows = true

func packB[T float32 | float64](dst []T, tB Transpose, b []T, ldb, p0, j0, nb, kb, nr, ew, q0, q1 int) {
	if packBRows && tB == NoTrans {
		// Full micro-panels row by row, so that B is read in long sequential
		// runs rather than nr values from each of kb rows in turn (slightly
		// faster, docs/gemm-tuning.md). Partial ones fall through below.
		if qf := min(q1, nb/nr); qf > q0 {
			packBFullRows(dst, b[p0*ldb+j0:], ldb, kb, nr, q0, qf)
			q0 = qf
		}
	}
	for q := q0; q < q1; q++ {
		jr := q * nr
		cols := min(nr, nb-jr)
		w := nr
		if cols < nr {
			w = ew
		}
		d := dst[jr*kb : jr*kb+w*kb]
		if tB == NoTrans {
			// op(B)(p, j) = b[p*ldb + j]: contiguous per k step.
			packRuns(d, b[p0*ldb+j0+jr:], ldb, cols, kb, w)
			continue // packRuns pads
		}
		// op(B)(p, j) = b[j*ldb + p]: read rows of B, write with stride w.
		if cols < w {
			clear(d)
		}
		packStrided(d, b[(j0+jr)*ldb+p0:], ldb, cols, kb, w)
	}
}

// packStrided transposes rows×kb values (row r at src[r*ld:], kb long) into
// d[p*w + r]. Eight (then four, then one) source rows go together so that
// each step writes a run of neighbouring values.
func packStrided[T float32 | float64](d, src []T, ld, rows, kb, w int) {
	r := 0
	if r+8 <= rows {
		// Bounds for every row of this block are checked once up front; the
		// loop then addresses them from one base pointer, which keeps the
		// eight source rows out of the register allocator's way.
		var z T
		sz := unsafe.Sizeof(z)
		ldb := uintptr(ld) * sz
		for ; r+8 <= rows; r += 8 {
			_ = src[(r+7)*ld+kb-1]
			_ = d[(kb-1)*w+r+7]
			// Whole 8×8 (8×4) blocks in vector registers where the
			// assembly is available, the remaining columns below.
			done := transpose8(d[r:], src[r*ld:], ld, w, kb)
			s0 := unsafe.Pointer(&src[r*ld])
			d0 := unsafe.Pointer(&d[r])
			dw := uintptr(w) * sz
			// Offsets, not moving pointers: a pointer stepped past the last
			// element would point outside the allocation.
			xs, xd := uintptr(done)*sz, uintptr(done)*dw
			for range kb - done {
				o := (*[8]T)(unsafe.Add(d0, xd))
				sp := unsafe.Add(s0, xs)
				q4 := unsafe.Add(sp, 4*ldb)
				o[0] = *(*T)(sp)
				o[1] = *(*T)(unsafe.Add(sp, ldb))
				o[2] = *(*T)(unsafe.Add(sp, 2*ldb))
				o[3] = *(*T)(unsafe.Add(q4, -ldb))
				o[4] = *(*T)(q4)
				o[5] = *(*T)(unsafe.Add(q4, ldb))
				o[6] = *(*T)(unsafe.Add(q4, 2*ldb))
				o[7] = *(*T)(unsafe.Add(q4, 3*ldb))
				xs += sz
				xd += dw
			}
		}
	}
	if rows-r == 6 {
		// The AVX2 tile's 6 rows (MR): 6×8 blocks in vector registers
		// where the assembly has them, then whole 6-value columns, rather
		// than 4 rows and two strided single rows (a third of the speed).
		s0 := src[r*ld:][:kb]
		s1 := src[(r+1)*ld:][:kb]
		s2 := src[(r+2)*ld:][:kb]
		s3 := src[(r+3)*ld:][:kb]
		s4 := src[(r+4)*ld:][:kb]
		s5 := src[(r+5)*ld:][:kb]
		_ = d[(kb-1)*w+r+5]
		done := transpose6(d[r:], src[r*ld:], ld, w, kb)
		dd := d[r:]
		for p := done; p < kb; p++ {
			o := dd[p*w : p*w+6]
			o[0], o[1], o[2], o[3], o[4], o[5] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p]
		}
		return
	}
	for ; r+4 <= rows; r += 4 {
		s0 := src[r*ld:][:kb]
		s1 := src[(r+1)*ld:][:kb]
		s2 := src[(r+2)*ld:][:kb]
		s3 := src[(r+3)*ld:][:kb]
		dd := d[r:]
		for p := range s0 {
			o := (*[4]T)(dd[p*w:])
			o[0], o[1], o[2], o[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	for ; r < rows; r++ {
		s := src[r*ld:][:kb]
		dd := d[r:]
		for p, v := range s {
			dd[p*w] = v
		}
	}
}

// packRuns copies kb runs of n values (run p at src[p*ld:]) to d[p*w:],
// n <= w, padding each with w-n zeros. Full runs of the common tile widths
// are copied as struct values (see copyRuns).
func packRuns[T float32 | float64](d, src []T, ld, n, kb, w int) {
	if n == w && kb > 0 {
		_ = d[kb*w-1]
		_ = src[(kb-1)*ld+w-1]
		if copyRuns(unsafe.Pointer(&d[0]), unsafe.Pointer(&src[0]), w, ld, w, kb, int(unsafe.Sizeof(d[0]))) {
			return
		}
	}
	// Partial runs: clear the whole micro-panel in one vectorised call, then
	// copy the values in.
	clear(d[:kb*w])
	if n >= 8 {
		for p := range kb {
			copy(d[p*w:p*w+n], src[p*ld:p*ld+n])
		}
		return
	}
	for p := range kb {
		dst := d[p*w:][:n]
		for j, v := range src[p*ld:][:n] {
			dst[j] = v
		}
	}
}

// packBFullRows packs full micro-panels [q0, q1) of a NoTrans B block whose
// first element is src[0], one row of B at a time.
func packBFullRows[T float32 | float64](dst, src []T, ldb, kb, nr, q0, q1 int) {
	if q1 <= q0 {
		return
	}
	size := int(unsafe.Sizeof(dst[0]))
	step := nr * kb
	for p := range kb {
		row := src[p*ldb+q0*nr : p*ldb+q1*nr]
		d := dst[q0*step+p*nr:]
		_ = d[(q1-q0-1)*step+nr-1]
		if !copyRuns(unsafe.Pointer(&d[0]), unsafe.Pointer(&row[0]), step, nr, nr, q1-q0, size) {
			for q := range q1 - q0 {
				copy(d[q*step:q*step+nr], row[q*nr:(q+1)*nr])
			}
		}
	}
}

// Runs of bytes copied as struct values. A struct assignment compiles to
// inline moves (MOVUPS on amd64), where an array reached through a slice
// conversion, *(*[N]T)(d) = *(*[N]T)(s), is copied by a call of
// runtime.memmove (Go 1.26): a call for each 24 to 192 bytes of a packed
// micro-panel, which took 8% of an AVX2 TN product (784×512×256) and 16%
// of a two-thread float64 NN one. 32-bit words, so that only a float32's
// alignment is needed on the architectures that fault on unaligned loads.
type (
	run8   struct{ w [2]uint32 }
	run16  struct{ w [4]uint32 }
	run24  struct{ w [6]uint32 }
	run32  struct{ w [8]uint32 }
	run48  struct{ w [12]uint32 }
	run64  struct{ w [16]uint32 }
	run96  struct{ w [24]uint32 }
	run128 struct{ w [32]uint32 }
	run192 struct{ w [48]uint32 }
	run384 struct{ w [96]uint32 }
)

// copyRuns copies count runs of n elements of size bytes, run q from src +
// q·sld elements to dst + q·dld elements, if n·size is one of the run
// sizes above, and reports whether it did. The caller has checked that
// every run lies inside its slice.
func copyRuns(dst, src unsafe.Pointer, dld, sld, n, count, size int) bool {
	ds, ss := uintptr(dld*size), uintptr(sld*size)
	switch n * size {
	case 8:
		copyRunsOf[run8](dst, src, ds, ss, count)
	case 16:
		copyRunsOf[run16](dst, src, ds, ss, count)
	case 24:
		copyRunsOf[run24](dst, src, ds, ss, count)
	case 32:
		copyRunsOf[run32](dst, src, ds, ss, count)
	case 48:
		copyRunsOf[run48](dst, src, ds, ss, count)
	case 64:
		copyRunsOf[run64](dst, src, ds, ss, count)
	case 96:
		copyRunsOf[run96](dst, src, ds, ss, count)
	case 128:
		copyRunsOf[run128](dst, src, ds, ss, count)
	case 192:
		copyRunsOf[run192](dst, src, ds, ss, count)
	case 384:
		copyRunsOf[run384](dst, src, ds, ss, count)
	default:
		return false
	}
	return true
}

// copyRunsOf copies count values of R, the q-th from src + q·ss bytes to
// dst + q·ds bytes. Offsets, not moving pointers: a pointer stepped past
// the last run would point outside the allocation.
func copyRunsOf[R any](dst, src unsafe.Pointer, ds, ss uintptr, count int) {
	var xd, xs uintptr
	for range count {
		*(*R)(unsafe.Add(dst, xd)) = *(*R)(unsafe.Add(src, xs))
		xd += ds
		xs += ss
	}
}
