package tensor

import "unsafe"

// broadcastCheck verifies that a and b broadcast and that d has exactly the
// broadcast shape, panicking with op's name otherwise.
func broadcastCheck[T Float](op string, d, a, b *Dense[T]) {
	r := max(len(a.shape), len(b.shape))
	ok := len(d.shape) == r
	for i := range r {
		x, y := dimAt(a.shape, i, r), dimAt(b.shape, i, r)
		z := x
		switch {
		case x == y:
		case x == 1:
			z = y
		case y == 1:
		default:
			fail(ErrShape, "%s: shapes %v and %v do not broadcast", op, a.shape, b.shape)
		}
		if ok && d.shape[i] != z {
			ok = false
		}
	}
	if !ok {
		fail(ErrShape, "%s: destination shape %v, want %v (from %v and %v)", op, d.shape, BroadcastShapes(a.shape, b.shape), a.shape, b.shape)
	}
}

// dimAt returns dimension i of shape right-aligned to rank r (1 if absent).
func dimAt(shape []int, i, r int) int {
	j := i - (r - len(shape))
	if j < 0 {
		return 1
	}
	return shape[j]
}

// BroadcastShapes returns the shape that shapes of x and y broadcast to
// under NumPy's rules (align on the right; dimensions must be equal or one
// of them 1), or panics with ErrShape if they do not broadcast.
func BroadcastShapes(x, y []int) []int {
	r := max(len(x), len(y))
	out := make([]int, r)
	for i := range r {
		a, b := dimAt(x, i, r), dimAt(y, i, r)
		switch {
		case a == b, b == 1:
			out[i] = a
		case a == 1:
			out[i] = b
		default:
			fail(ErrShape, "BroadcastShapes: shapes %v and %v do not broadcast", x, y)
		}
	}
	return out
}

// sameShape panics unless d has a's shape.
func sameShape[T Float](op string, d, a *Dense[T]) {
	if len(d.shape) != len(a.shape) {
		fail(ErrShape, "%s: destination shape %v, want %v", op, d.shape, a.shape)
	}
	for i, x := range a.shape {
		if d.shape[i] != x {
			fail(ErrShape, "%s: destination shape %v, want %v", op, d.shape, a.shape)
		}
	}
}

// exec runs an elementwise operation over d's shape with up to two inputs
// (nil when absent, broadcasting to d's shape), resolving the element type
// once.
func exec[T Float](name string, op opcode, p T, d, a, b *Dense[T]) {
	if unsafe.Sizeof(T(0)) == 4 {
		execE[float32](name, op, float32(p), d, a, b)
	} else {
		execE[float64](name, op, float64(p), d, a, b)
	}
}

func execE[E elem, T Float](name string, op opcode, p E, d, a, b *Dense[T]) {
	var t ewTask[E]
	t.op, t.p = op, p
	nops := 1
	if b != nil {
		nops = 3
	} else if a != nil {
		nops = 2
	}
	t.it.init(name, d.shape, nops)
	if t.it.n == 0 {
		return
	}
	t.it.operand(0, d.shape, d.strides, d.offset)
	t.d = as[E](d.data)
	if a != nil {
		t.it.operand(1, a.shape, a.strides, a.offset)
		t.a = as[E](a.data)
	}
	if b != nil {
		t.it.operand(2, b.shape, b.strides, b.offset)
		t.b = as[E](b.data)
	}
	t.it.coalesce()
	grain := grainCheap
	if isMath(op) {
		grain = grainMath
	}
	runEW(&t, grain)
}

// checkAlias panics if d overlaps x without being the very same view, the
// one overlap an elementwise operation handles (each element is read
// before it is written, at the same place).
func checkAlias[T Float](name string, d, x *Dense[T]) {
	if !overlaps(d, x) {
		return
	}
	same := &d.data[d.offset] == &x.data[x.offset] && len(d.shape) == len(x.shape)
	for i := 0; same && i < len(d.shape); i++ {
		same = d.shape[i] == x.shape[i] && (d.shape[i] == 1 || d.strides[i] == x.strides[i])
	}
	if !same {
		fail(ErrOverlap, "%s: destination (shape %v, strides %v) overlaps an input (shape %v, strides %v) without being the same view", name, d.shape, d.strides, x.shape, x.strides)
	}
}

