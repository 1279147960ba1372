package autograd

import "github.com/adjoint-go/adjoint/tensor"

// opKind selects the elementwise kernel of this family's ops (kernels.go):
// the binary and unary nodes record which function they computed, and the
// fused passes switch on it per chunk, not per element.
type opKind uint8

const (
	opNone opKind = iota
	opAdd
	opSub
	opMul
	opDiv
	opNeg
	opScale
	opAddScalar
	opExp
	opLog
	opSqrt
	opSquare
	opPow
	opAbs
	opTanh
	opSigmoid
	opRelu
	opLeakyRelu
	opGelu
	opGeluErf
	opSin
	opCos
	nOps
)

var opNames = [nOps]string{
	opNone: "None", opAdd: "Add", opSub: "Sub", opMul: "Mul", opDiv: "Div", opNeg: "Neg",
	opScale: "Scale", opAddScalar: "AddScalar", opExp: "Exp", opLog: "Log", opSqrt: "Sqrt",
	opSquare: "Square", opPow: "Pow", opAbs: "Abs", opTanh: "Tanh", opSigmoid: "Sigmoid",
	opRelu: "Relu", opLeakyRelu: "LeakyRelu", opGelu: "Gelu", opGeluErf: "GeluErf", opSin: "Sin", opCos: "Cos",
}

func (k opKind) String() string {
	if k < nOps {
		return opNames[k]
	}
	return "op?"
}

// Add returns a + b with NumPy broadcasting (shapes aligned from the last
// dimension; a dimension of 1 stretches). Backward sums the adjoint over
// the broadcast axes back to each operand's shape in the same pass. It
// panics (ErrShape) if the shapes do not broadcast.
func (tp *Tape[T]) Add(a, b *Var[T]) *Var[T] { return tp.binary(opAdd, a, b) }

// Sub returns a − b with broadcasting, as Add.
func (tp *Tape[T]) Sub(a, b *Var[T]) *Var[T] { return tp.binary(opSub, a, b) }

// Mul returns the elementwise product a ⊙ b with broadcasting, as Add.
func (tp *Tape[T]) Mul(a, b *Var[T]) *Var[T] { return tp.binary(opMul, a, b) }

// Div returns the elementwise quotient a / b with broadcasting, as Add.
func (tp *Tape[T]) Div(a, b *Var[T]) *Var[T] { return tp.binary(opDiv, a, b) }

// binaryNode is the saved state of Add, Sub, Mul and Div.
type binaryNode[T tensor.Float] struct {
	a, b   *Var[T]
	op     opKind
	ac, bc *tensor.Dense[T] // contiguous copies of strided same-shape operands, or nil
}

var binaryKey = newPoolKey()

func (tp *Tape[T]) binary(op opKind, a, b *Var[T]) *Var[T] {
	name := op.String()
	tp.check(name, a)
	tp.check(name, b)
	n := newNode[binaryNode[T]](tp, binaryKey)
	n.a, n.b, n.op = a, b, op
	if !sameShape(a.value.Shape(), b.value.Shape()) {
		// Broadcasting: tensor's kernel reads both operands in place
		// (broadcast axes as stride 0) and splits the work itself.
		out := tp.alloc(tp.bc.init(name, a.value.Shape(), b.value.Shape())...)
		tensorBinary(op, out, a.value, b.value)
		return tp.record(name, n, out, a, b, nil)
	}
	xa, ca := tp.contig(a.value)
	xb, cb := tp.contig(b.value)
	j := &tp.job
	out := tp.allocLike(a.value)
	j.op, j.mode, j.d, j.x, j.y = op, jBinFwd, out.Data(), xa, xb
	tp.par(len(xa), grainOf(op))
	n.ac, n.bc = ca, cb
	return tp.record(name, n, out, a, b, nil)
}

// tensorBinary sets d = x op y through tensor's broadcasting kernels.
func tensorBinary[T tensor.Float](op opKind, d, x, y *tensor.Dense[T]) {
	switch op {
	case opAdd:
		d.Add(x, y)
	case opSub:
		d.Sub(x, y)
	case opMul:
		d.Mul(x, y)
	case opDiv:
		d.Div(x, y)
	default:
		panic("autograd: tensorBinary: bad op " + op.String())
	}
}

