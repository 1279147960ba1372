package gonumblas

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/adjoint-go/adjoint/tensor"
)

// ErrShape is wrapped by the panics of ToMat for a tensor that a mat.Dense
// cannot represent (not two-dimensional, or with a zero dimension, which
// gonum's mat.Dense does not allow).
var ErrShape = errors.New("gonumblas: bad shape")

// ToMat returns t as a *mat.Dense.
//
// When t is contiguous (row-major without gaps, so t.Data works) the result
// shares t's storage: writes through either are seen by the other. Any other
// layout (a transposed view, a view with a row stride larger than its row)
// is copied, and the two are then independent; call t.IsContiguous() to know
// which happened.
//
// It panics, wrapping ErrShape, if t is not two-dimensional or has a zero
// dimension.
func ToMat(t *tensor.Dense[float64]) *mat.Dense {
	if t.Dims() != 2 {
		panic(fmt.Errorf("%w: ToMat: tensor of shape %v is not 2-D", ErrShape, t.Shape()))
	}
	r, c := t.Shape()[0], t.Shape()[1]
	if r == 0 || c == 0 {
		panic(fmt.Errorf("%w: ToMat: shape %v has a zero dimension, which mat.Dense cannot hold", ErrShape, t.Shape()))
	}
	// Contiguous returns t itself when it can, else a contiguous copy.
	return mat.NewDense(r, c, t.Contiguous().Data())
}

// FromMat returns m as a 2-D tensor of the same shape.
//
// When m's rows are packed (its stride equals its column count, as for any
// matrix made by mat.NewDense and not sliced by columns) the tensor shares
// m's storage: writes through either are seen by the other. A column-sliced
// view (stride larger than the column count) is copied, because a tensor
// cannot be built over strided storage through the tensor package's public
// API; the two are then independent. An empty m (the zero mat.Dense) gives a
// 0×0 tensor.
func FromMat(m *mat.Dense) *tensor.Dense[float64] {
	if m.IsEmpty() {
		return tensor.New[float64](0, 0)
	}
	raw := m.RawMatrix()
	r, c := raw.Rows, raw.Cols
	if raw.Stride == c {
		return tensor.FromSlice(raw.Data[:r*c:r*c], r, c)
	}
	data := make([]float64, r*c)
	for i := range r {
		copy(data[i*c:(i+1)*c], raw.Data[i*raw.Stride:i*raw.Stride+c])
	}
	return tensor.FromSlice(data, r, c)
}
