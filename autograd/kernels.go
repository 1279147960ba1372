package autograd

import (
	"math"
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/math32"
	"github.com/adjoint-go/adjoint/internal/mathx"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// Fused elementwise kernels. Each backward kernel makes one pass over
// contiguous slices, ā (+)= h̄ ⊙ g′, with g′ taken from the saved output h
// where that is cheaper than the input x. acc false means the adjoint
// buffer holds nothing yet this pass and is overwritten (saving a zeroing
// pass). Above a grain size the pass is split across cores by
// parallel.For; the split is over disjoint index ranges, so the results do
// not depend on the thread count.

const (
	// relu, bias fill, column sums: vector code, about 13 µs per 128K on
	// the Zen 4 VM. Since a waiting worker polls for 1 ms before parking
	// (package parallel), a split of 32K takes about a microsecond to hand
	// off: a 256×512 ReLU took 13 µs on one thread and 5.5–7 on two.
	grainVec   = 1 << 15
	grainCheap = 1 << 14 // add, mul: Go loops, memory bound
	grainMath  = 1 << 11 // exp, tanh, pow: compute bound
)

func grainOf(op opKind) int {
	switch op {
	case opRelu:
		return grainVec
	case opExp, opLog, opTanh, opSigmoid, opPow, opGelu, opGeluErf, opSqrt, opDiv, opSin, opCos:
		return grainMath
	}
	return grainCheap
}

const (
	jUnaryFwd = iota
	jUnaryBwd
	jBinFwd
	jBinBwd
	jColSum  // d[lo:hi] += Σ_rows g[r, lo:hi]  (bias adjoint)
	jRowFill // rows [lo, hi) of g (width len(x)) = x  (bias broadcast)
)

// kjob carries the arguments of one kernel to the workers. The tape owns
// one and binds run to exec once, so handing a kernel to parallel.For
// allocates nothing.
type kjob[T tensor.Float] struct {
	mode       int
	op         opKind
	acc        bool
	side       int // binary backward: 0 for a, 1 for b
	d, x, y, g []T
	p          T
	n, chunks  int
	pad        [vecAlign]float32 // the math32 tail, see vec32
	run        func(i int)       // chunk, bound once
}

func sub[T any](s []T, lo, hi int) []T {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

func (j *kjob[T]) exec(lo, hi int) {
	switch j.mode {
	case jUnaryFwd:
		unaryFwd(j.op, j.d[lo:hi], j.x[lo:hi], j.p, &j.pad)
	case jUnaryBwd:
		unaryBwd(j.op, j.acc, j.d[lo:hi], j.g[lo:hi], sub(j.x, lo, hi), sub(j.y, lo, hi), j.p)
	case jBinFwd:
		binFwd(j.op, j.d[lo:hi], j.x[lo:hi], j.y[lo:hi])
	case jBinBwd:
		binBwd(j.op, j.side, j.acc, j.d[lo:hi], j.g[lo:hi], sub(j.x, lo, hi), sub(j.y, lo, hi))
	case jColSum:
		m := len(j.d)
		for r := 0; m > 0 && r+m <= len(j.g); r += m {
			addAcc(j.d[lo:hi], j.g[r+lo:r+hi])
		}
	case jRowFill:
		m := len(j.x)
		for r := lo; r < hi; r++ {
			copy(j.g[r*m:r*m+m], j.x)
		}
	}
}

// par runs the tape's job over [0, n), split across cores when n is large:
// into parallel.NumChunks(n, grain) near-equal ranges, as parallel.For
// would, but through parallel.Do and the job's bound method so that no
// closure is allocated per call.
func (tp *Tape[T]) par(n, grain int) {
	j := &tp.job
	if c := parallel.NumChunks(n, grain); c <= 1 {
		j.exec(0, n)
	} else {
		j.n, j.chunks = n, c
		parallel.Do(c, j.run)
	}
	j.d, j.x, j.y, j.g = nil, nil, nil, nil
}

// chunk runs the i-th of j.chunks ranges of [0, j.n). Boundaries fall on
// multiples of vecAlign, so only the last range has a partial vector at
// its end, exactly as a serial pass does: the vector kernels of math32 then
// give every element the same bits whatever the thread count.
func (j *kjob[T]) chunk(i int) {
	nb := (j.n + vecAlign - 1) / vecAlign
	q, r := nb/j.chunks, nb%j.chunks
	lo := i*q + min(i, r)
	hi := lo + q
	if i < r {
		hi++
	}
	j.exec(min(lo*vecAlign, j.n), min(hi*vecAlign, j.n))
}

// vecAlign is a multiple of every math32 vector width (8 and 16 lanes).
const vecAlign = 16

func is32[T tensor.Float]() bool { return unsafe.Sizeof(T(0)) == 4 }

func f32[T tensor.Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func f64[T tensor.Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// expT is eˣ in T's precision; the formulas live in internal/mathx.
func expT[T tensor.Float](x T) T { return mathx.Exp(x) }

// unaryFwd sets d = g(x) elementwise.
func unaryFwd[T tensor.Float](op opKind, d, x []T, p T, pad *[vecAlign]float32) {
	d = d[:len(x)]
	switch op {
	case opNeg:
		for i, v := range x {
			d[i] = -v
		}
	case opScale:
		for i, v := range x {
			d[i] = p * v
		}
	case opAddScalar:
		for i, v := range x {
			d[i] = v + p
		}
	case opSquare:
		for i, v := range x {
			d[i] = v * v
		}
	case opAbs:
		for i, v := range x {
			d[i] = T(math.Abs(float64(v))) // exact in float32 too
		}
	case opRelu:
		reluFwd(d, x)
	case opLeakyRelu:
		for i, v := range x {
			d[i] = v * (1 + (p-1)*negBit(v)) // v·p where v < 0
		}
	case opSqrt:
		for i, v := range x {
			d[i] = T(math.Sqrt(float64(v))) // correctly rounded in float32 too
		}
	case opPow:
		for i, v := range x {
			d[i] = T(math.Pow(float64(v), float64(p)))
		}
	case opGelu:
		mathx.GeluTanhSlice(d, x)
	case opGeluErf:
		mathx.GeluErfSlice(d, x)
	case opSin:
		for i, v := range x {
			d[i] = T(math.Sin(float64(v)))
		}
	case opCos:
		for i, v := range x {
			d[i] = T(math.Cos(float64(v)))
		}
	case opExp:
		if is32[T]() {
			vec32(math32.ExpSlice, f32(d), f32(x), pad)
			return
		}
		for i, v := range f64(x) {
			d[i] = T(math.Exp(v))
		}
	case opLog:
		if is32[T]() {
			vec32(math32.LogSlice, f32(d), f32(x), pad)
			return
		}
		for i, v := range f64(x) {
			d[i] = T(math.Log(v))
		}
	case opTanh:
		if is32[T]() {
			vec32(math32.TanhSlice, f32(d), f32(x), pad)
			return
		}
		for i, v := range f64(x) {
			d[i] = T(math.Tanh(v))
		}
	case opSigmoid:
		if is32[T]() {
			vec32(math32.SigmoidSlice, f32(d), f32(x), pad)
			return
		}
		for i, v := range x {
			d[i] = mathx.Sigmoid(v)
		}
	default:
		panic("autograd: unaryFwd: bad op " + op.String())
	}
}

// vec32 applies a math32 slice function to the whole vectors of x and runs
// the partial vector at the end through the same function on pad, a
// buffer that already lives on the heap: math32's own tail buffer escapes
// (one allocation per call), and a scalar tail could round differently.
func vec32(f func(dst, src []float32), d, x []float32, pad *[vecAlign]float32) {
	body := len(x) - len(x)%vecAlign
	if body > 0 {
		f(d[:body], x[:body])
	}
	if body < len(x) {
		m := copy(pad[:], x[body:])
		clear(pad[m:])
		f(pad[:], pad[:])
		copy(d[body:len(x)], pad[:m])
	}
}

// put stores t into ga[i], adding when acc.
func put[T tensor.Float](ga []T, i int, acc bool, t T) {
	if acc {
		ga[i] += t
	} else {
		ga[i] = t
	}
}

// unaryBwd does ga (+)= gh ⊙ g′ for h = g(x). x is the input (nil for ops
// that need only the output), h the saved output.
func unaryBwd[T tensor.Float](op opKind, acc bool, ga, gh, x, h []T, p T) {
	ga = ga[:len(gh)]
	switch op {
	case opNeg:
		for i, g := range gh {
			put(ga, i, acc, -g)
		}
	case opScale:
		for i, g := range gh {
			put(ga, i, acc, p*g)
		}
	case opAddScalar:
		if acc {
			addAcc(ga, gh)
		} else {
			copy(ga, gh)
		}
	case opExp:
		h = h[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, g*h[i])
		}
	case opLog:
		x = x[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, g/x[i])
		}
	case opSqrt:
		h = h[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, g*0.5/h[i])
		}
	case opSquare:
		x = x[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, 2*g*x[i])
		}
	case opPow:
		x = x[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, g*p*T(math.Pow(float64(x[i]), float64(p)-1)))
		}
	case opAbs:
		x = x[:len(gh)]
		for i, g := range gh {
			var t T
			if x[i] > 0 {
				t = g
			} else if x[i] < 0 {
				t = -g
			}
			put(ga, i, acc, t)
		}
	case opTanh:
		h = h[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, g*(1-h[i]*h[i]))
		}
	case opSigmoid:
		h = h[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, g*h[i]*(1-h[i]))
		}
	case opRelu:
		// From the output: h > 0 exactly where x > 0, so relu′(0) = 0.
		reluBwd(acc, ga, gh, h)
	case opLeakyRelu:
		// x > 0 decides; x is nil when the slope is positive, and then
		// h > 0 decides the same way.
		s := h
		if x != nil {
			s = x
		}
		s = s[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, g*(p+(1-p)*posBit(s[i]))) // g where x > 0, else p·g
		}
	case opGelu:
		mathx.GeluTanhBackward(ga, gh, x[:len(gh)], acc)
	case opGeluErf:
		mathx.GeluErfBackward(ga, gh, x[:len(gh)], acc)
	case opSin:
		x = x[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, g*T(math.Cos(float64(x[i]))))
		}
	case opCos:
		x = x[:len(gh)]
		for i, g := range gh {
			put(ga, i, acc, -g*T(math.Sin(float64(x[i]))))
		}
	default:
		panic("autograd: unaryBwd: bad op " + op.String())
	}
}

