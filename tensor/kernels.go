package tensor

import (
	"math"
	"runtime"

	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/internal/mathx"
)

// opcode names an elementwise operation. Binary operations come first, then
// unary ones (one input, optional parameter p), then fill.
type opcode uint8

const (
	opAdd opcode = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opTanhBack    // b·(1−a²), a = tanh output, b = upstream adjoint
	opSigmoidBack // b·a·(1−a), a = sigmoid output
	opReluBack    // b where a > 0, else 0
	opLeakyBack   // b where a > 0, else p·b
	opGeluBack    // b·gelu′(a), a = gelu input (tanh approximation)
	opGeluErfBack // b·gelu′(a), a = gelu input (exact, erf)
	opAddScaled   // a + p·b

	opCopy // first unary
	opNeg
	opAbs
	opExp
	opLog
	opSqrt
	opSquare
	opPow
	opTanh
	opSigmoid
	opRelu
	opLeaky
	opGelu
	opGeluErf
	opAddS
	opMulS

	opFill // nullary
)

// isMath reports whether op costs a transcendental function per element.
func isMath(op opcode) bool {
	switch op {
	case opGeluBack, opGeluErfBack, opExp, opLog, opPow, opTanh, opSigmoid, opGelu, opGeluErf:
		return true
	}
	return false
}

// ewTask is one elementwise operation over an iter: operand 0 is d, 1 is a,
// 2 is b.
type ewTask[E elem] struct {
	it      iter
	op      opcode
	p       E
	d, a, b []E
}

// run does flat positions [lo, hi) of the iteration.
func (t *ewTask[E]) run(lo, hi int) {
	if lo >= hi {
		return
	}
	var c cursor
	t.it.seek(&c, lo)
	r := t.it.rank - 1
	inner := t.it.shape[r]
	s0, s1, s2 := t.it.st[0][r], t.it.st[1][r], t.it.st[2][r]
	for p := lo; p < hi; {
		n := min(inner-c.idx[r], hi-p)
		t.seg(n, c.off[0], c.off[1], c.off[2], s0, s1, s2)
		p += n
		if p < hi {
			t.it.advance(&c, n)
		}
	}
}

// bufLen is the block size for strided operands, which are gathered into a
// stack buffer, processed by the unit-stride kernel and scattered back.
const bufLen = 256

// seg runs the operation on n elements starting at offsets o0, o1, o2 with
// strides s0, s1, s2.
func (t *ewTask[E]) seg(n, o0, o1, o2, s0, s1, s2 int) {
	switch {
	case t.op >= opFill:
		if s0 == 1 {
			d := t.d[o0 : o0+n]
			for i := range d {
				d[i] = t.p
			}
			return
		}
		for i := range n {
			t.d[o0+i*s0] = t.p
		}
	case t.op >= opCopy:
		if s0 == 1 && s1 == 1 {
			unaryVV(t.op, t.p, t.d[o0:o0+n], t.a[o1:o1+n])
			return
		}
		var buf [bufLen]E
		for j := 0; j < n; j += bufLen {
			m := min(bufLen, n-j)
			gather(buf[:m], t.a, o1+j*s1, s1)
			unaryCore(t.op, t.p, buf[:m], buf[:m])
			scatter(t.d, o0+j*s0, s0, buf[:m])
		}
	default:
		if s0 == 1 && s1 == 1 && s2 == 1 {
			binVV(t.op, t.p, t.d[o0:o0+n], t.a[o1:o1+n], t.b[o2:o2+n])
			return
		}
		if t.op <= opMin && s0 == 1 {
			if s1 == 1 && s2 == 0 {
				binVS(t.op, t.d[o0:o0+n], t.a[o1:o1+n], t.b[o2])
				return
			}
			if s1 == 0 && s2 == 1 {
				binSV(t.op, t.d[o0:o0+n], t.a[o1], t.b[o2:o2+n])
				return
			}
		}
		var ba, bb [bufLen]E
		for j := 0; j < n; j += bufLen {
			m := min(bufLen, n-j)
			gather(ba[:m], t.a, o1+j*s1, s1)
			gather(bb[:m], t.b, o2+j*s2, s2)
			binVV(t.op, t.p, ba[:m], ba[:m], bb[:m])
			scatter(t.d, o0+j*s0, s0, ba[:m])
		}
	}
}

func gather[E elem](dst, src []E, off, stride int) {
	for i := range dst {
		dst[i] = src[off]
		off += stride
	}
}

func scatter[E elem](dst []E, off, stride int, src []E) {
	for _, v := range src {
		dst[off] = v
		off += stride
	}
}

// Kernel levels for the elementwise assembly (ewLevel holds the one in use;
// the levels up to it are the ones this CPU can run). arm64 has one vector
// level, NEON, numbered like amd64's first since the two never meet.
const (
	levelGeneric = iota
	levelAVX2
	levelAVX512

	levelNEON = levelAVX2
)