// binaryOp runs d = op(a, b) with broadcasting.
func binaryOp[T Float](op opcode, name string, p T, d, a, b *Dense[T]) *Dense[T] {
	notNil(name, "destination", d)
	notNil(name, "a", a)
	notNil(name, "b", b)
	broadcastCheck(name, d, a, b)
	checkAlias(name, d, a)
	checkAlias(name, d, b)
	exec(name, op, p, d, a, b)
	return d
}

// unary runs d = op(a) (parameter p) for d of a's shape.
func unaryOp[T Float](op opcode, name string, p T, d, a *Dense[T]) *Dense[T] {
	notNil(name, "destination", d)
	notNil(name, "a", a)
	sameShape(name, d, a)
	checkAlias(name, d, a)
	exec(name, op, p, d, a, nil)
	return d
}

// Add sets d = a + b elementwise with NumPy broadcasting and returns d. It
// panics with ErrShape if a and b do not broadcast or d does not have
// exactly their broadcast shape. d may be the same view as a or b.
func (d *Dense[T]) Add(a, b *Dense[T]) *Dense[T] { return binaryOp(opAdd, "Add", 0, d, a, b) }

// Sub sets d = a − b elementwise with broadcasting; see Add.
func (d *Dense[T]) Sub(a, b *Dense[T]) *Dense[T] { return binaryOp(opSub, "Sub", 0, d, a, b) }

// Mul sets d = a · b elementwise with broadcasting; see Add.
func (d *Dense[T]) Mul(a, b *Dense[T]) *Dense[T] { return binaryOp(opMul, "Mul", 0, d, a, b) }

// Div sets d = a / b elementwise with broadcasting; see Add.
func (d *Dense[T]) Div(a, b *Dense[T]) *Dense[T] { return binaryOp(opDiv, "Div", 0, d, a, b) }

// Maximum sets d = max(a, b) elementwise with broadcasting; a NaN on either
// side gives NaN. See Add.
func (d *Dense[T]) Maximum(a, b *Dense[T]) *Dense[T] { return binaryOp(opMax, "Maximum", 0, d, a, b) }

// Minimum sets d = min(a, b) elementwise with broadcasting; a NaN on either
// side gives NaN. See Add.
func (d *Dense[T]) Minimum(a, b *Dense[T]) *Dense[T] { return binaryOp(opMin, "Minimum", 0, d, a, b) }

// AddScaled sets d = a + s·b elementwise with broadcasting (an axpy); see Add.
func (d *Dense[T]) AddScaled(a *Dense[T], s T, b *Dense[T]) *Dense[T] {
	return binaryOp(opAddScaled, "AddScaled", s, d, a, b)
}

// TanhBackward sets d = g·(1 − y²), the adjoint of tanh's input given its
// output y and the output's adjoint g (broadcasting; see Add).
func (d *Dense[T]) TanhBackward(y, g *Dense[T]) *Dense[T] {
	return binaryOp(opTanhBack, "TanhBackward", 0, d, y, g)
}

// SigmoidBackward sets d = g·y·(1 − y), the adjoint of sigmoid's input given
// its output y and the output's adjoint g.
func (d *Dense[T]) SigmoidBackward(y, g *Dense[T]) *Dense[T] {
	return binaryOp(opSigmoidBack, "SigmoidBackward", 0, d, y, g)
}

// ReluBackward sets d = g where x > 0 and 0 elsewhere; x may be relu's input
// or its output (they are positive at the same places).
func (d *Dense[T]) ReluBackward(x, g *Dense[T]) *Dense[T] {
	return binaryOp(opReluBack, "ReluBackward", 0, d, x, g)
}

// LeakyReluBackward sets d = g where x > 0 and slope·g elsewhere; x is the
// input of LeakyRelu (or its output, for a positive slope).
func (d *Dense[T]) LeakyReluBackward(x, g *Dense[T], slope T) *Dense[T] {
	return binaryOp(opLeakyBack, "LeakyReluBackward", slope, d, x, g)
}

// GeluBackward sets d = g·gelu′(x) for Gelu's input x (the tanh
// approximation's derivative).
func (d *Dense[T]) GeluBackward(x, g *Dense[T]) *Dense[T] {
	return binaryOp(opGeluBack, "GeluBackward", 0, d, x, g)
}

