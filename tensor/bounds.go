package tensor

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Shared bounds for everything that turns untrusted sizes into tensors:
// the .npy, .npz and safetensors readers here, and the ONNX, tokenizer and
// model-folder readers built on this package. One validator per concept,
// so a shape one reader accepts every constructor accepts too.

// MaxRank is the most dimensions a tensor may have. Every real tensor has
// far fewer (model weights and activations rarely pass 6), and it is what
// the elementwise, reduction and row engines index with fixed-size arrays,
// so any tensor a constructor or reader makes can go through every op.
// Bounding the rank also bounds what a reader spends on one header's shape
// before it can reject it: a 93 MB safetensors header listing 49 million
// dimensions used to cost 3 GB.
const MaxRank = 16

// CheckShape reports whether shape is valid for a tensor of elements of
// elemSize bytes (4 for float32, 8 for float64; any positive size for a
// reader's other dtypes) and returns its element count. It returns an
// error wrapping ErrShape, naming the shape (abbreviated by FormatShape),
// if shape has more than MaxRank dimensions, a negative dimension, or if
// the product of its non-zero dimensions times elemSize exceeds MaxInt, so
// that the count, every row-major stride and the size in bytes fit an int
// (a shape such as [0, 2^62, 2^62] holds no elements but has overflowing
// strides). New, FromSlice and every reader of this package apply it; it
// panics if elemSize < 1.
func CheckShape(shape []int, elemSize int) (n int, err error) {
	if elemSize < 1 {
		fail(ErrShape, "CheckShape: elemSize %d < 1", elemSize)
	}
	if len(shape) > MaxRank {
		return 0, &Error{Err: ErrShape, Msg: fmt.Sprintf("tensor: shape %s has %d dimensions, more than MaxRank %d", FormatShape(shape), len(shape), MaxRank)}
	}
	n, ok := shapeElems(shape, math.MaxInt/elemSize)
	if !ok {
		for _, d := range shape {
			if d < 0 {
				return 0, &Error{Err: ErrShape, Msg: fmt.Sprintf("tensor: negative dimension %d in shape %s", d, FormatShape(shape))}
			}
		}
		return 0, &Error{Err: ErrShape, Msg: fmt.Sprintf("tensor: shape %s is too large: more than %d elements of %d bytes (its size in bytes or a stride would overflow an int)",
			FormatShape(shape), math.MaxInt/elemSize, elemSize)}
	}
	return n, nil
}

// ShapeFromInt64 converts dimensions declared as int64 (ONNX's
// TensorProto.dims and ValueInfo shapes, JSON integers) to a shape, checked
// as CheckShape checks it, and returns it with its element count. The rank
// is checked before anything is allocated, and a dimension above MaxInt
// (any above 2^31−1 on a 32-bit machine) is an error rather than a wrapped
// int. Errors wrap ErrShape.
func ShapeFromInt64(dims []int64, elemSize int) (shape []int, n int, err error) {
	if len(dims) > MaxRank {
		return nil, 0, &Error{Err: ErrShape, Msg: fmt.Sprintf("tensor: %d dimensions, more than MaxRank %d", len(dims), MaxRank)}
	}
	shape = make([]int, len(dims))
	for i, d := range dims {
		if d < 0 {
			return nil, 0, &Error{Err: ErrShape, Msg: fmt.Sprintf("tensor: negative dimension %d at %d", d, i)}
		}
		if uint64(d) > math.MaxInt {
			return nil, 0, &Error{Err: ErrShape, Msg: fmt.Sprintf("tensor: dimension %d at %d does not fit an int", d, i)}
		}
		shape[i] = int(d)
	}
	n, err = CheckShape(shape, elemSize)
	if err != nil {
		return nil, 0, err
	}
	return shape, n, nil
}

// MulSizes returns the product of sizes and true, or 0 and false if a size
// is negative or the product overflows an int. Use it wherever sizes
// multiply (batch·time, heads·dim, ...): a wrapped product can equal a
// slice length by accident (1<<62·4 wraps to 0) and pass a check.
func MulSizes(sizes ...int) (int, bool) {
	p := 1
	for _, s := range sizes {
		if s < 0 {
			return 0, false
		}
		hi, lo := bits.Mul(uint(p), uint(s))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		p = int(lo)
	}
	return p, true
}

// AddSizes returns a+b and true, or 0 and false if either is negative or
// the sum overflows an int.
func AddSizes(a, b int) (int, bool) {
	if a < 0 || b < 0 || a > math.MaxInt-b {
		return 0, false
	}
	return a + b, true
}

// quoteMax is how many bytes of a name QuoteName keeps.
const quoteMax = 64

// QuoteName quotes a name taken from input (a tensor name, a key, a file
// member) for an error message, as strconv.Quote does, but keeps at most
// its first 64 bytes (cut at a rune boundary) and then says how long it
// was: an error quoting a 49 MB duplicate name used to be 49 MB long.
func QuoteName(s string) string {
	if len(s) <= quoteMax {
		return strconv.Quote(s)
	}
	cut := quoteMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("...(%d bytes)", len(s))
}

// shapeShow is how many leading dimensions FormatShape prints.
const shapeShow = 8

// FormatShape formats a shape for an error message as fmt's %v does,
// [2 3 4], but a shape of more than 8 dimensions shows only its first 8
// and the count: [1 1 1 1 1 1 1 1 ...(3000000 dims)].
func FormatShape(shape []int) string {
	if len(shape) <= shapeShow {
		return fmt.Sprint(shape)
	}
	var sb strings.Builder
	sb.WriteByte('[')
	for i, d := range shape[:shapeShow] {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.Itoa(d))
	}
	fmt.Fprintf(&sb, " ...(%d dims)]", len(shape))
	return sb.String()
}

// Budget counts what a reader allocates while it parses an untrusted
// header (names, shapes, map entries), so that the memory spent stays in
// proportion to the header's bytes whatever their content. Make one with
// NewBudget for the header's length; call Spend before each allocation
// that the header's content decides. The zero Budget refuses everything.
type Budget struct {
	left int64
}

// Budget limits: a header of n bytes may cost BudgetFactor·n +
// BudgetMargin bytes of parsed structures. The factor covers Go's
// per-object overheads (a map entry, a slice header) on the smallest
// entries a header can spell.
const (
	BudgetFactor = 16
	BudgetMargin = 1 << 20
)

// NewBudget returns the budget for a header of n bytes (n < 0 counts as 0).
func NewBudget(n int64) Budget {
	n = max(n, 0)
	if n > (math.MaxInt64-BudgetMargin)/BudgetFactor {
		return Budget{left: math.MaxInt64}
	}
	return Budget{left: BudgetFactor*n + BudgetMargin}
}

// Spend takes n bytes (n >= 0) from the budget and reports whether they
// were there; once it returns false the reader should stop with an error.
func (b *Budget) Spend(n int64) bool {
	if n < 0 || n > b.left {
		b.left = 0
		return false
	}
	b.left -= n
	return true
}
