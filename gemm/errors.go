package gemm

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Sentinel errors. Every panic raised by Sgemm and Dgemm for a misuse is an
// error that wraps exactly one of these (test with errors.Is) and whose
// message names the function, the argument and the values, e.g.
//
//	gemm: Sgemm: lda 3 < k 4
var (
	// ErrTranspose: a Transpose other than NoTrans or Trans.
	ErrTranspose = errors.New("gemm: invalid transpose")
	// ErrShape: a negative m, n or k.
	ErrShape = errors.New("gemm: negative dimension")
	// ErrLeadingDim: lda, ldb or ldc smaller than the row length it strides
	// over (or than 1).
	ErrLeadingDim = errors.New("gemm: leading dimension too small")
	// ErrShort: a, b or c shorter than its dimensions and leading dimension
	// require.
	ErrShort = errors.New("gemm: slice too short")
	// ErrOverlap: the elements of C that are written share memory with the
	// elements of A or B that are read.
	ErrOverlap = errors.New("gemm: output overlaps an input")
	// ErrKernel: SetKernel was given a name that is unknown or that this CPU
	// cannot run. It is returned (wrapped), not raised.
	ErrKernel = errors.New("gemm: kernel not available")
)

// usageError is the panic value: its message is the precise one, and it
// unwraps to the sentinel.
type usageError struct {
	kind error
	msg  string
}

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return e.kind }

func usage(kind error, fn, format string, args ...any) {
	panic(&usageError{kind: kind, msg: "gemm: " + fn + ": " + fmt.Sprintf(format, args...)})
}

// check validates the arguments of a GEMM call and panics with a usageError
// on the first problem found, before anything is written.
func check[T float32 | float64](fn string, tA, tB Transpose, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if tA != NoTrans && tA != Trans {
		usage(ErrTranspose, fn, "tA %q is neither NoTrans nor Trans", byte(tA))
	}
	if tB != NoTrans && tB != Trans {
		usage(ErrTranspose, fn, "tB %q is neither NoTrans nor Trans", byte(tB))
	}
	if m < 0 {
		usage(ErrShape, fn, "m %d < 0", m)
	}
	if n < 0 {
		usage(ErrShape, fn, "n %d < 0", n)
	}
	if k < 0 {
		usage(ErrShape, fn, "k %d < 0", k)
	}
	// Stored shapes: rows×cols of A and B as they sit in memory.
	ar, ac, acName := m, k, "k"
	if tA == Trans {
		ar, ac, acName = k, m, "m"
	}
	br, bc, bcName := k, n, "n"
	if tB == Trans {
		br, bc, bcName = n, k, "k"
	}
	checkLD(fn, "lda", lda, ac, acName)
	checkLD(fn, "ldb", ldb, bc, bcName)
	checkLD(fn, "ldc", ldc, n, "n")
	checkLen(fn, "a", len(a), ar, ac, lda)
	checkLen(fn, "b", len(b), br, bc, ldb)
	checkLen(fn, "c", len(c), m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if ar > 0 && ac > 0 && overlaps(a, ar, ac, lda, c, m, n, ldc) {
		usage(ErrOverlap, fn, "c overlaps a")
	}
	if br > 0 && bc > 0 && overlaps(b, br, bc, ldb, c, m, n, ldc) {
		usage(ErrOverlap, fn, "c overlaps b")
	}
}

// overlaps reports whether the rows×cols matrix x (leading dimension ldx)
// shares an element with the m×n matrix c (ldc). Disjoint blocks of one
// matrix, as LAPACK-style callers pass them (same leading dimension), are
// told apart exactly; matrices with different leading dimensions whose
// address ranges intersect are reported as overlapping.
func overlaps[T float32 | float64](x []T, rows, cols, ldx int, c []T, m, n, ldc int) bool {
	xLo, xHi := span(x, rows, cols, ldx)
	cLo, cHi := span(c, m, n, ldc)
	if xHi <= cLo || cHi <= xLo {
		return false
	}
	size := unsafe.Sizeof(x[0])
	if ldx != ldc || (xLo-cLo)%size != 0 {
		return true
	}
	// x(p, q) and c(i, j) are the same element when d + p·ld + q = i·ld + j,
	// d the element offset of x from c. With d = dr·ld + dc, 0 <= dc < ld,
	// and q, j < ld, that is either row i = p+dr with j = q+dc, or, where
	// q+dc wraps past ld, row i = p+dr+1 with j = q+dc-ld.
	ld := ldc
	d := int(xLo-cLo) / int(size) // int(...) wraps to negative when x starts first, on 32- and 64-bit
	dr, dc := d/ld, d%ld
	if dc < 0 {
		dr, dc = dr-1, dc+ld
	}
	rowsMeet := func(first int) bool { return first < m && first+rows > 0 }
	if rowsMeet(dr) && min(cols, n-dc) > 0 {
		return true
	}
	return rowsMeet(dr+1) && ld-dc < cols
}

func checkLD(fn, name string, ld, cols int, colsName string) {
	if cols < 1 {
		if ld < 1 {
			usage(ErrLeadingDim, fn, "%s %d < 1", name, ld)
		}
		return
	}
	if ld < cols {
		usage(ErrLeadingDim, fn, "%s %d < %s %d", name, ld, colsName, cols)
	}
}

func checkLen(fn, name string, l, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	// l >= (rows-1)*ld + cols, written so that it cannot overflow (ld >= 1
	// was checked): the unsafe loops downstream rely on it.
	if l < cols || rows-1 > (l-cols)/ld {
		// The length needed may not fit an int64 (it printed as negative
		// once: "len(a) 4 < -9223372036854775807"); say so instead.
		need := fmt.Sprintf("%d·%d + %d (more than MaxInt64)", rows-1, ld, cols)
		if int64(rows-1) <= (math.MaxInt64-int64(cols))/int64(ld) {
			need = fmt.Sprint(int64(rows-1)*int64(ld) + int64(cols))
		}
		usage(ErrShort, fn, "len(%s) %d < %s (%d×%d, ld %d)", name, l, need, rows, cols, ld)
	}
}

// span returns the address range [lo, hi) of the elements a GEMM touches in
// s for a stored rows×cols matrix with leading dimension ld (rows, cols > 0,
// length already checked).
func span[T float32 | float64](s []T, rows, cols, ld int) (lo, hi uintptr) {
	lo = uintptr(unsafe.Pointer(&s[0]))
	last := (rows-1)*ld + cols - 1
	hi = uintptr(unsafe.Pointer(&s[last])) + unsafe.Sizeof(s[0])
	return lo, hi
}