// GeluErfBackward sets d = g·(Φ(x) + x·φ(x)), the adjoint of GeluErf's
// input x.
func (d *Dense[T]) GeluErfBackward(x, g *Dense[T]) *Dense[T] {
	return binaryOp(opGeluErfBack, "GeluErfBackward", 0, d, x, g)
}

// Add returns a new tensor a + b (broadcasting).
func Add[T Float](a, b *Dense[T]) *Dense[T] { return newBroadcast("Add", a, b).Add(a, b) }

// Sub returns a new tensor a − b (broadcasting).
func Sub[T Float](a, b *Dense[T]) *Dense[T] { return newBroadcast("Sub", a, b).Sub(a, b) }

// Mul returns a new tensor a · b (broadcasting).
func Mul[T Float](a, b *Dense[T]) *Dense[T] { return newBroadcast("Mul", a, b).Mul(a, b) }

// Div returns a new tensor a / b (broadcasting).
func Div[T Float](a, b *Dense[T]) *Dense[T] { return newBroadcast("Div", a, b).Div(a, b) }

// Maximum returns a new tensor max(a, b) (broadcasting).
func Maximum[T Float](a, b *Dense[T]) *Dense[T] { return newBroadcast("Maximum", a, b).Maximum(a, b) }

// Minimum returns a new tensor min(a, b) (broadcasting).
func Minimum[T Float](a, b *Dense[T]) *Dense[T] { return newBroadcast("Minimum", a, b).Minimum(a, b) }

func newBroadcast[T Float](op string, a, b *Dense[T]) *Dense[T] {
	notNil(op, "a", a)
	notNil(op, "b", b)
	r := max(len(a.shape), len(b.shape))
	shape := make([]int, r)
	for i := range r {
		x, y := dimAt(a.shape, i, r), dimAt(b.shape, i, r)
		switch {
		case x == y, y == 1:
			shape[i] = x
		case x == 1:
			shape[i] = y
		default:
			// Let the method report it with its own name.
			shape[i] = x
		}
	}
	return New[T](shape...)
}

// AddScalar sets d = a + s and returns d. d must have a's shape (ErrShape).
func (d *Dense[T]) AddScalar(a *Dense[T], s T) *Dense[T] {
	return unaryOp(opAddS, "AddScalar", s, d, a)
}

// MulScalar sets d = a · s and returns d. d must have a's shape (ErrShape).
func (d *Dense[T]) MulScalar(a *Dense[T], s T) *Dense[T] {
	return unaryOp(opMulS, "MulScalar", s, d, a)
}

// Neg sets d = −a. Like every unary operation, d must have exactly a's
// shape (ErrShape) and may be the same view as a.
func (d *Dense[T]) Neg(a *Dense[T]) *Dense[T] { return unaryOp(opNeg, "Neg", 0, d, a) }

// Abs sets d = |a|.
func (d *Dense[T]) Abs(a *Dense[T]) *Dense[T] { return unaryOp(opAbs, "Abs", 0, d, a) }

// Exp sets d = eᵃ. float32 uses internal/math32 (a few ulp), not float64
// math.
func (d *Dense[T]) Exp(a *Dense[T]) *Dense[T] { return unaryOp(opExp, "Exp", 0, d, a) }

// Log sets d = ln a (NaN below 0, −Inf at 0).
func (d *Dense[T]) Log(a *Dense[T]) *Dense[T] { return unaryOp(opLog, "Log", 0, d, a) }

// Sqrt sets d = √a (correctly rounded).
func (d *Dense[T]) Sqrt(a *Dense[T]) *Dense[T] { return unaryOp(opSqrt, "Sqrt", 0, d, a) }

// Square sets d = a².
func (d *Dense[T]) Square(a *Dense[T]) *Dense[T] { return unaryOp(opSquare, "Square", 0, d, a) }

// Pow sets d = aᵖ. p = 1, 2 and 0.5 are exact shortcuts; otherwise float64
// math.Pow is used for both element types.
func (d *Dense[T]) Pow(a *Dense[T], p T) *Dense[T] { return unaryOp(opPow, "Pow", p, d, a) }

