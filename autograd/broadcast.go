package autograd

import (
	"fmt"

	"github.com/adjoint-go/adjoint/tensor"
)

// bcast describes a NumPy-broadcast binary op over contiguous operands:
// the output shape and each operand's strides aligned to it (0 along
// broadcast axes). Work is split by rows (all axes but the last).
type bcast struct {
	nd     int
	shape  [maxPoolDims]int
	sx, sy [maxPoolDims]int
	rows   int
	inner  int
}

// broadcastShapes fills bc for operand shapes a and b, panicking with op's
// name if they do not broadcast. It returns the output shape (a slice of
// bc.shape).
func (bc *bcast) init(op string, a, b []int) []int {
	nd := max(len(a), len(b), 1)
	if nd > maxPoolDims {
		fail(ErrShape, "%s: shapes %v and %v have more than %d dimensions", op, a, b, maxPoolDims)
	}
	bc.nd = nd
	for i := range nd {
		da, db := dimFromRight(a, nd-1-i), dimFromRight(b, nd-1-i)
		switch {
		case da == db, db == 1:
			bc.shape[i] = da
		case da == 1:
			bc.shape[i] = db
		default:
			fail(ErrShape, "%s: shapes %v and %v do not broadcast", op, a, b)
		}
	}
	alignedStrides(&bc.sx, a, bc.shape[:nd])
	alignedStrides(&bc.sy, b, bc.shape[:nd])
	bc.inner = bc.shape[nd-1]
	bc.rows = 1
	for _, d := range bc.shape[:nd-1] {
		bc.rows *= d
	}
	if len(a) == 0 && len(b) == 0 {
		return bc.shape[:0]
	}
	return bc.shape[:nd]
}

// dimFromRight returns shape's i-th dimension counting from the last (0),
// or 1 past its start.
func dimFromRight(shape []int, i int) int {
	if i < len(shape) {
		return shape[len(shape)-1-i]
	}
	return 1
}

// alignedStrides sets st to the row-major strides of a contiguous tensor
// of shape s, right-aligned to out, with 0 along broadcast axes.
func alignedStrides(st *[maxPoolDims]int, s, out []int) {
	stride := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := i - (len(out) - len(s))
		if j < 0 || s[j] == 1 {
			st[i] = 0
			continue
		}
		st[i] = stride
		stride *= s[j]
	}
}

// start returns the operands' offsets at the first element of row r.
func (bc *bcast) start(r int) (ix, iy int) {
	for i := bc.nd - 2; i >= 0; i-- {
		d := bc.shape[i]
		k := r % d
		r /= d
		ix += k * bc.sx[i]
		iy += k * bc.sy[i]
	}
	return ix, iy
}

// bcastFwd computes rows [lo, hi) of d = x op y.
func bcastFwd[T tensor.Float](bc *bcast, op opKind, d, x, y []T, lo, hi int) {
	n := bc.inner
	sx, sy := bc.sx[bc.nd-1], bc.sy[bc.nd-1]
	for r := lo; r < hi; r++ {
		ix, iy := bc.start(r)
		o := d[r*n : r*n+n]
		switch op {
		case opAdd:
			for k := range o {
				o[k] = x[ix] + y[iy]
				ix, iy = ix+sx, iy+sy
			}
		case opSub:
			for k := range o {
				o[k] = x[ix] - y[iy]
				ix, iy = ix+sx, iy+sy
			}
		case opMul:
			for k := range o {
				o[k] = x[ix] * y[iy]
				ix, iy = ix+sx, iy+sy
			}
		case opDiv:
			for k := range o {
				o[k] = x[ix] / y[iy]
				ix, iy = ix+sx, iy+sy
			}
		default:
			panic("autograd: bcastFwd: bad op " + op.String())
		}
	}
}

// bcastBwd adds, for rows [lo, hi) of the output, the contribution of h̄
// (g) to the adjoint ga of one operand (side 0: x, side 1: y), indexing ga
// with that operand's strides so that broadcast axes are summed in the
// same pass. ga must hold the running sum (the caller zeroes it first on
// the pass's first contribution); rows may run in parallel only when the
// operand is not broadcast.
func bcastBwd[T tensor.Float](bc *bcast, op opKind, side int, ga, g, x, y []T, lo, hi int) {
	n := bc.inner
	sx, sy := bc.sx[bc.nd-1], bc.sy[bc.nd-1]
	for r := lo; r < hi; r++ {
		ix, iy := bc.start(r)
		gr := g[r*n : r*n+n]
		switch {
		case op == opAdd || (op == opSub && side == 0):
			if side == 0 {
				for _, v := range gr {
					ga[ix] += v
					ix += sx
				}
			} else {
				for _, v := range gr {
					ga[iy] += v
					iy += sy
				}
			}
		case op == opSub:
			for _, v := range gr {
				ga[iy] -= v
				iy += sy
			}
		case op == opMul && side == 0:
			for _, v := range gr {
				ga[ix] += v * y[iy]
				ix, iy = ix+sx, iy+sy
			}
		case op == opMul:
			for _, v := range gr {
				ga[iy] += v * x[ix]
				ix, iy = ix+sx, iy+sy
			}
		case op == opDiv && side == 0:
			for _, v := range gr {
				ga[ix] += v / y[iy]
				ix, iy = ix+sx, iy+sy
			}
		case op == opDiv:
			for _, v := range gr {
				b := y[iy]
				ga[iy] -= v * x[ix] / (b * b)
				ix, iy = ix+sx, iy+sy
			}
		default:
			panic("autograd: bcastBwd: bad op " + op.String())
		}
	}
}

func shapeString(s []int) string { return fmt.Sprint(s) }
