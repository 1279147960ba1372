package autograd

import "fmt"

// bcast is scratch for the shape that two operand shapes broadcast to
// under NumPy's rules; the arithmetic itself is tensor's (see binary).
type bcast struct {
	shape [maxPoolDims]int
}

// init returns the broadcast shape of a and b (a slice of bc.shape),
// panicking with op's name if they do not broadcast. It allocates nothing,
// unlike tensor.BroadcastShapes, and names the autograd op.
func (bc *bcast) init(op string, a, b []int) []int {
	nd := max(len(a), len(b))
	if nd > maxPoolDims {
		fail(ErrShape, "%s: shapes %v and %v have more than %d dimensions", op, a, b, maxPoolDims)
	}
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

func shapeString(s []int) string { return fmt.Sprint(s) }