// binFwd sets d = x op y elementwise for same-shape operands.
func binFwd[T tensor.Float](op opKind, d, x, y []T) {
	d, y = d[:len(x)], y[:len(x)]
	switch op {
	case opAdd:
		for i, v := range x {
			d[i] = v + y[i]
		}
	case opSub:
		for i, v := range x {
			d[i] = v - y[i]
		}
	case opMul:
		for i, v := range x {
			d[i] = v * y[i]
		}
	case opDiv:
		for i, v := range x {
			d[i] = v / y[i]
		}
	default:
		panic("autograd: binFwd: bad op " + op.String())
	}
}

// binBwd accumulates the adjoint of one operand (side 0: x, side 1: y) of
// h = x op y for same-shape operands: g is h̄; x, y the inputs; for Div's
// y-side, x holds h instead (ȳ = −h̄·h/y).
func binBwd[T tensor.Float](op opKind, side int, acc bool, ga, g, x, y []T) {
	ga = ga[:len(g)]
	switch {
	case op == opAdd || (op == opSub && side == 0):
		if acc {
			addAcc(ga, g)
		} else {
			copy(ga, g)
		}
	case op == opSub:
		for i, v := range g {
			put(ga, i, acc, -v)
		}
	case op == opMul && side == 0:
		y = y[:len(g)]
		for i, v := range g {
			put(ga, i, acc, v*y[i])
		}
	case op == opMul:
		x = x[:len(g)]
		for i, v := range g {
			put(ga, i, acc, v*x[i])
		}
	case op == opDiv && side == 0:
		y = y[:len(g)]
		for i, v := range g {
			put(ga, i, acc, v/y[i])
		}
	case op == opDiv:
		x, y = x[:len(g)], y[:len(g)]
		for i, v := range g {
			put(ga, i, acc, -v*x[i]/y[i])
		}
	default:
		panic("autograd: binBwd: bad op " + op.String())
	}
}