// Tanh sets d = tanh a.
func (d *Dense[T]) Tanh(a *Dense[T]) *Dense[T] { return unaryOp(opTanh, "Tanh", 0, d, a) }

// Sigmoid sets d = 1/(1 + e⁻ᵃ).
func (d *Dense[T]) Sigmoid(a *Dense[T]) *Dense[T] { return unaryOp(opSigmoid, "Sigmoid", 0, d, a) }

// Relu sets d = max(a, 0) (NaN stays NaN).
func (d *Dense[T]) Relu(a *Dense[T]) *Dense[T] { return unaryOp(opRelu, "Relu", 0, d, a) }

// LeakyRelu sets d = a where a ≥ 0 and slope·a elsewhere.
func (d *Dense[T]) LeakyRelu(a *Dense[T], slope T) *Dense[T] {
	return unaryOp(opLeaky, "LeakyRelu", slope, d, a)
}

// Gelu sets d = gelu(a) with the tanh approximation
// gelu(x) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³))), PyTorch's
// F.gelu(x, approximate='tanh') (GPT-2's GELU), which is within 5e-4 of
// the exact x·Φ(x) of GeluErf.
func (d *Dense[T]) Gelu(a *Dense[T]) *Dense[T] { return unaryOp(opGelu, "Gelu", 0, d, a) }

// GeluErf sets d = x·Φ(x) = x/2 · (1 + erf(x/√2)), the exact GELU:
// PyTorch's default, torch.nn.GELU() and F.gelu(x) (approximate='none').
func (d *Dense[T]) GeluErf(a *Dense[T]) *Dense[T] { return unaryOp(opGeluErf, "GeluErf", 0, d, a) }

// AddScalar returns a new tensor a + s.
func AddScalar[T Float](a *Dense[T], s T) *Dense[T] {
	return New[T](shapeOf("AddScalar", a)...).AddScalar(a, s)
}

// MulScalar returns a new tensor a · s.
func MulScalar[T Float](a *Dense[T], s T) *Dense[T] {
	return New[T](shapeOf("MulScalar", a)...).MulScalar(a, s)
}

// Neg returns a new tensor −a.
func Neg[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Neg", a)...).Neg(a) }

// Abs returns a new tensor |a|.
func Abs[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Abs", a)...).Abs(a) }

// Exp returns a new tensor eᵃ.
func Exp[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Exp", a)...).Exp(a) }

// Log returns a new tensor ln a.
func Log[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Log", a)...).Log(a) }

// Sqrt returns a new tensor √a.
func Sqrt[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Sqrt", a)...).Sqrt(a) }

// Square returns a new tensor a².
func Square[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Square", a)...).Square(a) }

// Pow returns a new tensor aᵖ.
func Pow[T Float](a *Dense[T], p T) *Dense[T] { return New[T](shapeOf("Pow", a)...).Pow(a, p) }

// Tanh returns a new tensor tanh a.
func Tanh[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Tanh", a)...).Tanh(a) }

// Sigmoid returns a new tensor 1/(1 + e⁻ᵃ).
func Sigmoid[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Sigmoid", a)...).Sigmoid(a) }

// Relu returns a new tensor max(a, 0).
func Relu[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Relu", a)...).Relu(a) }

// LeakyRelu returns a new tensor: a where a ≥ 0, slope·a elsewhere.
func LeakyRelu[T Float](a *Dense[T], slope T) *Dense[T] {
	return New[T](shapeOf("LeakyRelu", a)...).LeakyRelu(a, slope)
}

// Gelu returns a new tensor gelu(a) (tanh approximation; see Dense.Gelu).
func Gelu[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("Gelu", a)...).Gelu(a) }

// GeluErf returns a new tensor with the exact GELU of a (see
// Dense.GeluErf).
func GeluErf[T Float](a *Dense[T]) *Dense[T] { return New[T](shapeOf("GeluErf", a)...).GeluErf(a) }

// Fill sets every element of d to v and returns d.
func (d *Dense[T]) Fill(v T) *Dense[T] {
	notNil("Fill", "destination", d)
	exec("Fill", opFill, v, d, nil, nil)
	return d
}

// Zero sets every element of d to 0 and returns d.
func (d *Dense[T]) Zero() *Dense[T] { return d.Fill(0) }