// levelName names a level of this architecture for benchmarks and messages.
func levelName(lv int) string {
	if lv == levelGeneric {
		return "generic"
	}
	if runtime.GOARCH == "arm64" {
		return "neon"
	}
	return []string{"generic", "avx2", "avx512"}[lv]
}

// binVV sets d[i] = op(a[i], b[i]). d may be a or b. Add, sub, mul and div
// run their bulk in assembly where the CPU has it.
func binVV[E elem](op opcode, p E, d, a, b []E) {
	a = a[:len(d)]
	b = b[:len(d)]
	if op <= opDiv && len(d) >= 32 && ewLevel != levelGeneric {
		var k int
		if is32[E]() {
			k = vvAsm32(op, f32(d), f32(a), f32(b))
		} else {
			k = vvAsm64(op, f64(d), f64(a), f64(b))
		}
		d, a, b = d[k:], a[k:], b[k:]
	}
	switch op {
	case opAdd:
		for i := range d {
			d[i] = a[i] + b[i]
		}
	case opSub:
		for i := range d {
			d[i] = a[i] - b[i]
		}
	case opMul:
		for i := range d {
			d[i] = a[i] * b[i]
		}
	case opDiv:
		for i := range d {
			d[i] = a[i] / b[i]
		}
	case opMax:
		for i := range d {
			d[i] = maxNaN(a[i], b[i])
		}
	case opMin:
		for i := range d {
			d[i] = minNaN(a[i], b[i])
		}
	case opTanhBack:
		for i := range d {
			y := a[i]
			d[i] = b[i] * (1 - y*y)
		}
	case opSigmoidBack:
		for i := range d {
			y := a[i]
			d[i] = b[i] * y * (1 - y)
		}
	case opReluBack:
		for i := range d {
			if a[i] > 0 {
				d[i] = b[i]
			} else {
				d[i] = 0
			}
		}
	case opLeakyBack:
		for i := range d {
			if a[i] > 0 {
				d[i] = b[i]
			} else {
				d[i] = p * b[i]
			}
		}
	case opGeluBack:
		for i := range d {
			d[i] = b[i] * mathx.GeluTanhGrad(a[i])
		}
	case opGeluErfBack:
		for i := range d {
			d[i] = b[i] * mathx.GeluErfGrad(a[i])
		}
	case opAddScaled:
		for i := range d {
			d[i] = a[i] + p*b[i]
		}
	default:
		panic("tensor: internal error: bad binary opcode")
	}
}

// binVS sets d[i] = op(a[i], s) for the basic binary operations.
func binVS[E elem](op opcode, d, a []E, s E) {
	a = a[:len(d)]
	if op <= opDiv && len(d) >= 32 && ewLevel != levelGeneric {
		var k int
		if is32[E]() {
			k = vsAsm32(op, f32(d), f32(a), float32(s))
		} else {
			k = vsAsm64(op, f64(d), f64(a), float64(s))
		}
		d, a = d[k:], a[k:]
	}
	switch op {
	case opAdd:
		for i := range d {
			d[i] = a[i] + s
		}
	case opSub:
		for i := range d {
			d[i] = a[i] - s
		}
	case opMul:
		for i := range d {
			d[i] = a[i] * s
		}
	case opDiv:
		for i := range d {
			d[i] = a[i] / s
		}
	case opMax:
		for i := range d {
			d[i] = maxNaN(a[i], s)
		}
	case opMin:
		for i := range d {
			d[i] = minNaN(a[i], s)
		}
	}
}

// binSV sets d[i] = op(s, b[i]) for the basic binary operations.
func binSV[E elem](op opcode, d []E, s E, b []E) {
	b = b[:len(d)]
	if op <= opDiv && len(d) >= 32 && ewLevel != levelGeneric {
		var k int
		switch {
		case op == opAdd || op == opMul: // commutative, bit for bit
			if is32[E]() {
				k = vsAsm32(op, f32(d), f32(b), float32(s))
			} else {
				k = vsAsm64(op, f64(d), f64(b), float64(s))
			}
		case is32[E]():
			k = svAsm32(op, f32(d), float32(s), f32(b))
		default:
			k = svAsm64(op, f64(d), float64(s), f64(b))
		}
		d, b = d[k:], b[k:]
	}
	switch op {
	case opAdd:
		for i := range d {
			d[i] = s + b[i]
		}
	case opSub:
		for i := range d {
			d[i] = s - b[i]
		}
	case opMul:
		for i := range d {
			d[i] = s * b[i]
		}
	case opDiv:
		for i := range d {
			d[i] = s / b[i]
		}
	case opMax:
		for i := range d {
			d[i] = maxNaN(s, b[i])
		}
	case opMin:
		for i := range d {
			d[i] = minNaN(s, b[i])
		}
	}
}