// rowGrain converts an element grain into a row grain.
func rowGrain(grain, inner int) int { return max(grain/max(inner, 1), 1) }

func (n *binaryNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a, b := n.a, n.b
	if !sameShape(a.value.Shape(), b.value.Shape()) {
		n.backBroadcast(tp, u)
		return
	}
	xa, xb := data(a.value, n.ac), data(b.value, n.bc)
	g := u.grad.Data()
	j := &tp.job
	for side, in := range [2]*Var[T]{a, b} {
		if !in.requiresGrad {
			continue
		}
		ga, acc := tp.grad(in)
		j.op, j.side, j.acc, j.d, j.g, j.x, j.y = n.op, side, acc, ga, g, xa, xb
		if n.op == opDiv && side == 1 {
			j.x = u.value.Data() // ȳ = −h̄·h/y
		}
		j.mode = jBinBwd
		tp.par(len(g), grainOf(n.op))
	}
}

// backBroadcast is backBinary for operands of different shapes: each
// operand's adjoint is its term of h̄ (formed at the output's shape by
// tensor's broadcasting kernels, in a step buffer) summed over the axes it
// was broadcast along by tensor's SumTo, the adjoint of broadcasting. An
// operand of the output's full shape takes its term directly when nothing
// is there to add to.
func (n *binaryNode[T]) backBroadcast(tp *Tape[T], u *Var[T]) {
	a, b, g := n.a.value, n.b.value, u.grad
	for side, in := range [2]*Var[T]{n.a, n.b} {
		if !in.requiresGrad {
			continue
		}
		ga, acc := tp.gradDense(in)
		if n.op == opAdd || n.op == opSub && side == 0 {
			if acc {
				ga.AddSumTo(g)
			} else {
				ga.SumTo(g)
			}
			continue
		}
		term := ga
		if acc || !sameShape(ga.Shape(), g.Shape()) {
			term = tp.allocLike(g)
		}
		switch {
		case n.op == opSub:
			term.Neg(g)
		case n.op == opMul && side == 0:
			term.Mul(g, b)
		case n.op == opMul:
			term.Mul(g, a)
		case n.op == opDiv && side == 0:
			term.Div(g, b)
		default: // ȳ = −h̄·h/y
			term.Mul(g, u.value)
			term.Div(term, b)
			term.Neg(term)
		}
		switch {
		case term == ga:
		case acc:
			ga.AddSumTo(term)
		default:
			ga.SumTo(term)
		}
	}
}

// Neg returns −a.
func (tp *Tape[T]) Neg(a *Var[T]) *Var[T] { return tp.unary(opNeg, a, 0) }

// Scale returns s·a.
func (tp *Tape[T]) Scale(a *Var[T], s T) *Var[T] { return tp.unary(opScale, a, s) }

// AddScalar returns a + s.
func (tp *Tape[T]) AddScalar(a *Var[T], s T) *Var[T] { return tp.unary(opAddScalar, a, s) }

// Exp returns eᵃ elementwise; backward uses the output (ā += h̄·h).
func (tp *Tape[T]) Exp(a *Var[T]) *Var[T] { return tp.unary(opExp, a, 0) }

// Log returns the natural logarithm elementwise (ā += h̄/a).
func (tp *Tape[T]) Log(a *Var[T]) *Var[T] { return tp.unary(opLog, a, 0) }

// Sqrt returns √a elementwise; backward uses the output (ā += h̄/(2h)).
func (tp *Tape[T]) Sqrt(a *Var[T]) *Var[T] { return tp.unary(opSqrt, a, 0) }

// Square returns a² elementwise (ā += 2a·h̄).
func (tp *Tape[T]) Square(a *Var[T]) *Var[T] { return tp.unary(opSquare, a, 0) }

// Pow returns aᵖ elementwise (ā += h̄·p·aᵖ⁻¹).
func (tp *Tape[T]) Pow(a *Var[T], p T) *Var[T] { return tp.unary(opPow, a, p) }

// Abs returns |a| elementwise; its adjoint at 0 is 0.
func (tp *Tape[T]) Abs(a *Var[T]) *Var[T] { return tp.unary(opAbs, a, 0) }

