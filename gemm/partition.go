package gemm

// The partition of one block's C panel among the tasks of a team: an
// m×nb panel is cut into tiles (MR rows × NR columns, the last row and
// column of tiles possibly partial), and the tiles into a tm×tn grid of
// rectangles, row tiles split into tm nearly equal runs and column tiles
// into tn. It depends only on the shape and the thread count, never on
// timing, so every run gives each C element the same kernel calls.

// grid chooses tm×tn <= threads tasks over mt row tiles and nt column
// tiles, minimising the largest task (in tiles); ties go to more row tasks,
// since each row task packs its own rows of A while column tasks over the
// same rows would pack them twice.
//
// At P threads this is BLIS's choice between the ic and jr loops: a tall
// product (mt >= P) splits its rows only, each task packing its own A block
// and reading all of the shared B panel; a short, wide one (mt < P, e.g. 32
// rows at P = 16) gives each row run several column runs, i.e. each thread
// its own slice of N.
func grid(threads, mt, nt int) (tm, tn int) {
	tm, tn = 1, 1
	best := mt * nt
	for r := min(threads, mt); r >= 1; r-- {
		c := min(threads/r, nt)
		if w := ceilDiv(mt, r) * ceilDiv(nt, c); w < best {
			best, tm, tn = w, r, c
		}
	}
	return tm, tn
}

// split returns the i-th of parts nearly equal ranges of [0, n): their
// lengths differ by at most one.
func split(n, parts, i int) (lo, hi int) {
	q, r := n/parts, n%parts
	lo = i*q + min(i, r)
	hi = lo + q
	if i < r {
		hi++
	}
	return lo, hi
}

// taskRect returns the rows [rlo, rhi) and the panel columns [clo, chi) of
// task i of a tm×tn grid over an m×nb panel (row-major task order: task i
// is row run i/tn, column run i%tn). Rows start on MR boundaries and
// columns on NR boundaries, so no tile is shared; an empty rectangle
// (rlo >= rhi or clo >= chi) cannot occur while tm <= row tiles and
// tn <= column tiles, which grid guarantees.
func taskRect(bl blocking, m, nb, tm, tn, i int) (rlo, rhi, clo, chi int) {
	mt0, mt1 := split(ceilDiv(m, bl.mr), tm, i/tn)
	nt0, nt1 := split(ceilDiv(nb, bl.nr), tn, i%tn)
	return mt0 * bl.mr, min(mt1*bl.mr, m), nt0 * bl.nr, min(nt1*bl.nr, nb)
}