// maxNaN and minNaN propagate NaN from either side, as NumPy's maximum and
// minimum do.
func maxNaN[E elem](x, y E) E {
	if y > x || y != y {
		return y
	}
	return x
}

func minNaN[E elem](x, y E) E {
	if y < x || y != y {
		return y
	}
	return x
}

// unaryVV sets d[i] = op(a[i]) (with parameter p). d may be a. float32
// transcendental functions go to math32's vectorised slice kernels.
func unaryVV[E elem](op opcode, p E, d, a []E) {
	if is32[E]() && len(d) >= vecMin {
		switch op {
		case opExp, opLog, opTanh, opSigmoid:
			// The vector kernels take the bulk; the tail (and short runs)
			// go through the scalar functions below. (This split dates
			// from when math32's slice functions allocated for a partial
			// last vector; they no longer do, so handing them the whole
			// run is a possible simplification, at the cost of tail
			// values taking the vector kernel's bits instead of the
			// scalar function's.)
			k := len(d) &^ (vecMin - 1)
			d32, a32 := f32(d), f32(a)
			switch op {
			case opExp:
				math32.ExpSlice(d32[:k], a32[:k])
			case opLog:
				math32.LogSlice(d32[:k], a32[:k])
			case opTanh:
				math32.TanhSlice(d32[:k], a32[:k])
			default:
				math32.SigmoidSlice(d32[:k], a32[:k])
			}
			d, a = d[k:], a[k:len(d)]
		}
	}
	if is32[E]() && op == opGelu && len(d) >= vecMin && &d[0] != &a[0] {
		// Vector tanh on the bulk. (In place, the scalar path, as when
		// this pass kept the tanh argument in d.)
		k := len(d) &^ (vecMin - 1)
		mathx.GeluTanhSlice(d[:k], a[:k])
		d, a = d[k:], a[k:len(d)]
	}
	if is32[E]() && op == opGeluErf && len(d) >= vecMin {
		// The float32 exact GELU's vector form (position-independent
		// bits, and in place is fine) on the bulk.
		k := len(d) &^ (vecMin - 1)
		mathx.GeluErfSlice(d[:k], a[:k])
		d, a = d[k:], a[k:len(d)]
	}
	switch op {
	case opAddS:
		binVS(opAdd, d, a, p)
		return
	case opMulS:
		binVS(opMul, d, a, p)
		return
	}
	unaryCore(op, p, d, a)
}

// vecMin is the run length handed to math32's slice functions: a multiple
// of every vector width they use.
const vecMin = 16

// unaryCore is unaryVV with scalar functions only. The math32 slice kernels
// let their arguments escape, so the stack buffers of the strided path must
// come here instead.
func unaryCore[E elem](op opcode, p E, d, a []E) {
	a = a[:len(d)]
	switch op {
	case opCopy:
		copy(d, a)
	case opNeg:
		for i := range d {
			d[i] = -a[i]
		}
	case opAbs:
		for i := range d {
			d[i] = E(math.Abs(float64(a[i])))
		}
	case opExp:
		for i := range d {
			d[i] = mathx.Exp(a[i])
		}
	case opLog:
		for i := range d {
			d[i] = mathx.Log(a[i])
		}
	case opSqrt:
		for i := range d {
			d[i] = E(math.Sqrt(float64(a[i])))
		}
	case opSquare:
		for i := range d {
			d[i] = a[i] * a[i]
		}
	case opPow:
		switch p {
		case 1:
			copy(d, a)
		case 2:
			for i := range d {
				d[i] = a[i] * a[i]
			}
		case 0.5:
			for i := range d {
				d[i] = E(math.Sqrt(float64(a[i])))
			}
		default:
			for i := range d {
				d[i] = E(math.Pow(float64(a[i]), float64(p)))
			}
		}
	case opTanh:
		for i := range d {
			d[i] = mathx.Tanh(a[i])
		}
	case opSigmoid:
		for i := range d {
			d[i] = mathx.Sigmoid(a[i])
		}
	case opRelu:
		for i := range d {
			x := a[i]
			if x < 0 {
				x = 0
			}
			d[i] = x
		}
	case opLeaky:
		for i := range d {
			x := a[i]
			if x < 0 {
				x *= p
			}
			d[i] = x
		}
	case opGelu:
		for i := range d {
			d[i] = mathx.GeluTanh(a[i])
		}
	case opGeluErf:
		for i := range d {
			d[i] = mathx.GeluErf(a[i])
		}
	case opAddS:
		for i := range d {
			d[i] = a[i] + p
		}
	case opMulS:
		for i := range d {
			d[i] = a[i] * p
		}
	default:
		panic("tensor: internal error: bad unary opcode")
	}
}