// Tanh returns tanh a; backward uses the output (ā += h̄·(1 − h²)).
func (tp *Tape[T]) Tanh(a *Var[T]) *Var[T] { return tp.unary(opTanh, a, 0) }

// Sigmoid returns 1/(1 + e⁻ᵃ); backward uses the output (ā += h̄·h(1 − h)).
func (tp *Tape[T]) Sigmoid(a *Var[T]) *Var[T] { return tp.unary(opSigmoid, a, 0) }

// Relu returns max(a, 0); backward uses the output (ā += h̄ where h > 0),
// so the adjoint at exactly 0 is 0.
func (tp *Tape[T]) Relu(a *Var[T]) *Var[T] { return tp.unary(opRelu, a, 0) }

// LeakyRelu returns a where a ≥ 0 and slope·a elsewhere; the adjoint at
// exactly 0 uses slope.
func (tp *Tape[T]) LeakyRelu(a *Var[T], slope T) *Var[T] { return tp.unary(opLeakyRelu, a, slope) }

// Gelu returns the GELU of a in its tanh approximation (as the tensor
// package): a/2·(1 + tanh(√(2/π)(a + 0.044715a³))), PyTorch's
// F.gelu(a, approximate='tanh') and GPT-2's. For PyTorch's default, the
// exact GELU of torch.nn.GELU(), use GeluErf.
func (tp *Tape[T]) Gelu(a *Var[T]) *Var[T] { return tp.unary(opGelu, a, 0) }

// GeluErf returns the exact GELU of a, a·Φ(a) = a/2·(1 + erf(a/√2)):
// PyTorch's default, torch.nn.GELU() and F.gelu(a) (approximate='none').
// Backward: ā += h̄·(Φ(a) + a·φ(a)).
func (tp *Tape[T]) GeluErf(a *Var[T]) *Var[T] { return tp.unary(opGeluErf, a, 0) }

// Sin returns sin a elementwise (ā += h̄·cos a).
func (tp *Tape[T]) Sin(a *Var[T]) *Var[T] { return tp.unary(opSin, a, 0) }

// Cos returns cos a elementwise (ā −= h̄·sin a).
func (tp *Tape[T]) Cos(a *Var[T]) *Var[T] { return tp.unary(opCos, a, 0) }

// needsInput reports whether op's backward reads the input rather than
// only the output.
func needsInput(op opKind, p float64) bool {
	switch op {
	case opLog, opSquare, opPow, opAbs, opGelu, opGeluErf, opSin, opCos:
		return true
	case opLeakyRelu:
		return !(p > 0)
	}
	return false
}

// unaryNode is the saved state of the elementwise functions of one
// input (Neg … Cos): which one, its parameter and, where the input is
// strided, its contiguous copy (backward reads the input for some).
type unaryNode[T tensor.Float] struct {
	x  *Var[T]
	op opKind
	p  T
	xc *tensor.Dense[T]
}

var unaryKey = newPoolKey()

func (tp *Tape[T]) unary(op opKind, a *Var[T], p T) *Var[T] {
	name := op.String()
	tp.check(name, a)
	x, cx := tp.contig(a.value)
	out := tp.allocLike(a.value)
	j := &tp.job
	j.mode, j.op, j.d, j.x, j.p = jUnaryFwd, op, out.Data(), x, p
	tp.par(len(x), grainOf(op))
	n := newNode[unaryNode[T]](tp, unaryKey)
	n.x, n.op, n.p, n.xc = a, op, p, cx
	return tp.record(name, n, out, a, nil, nil)
}

func (n *unaryNode[T]) backward(tp *Tape[T], u *Var[T]) {
	a := n.x
	if !a.requiresGrad {
		return
	}
	var x []T
	if needsInput(n.op, float64(n.p)) {
		x = data(a.value, n.xc)
	}
	ga, acc := tp.grad(a)
	j := &tp.job
	j.mode, j.op, j.acc, j.d, j.g, j.x, j.y, j.p = jUnaryBwd, n.op, acc, ga, u.grad.Data(), x, u.value.Data(), n.p
	tp.par(len(ga), grainOf(n.op))
}
