package autograd

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/adjoint-go/adjoint/tensor"
)

// maxPoolDims bounds the shapes whose buffers Reset recycles; larger ranks
// still work but allocate each step.
const maxPoolDims = 8

type shapeKey struct {
	n int
	d [maxPoolDims]int
}

func keyOf(shape []int) (shapeKey, bool) {
	var k shapeKey
	if len(shape) > maxPoolDims {
		return k, false
	}
	k.n = len(shape)
	copy(k.d[:], shape)
	return k, true
}

// Tape records ops define-by-run and replays them backwards. A tape is
// used by one goroutine at a time; separate tapes are independent. Use
// from two goroutines at once is detected on a best-effort basis and
// panics (ErrMisuse); see the package documentation, "Concurrency".
//
// The zero value is not usable; call NewTape.
type Tape[T tensor.Float] struct {
	nodes []*Var[T] // nodes[:n] are this step's, in recording order
	n     int
	gen   uint64

	// pools holds one pool of typed nodes per op family, indexed by the
	// family's poolKey (node.go); Reset rewinds them all.
	pools []rewinder
	// touched lists the adjoints the running node's backward wrote, for
	// anomaly mode's check (kept only while track is set).
	touched []*Var[T]
	track   bool

	used []*tensor.Dense[T]              // buffers handed out this step
	free map[shapeKey][]*tensor.Dense[T] // recycled buffers by shape
	// replay is the last step's buffers in the order they were handed
	// out; replay[rc:] are not yet taken this step. A step that asks for
	// the same shapes in the same order (a training loop) takes them in
	// turn with one shape comparison each, never touching free; the first
	// mismatch moves the rest to free.
	replay []*tensor.Dense[T]
	rc     int

	noGrad   bool
	retain   bool
	anomaly  bool
	released bool
	err      error // first anomaly seen in forward

	job kjob[T]    // the one elementwise job; ops run one at a time
	bc  bcast      // broadcast layout scratch
	shp []int      // shape scratch
	cj  cjob[T]    // the one convolution job (conv.go)
	pj  poolJob[T] // the one pooling job (pool.go)
	bj  bnJob[T]   // the one batch-norm job (norm.go)

	// busy is the in-use flag that catches a tape shared between
	// goroutines: tapeRecording while record records an op, tapeWalking
	// during Backward, tapeResetting during Reset, tapeIdle otherwise.
	// An op checks it on entry (check), in alloc and in record: one atomic
	// load each and one compare-and-swap and store per op. It is
	// best-effort: an op between those points is not flagged (flagging
	// the whole op would leave the flag set when an op panics and the
	// caller recovers), so a race there can go unseen.
	busy atomic.Int32
}

const (
	tapeIdle int32 = iota
	tapeRecording
	tapeWalking
	tapeResetting
)

// concurrentUse panics for a tape found in use by another goroutine.
//
//go:noinline
func concurrentUse(what string, state int32) {
	other := "recording an op"
	switch state {
	case tapeWalking:
		other = "in Backward"
	case tapeResetting:
		other = "in Reset"
	}
	fail(ErrMisuse, "Tape used from two goroutines at once: %s while another goroutine is %s (use one Tape per goroutine)", what, other)
}

// enter marks the tape busy with state (tapeWalking or tapeResetting).
func (tp *Tape[T]) enter(what string, state int32) {
	if !tp.busy.CompareAndSwap(tapeIdle, state) {
		concurrentUse(what, tp.busy.Load())
	}
}

// NewTape returns an empty tape.
func NewTape[T tensor.Float]() *Tape[T] {
	tp := &Tape[T]{free: make(map[shapeKey][]*tensor.Dense[T]), gen: 1}
	tp.job.run = tp.job.chunk
	return tp
}

// Reset forgets every node recorded since the last Reset and keeps their
// buffers, by shape, for the ops of the next step: a loop that records the
// same computation each step stops allocating after the first. Nodes and
// their values must not be used after Reset. Leaves and their gradients are
// untouched. Reset also clears the released state and any anomaly seen.
func (tp *Tape[T]) Reset() {
	tp.enter("Reset", tapeResetting)
	defer tp.busy.Store(tapeIdle)
	// This step's buffers, in order, are the next step's replay, so that
	// an identical next step gets each op the same buffer as before (that
	// also keeps Reshape's view cache hitting).
	tp.flushReplay()
	tp.replay, tp.used = tp.used, tp.replay[:0]
	for _, v := range tp.nodes[:tp.n] {
		v.clearRefs()
	}
	for _, p := range tp.pools {
		if p != nil {
			p.rewind()
		}
	}
	tp.n = 0
	tp.gen++
	tp.released = false
	tp.err = nil
}

// Trim drops the buffers that Reset keeps for reuse, so the garbage
// collector can reclaim them: call it after Reset when the shapes a loop
// records change for good (the pool keeps every shape it has seen). Nodes
// of the current step keep their buffers.
func (tp *Tape[T]) Trim() {
	clear(tp.free)
	clear(tp.replay[tp.rc:])
	tp.replay, tp.rc = tp.replay[:0], 0
}

// flushReplay moves the buffers of the replay not taken this step to the
// free lists, in reverse so that alloc, popping from the end, meets them
// in their old order.
func (tp *Tape[T]) flushReplay() {
	for i := len(tp.replay) - 1; i >= tp.rc; i-- {
		d := tp.replay[i]
		if k, ok := keyOf(d.Shape()); ok {
			tp.free[k] = append(tp.free[k], d)
		}
	}
	clear(tp.replay)
	tp.replay, tp.rc = tp.replay[:0], 0
}

// Len reports how many nodes were recorded since the last Reset.
func (tp *Tape[T]) Len() int { return tp.n }

// NoGrad switches no-grad mode and returns the previous setting. In no-grad
// mode ops compute values but record nothing for Backward: their results
// do not require a gradient (evaluation, or updates written as ops).
func (tp *Tape[T]) NoGrad(on bool) (prev bool) {
	prev, tp.noGrad = tp.noGrad, on
	return prev
}

// RetainGraph switches whether Backward keeps the graph for another
// Backward (off by default) and returns the previous setting. A second
// Backward over a released graph returns ErrGraphReleased.
func (tp *Tape[T]) RetainGraph(on bool) (prev bool) {
	prev, tp.retain = tp.retain, on
	return prev
}

// Anomaly switches anomaly mode and returns the previous setting. In
// anomaly mode every op checks its output, and Backward every adjoint it
// writes, for NaN and ±Inf. The first one found is kept as an *AnomalyError
// (wrapping ErrAnomaly) naming the op: Err returns it, and Backward returns
// it instead of running (forward) or stops there (backward). Values are
// data, so this is an error, never a panic. It costs a pass over each
// tensor; leave it off for speed.
func (tp *Tape[T]) Anomaly(on bool) (prev bool) {
	prev, tp.anomaly = tp.anomaly, on
	return prev
}

// Err returns the first anomaly recorded in forward since the last Reset,
// or nil.
func (tp *Tape[T]) Err() error { return tp.err }

// alloc returns a contiguous buffer of the given shape for this step. Its
// contents are arbitrary.
func (tp *Tape[T]) alloc(shape ...int) *tensor.Dense[T] {
	// Neither record nor Reset allocates, so either state means another
	// goroutine (Backward does allocate: its state cannot be told apart).
	if st := tp.busy.Load(); st == tapeRecording || st == tapeResetting {
		concurrentUse("an op", st)
	}
	if tp.rc < len(tp.replay) {
		if d := tp.replay[tp.rc]; sameShape(d.Shape(), shape) {
			tp.replay[tp.rc] = nil
			tp.rc++
			tp.used = append(tp.used, d)
			return d
		}
		tp.flushReplay()
	}
	var d *tensor.Dense[T]
	if k, ok := keyOf(shape); ok {
		if l := tp.free[k]; len(l) > 0 {
			d = l[len(l)-1]
			l[len(l)-1] = nil
			tp.free[k] = l[:len(l)-1]
		}
	}
	if d == nil {
		// Clone so that shape (often a caller's variadic slice) does not
		// escape through New's error path.
		d = tensor.New[T](slices.Clone(shape)...)
	}
	tp.used = append(tp.used, d)
	return d
}

// allocLike is alloc with d's shape.
func (tp *Tape[T]) allocLike(d *tensor.Dense[T]) *tensor.Dense[T] { return tp.alloc(d.Shape()...) }

// clearRefs drops the references a recycled node holds; its typed node
// is rewound with its pool.
func (v *Var[T]) clearRefs() {
	// Keep tape, gen and op so that a stale use is reported as such.
	*v = Var[T]{tape: v.tape, gen: v.gen, op: v.op}
}

// check panics unless v can be used as an input on tp.
func (tp *Tape[T]) check(op string, v *Var[T]) {
	if st := tp.busy.Load(); st != tapeIdle {
		concurrentUse(op, st)
	}
	if v == nil {
		fail(ErrMisuse, "%s: nil Var", op)
	}
	if v.leaf {
		return
	}
	if v.tape != tp {
		fail(ErrMisuse, "%s: Var (from %s) was recorded on another tape", op, v.op)
	}
	if v.gen != tp.gen {
		fail(ErrMisuse, "%s: Var (from %s) was recycled by Reset", op, v.op)
	}
}

// record records a new node named op with the given value, whose
// backward is fn (nil for none); a, b and c are its inputs, or nil (an op
// with more inputs sets requiresGrad itself). It requires a gradient if any
// input does and the tape is not in no-grad mode.
func (tp *Tape[T]) record(op string, fn node[T], value *tensor.Dense[T], a, b, c *Var[T]) *Var[T] {
	if !tp.busy.CompareAndSwap(tapeIdle, tapeRecording) {
		concurrentUse(op, tp.busy.Load())
	}
	// check saw the inputs current; one goroutine cannot Reset between
	// check and node, so a recycled input means another goroutine did.
	if stale(a, tp.gen) || stale(b, tp.gen) || stale(c, tp.gen) {
		tp.busy.Store(tapeIdle)
		concurrentUse(op, tapeResetting)
	}
	v := tp.slot()
	v.id = tp.n
	tp.n++
	v.tape, v.gen, v.op, v.fn, v.value = tp, tp.gen, op, fn, value
	if !tp.noGrad {
		v.requiresGrad = (a != nil && a.requiresGrad) || (b != nil && b.requiresGrad) || (c != nil && c.requiresGrad)
	}
	if tp.anomaly && tp.err == nil {
		tp.err = findBad(op, "forward", value)
	}
	tp.busy.Store(tapeIdle)
	return v
}

// stale reports whether x is a node of an earlier generation.
func stale[T tensor.Float](x *Var[T], gen uint64) bool { return x != nil && !x.leaf && x.gen != gen }

// slot returns the Var that the next node will use.
func (tp *Tape[T]) slot() *Var[T] {
	if tp.n < len(tp.nodes) {
		return tp.nodes[tp.n]
	}
	v := new(Var[T])
	tp.nodes = append(tp.nodes, v)
	return v
}

// Const records value as a node that requires no gradient. Unlike NewVar it
// allocates nothing in a steady-state loop, so it suits per-step inputs.
// value is not copied. It panics if value is nil.
func (tp *Tape[T]) Const(value *tensor.Dense[T]) *Var[T] {
	if value == nil {
		fail(ErrMisuse, "Const: nil value")
	}
	return tp.record("Const", nil, value, nil, nil, nil)
}

// Detach returns a node with v's value (shared, not copied) that requires
// no gradient: adjoints stop there.
func (tp *Tape[T]) Detach(v *Var[T]) *Var[T] {
	tp.check("Detach", v)
	r := tp.record("Detach", nil, v.value, nil, nil, nil)
	r.requiresGrad = false
	return r
}

// findBad returns an *AnomalyError for the first NaN or Inf in d, or nil.
func findBad[T tensor.Float](op string, phase string, d *tensor.Dense[T]) error {
	dd := d.Contiguous().Data()
	for i, x := range dd {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return &AnomalyError{Op: op, Phase: phase, Index: i, Value: f, Shape: append([]int(nil), d.Shape()...)}
		}
	}
	return nil
}

// grad returns v's adjoint buffer for the current pass, and whether a
// contribution must be added (true) or may overwrite it (false, the first
// contribution of the pass). The caller must write every element when it
// overwrites.
func (tp *Tape[T]) grad(v *Var[T]) ([]T, bool) {
	if v.grad == nil {
		if v.leaf {
			v.grad = tensor.New[T](v.value.Shape()...)
		} else {
			v.grad = tp.allocLike(v.value)
		}
		v.fresh = true
	}
	if v.leaf && v.lazy.pending.Load() {
		v.lazy.pending.Store(false)
		v.fresh = true
	}
	if tp.track {
		tp.touched = append(tp.touched, v)
	}
	if v.fresh {
		v.fresh = false
		return v.grad.Data(), false
	}
	return v.grad.Data(), true
}

// gradDense is grad with the adjoint as a tensor of v's shape, for the
// backward passes that run through tensor's kernels.
func (tp *Tape[T]) gradDense(v *Var[T]) (*tensor.Dense[T], bool) {
	_, acc := tp.grad(v)
	return v.grad, acc
}

// Backward computes the adjoint of every node and leaf that loss depends
// on, starting from ∂loss/∂loss = 1, and adds leaves' adjoints to their
// Grad. loss must be on this tape (or be a leaf). It returns ErrNotScalar if
// loss has more than one element, ErrNoGrad if it requires no gradient,
// ErrGraphReleased after an earlier Backward released the graph, and the
// *AnomalyError of anomaly mode. It panics (ErrMisuse) if loss is nil, from
// another tape or recycled.
func (tp *Tape[T]) Backward(loss *Var[T]) error {
	tp.check("Backward", loss)
	if loss.value.Size() != 1 {
		return &Error{Err: ErrNotScalar, Msg: "autograd: Backward: loss of shape " + shapeString(loss.value.Shape()) + " is not a scalar; use BackwardSeed"}
	}
	return tp.backward(loss, nil)
}

// BackwardSeed is Backward from v with the adjoint v̄ = seed (v's shape)
// instead of 1. It panics if seed is nil or its shape differs from v's.
func (tp *Tape[T]) BackwardSeed(v *Var[T], seed *tensor.Dense[T]) error {
	tp.check("BackwardSeed", v)
	if seed == nil {
		fail(ErrMisuse, "BackwardSeed: nil seed")
	}
	if !sameShape(seed.Shape(), v.value.Shape()) {
		fail(ErrShape, "BackwardSeed: seed shape %v differs from Var shape %v", seed.Shape(), v.value.Shape())
	}
	return tp.backward(v, seed)
}

func (tp *Tape[T]) backward(v *Var[T], seed *tensor.Dense[T]) error {
	tp.enter("Backward", tapeWalking)
	defer tp.busy.Store(tapeIdle)
	if tp.err != nil {
		return tp.err
	}
	if tp.released {
		return ErrGraphReleased
	}
	if !v.requiresGrad {
		return ErrNoGrad
	}
	if v.leaf {
		g, acc := tp.grad(v)
		seedInto(g, acc, seed)
		return nil
	}
	// Nodes keep their grad buffers when the graph is retained; mark
	// them all unreached for this pass.
	for _, u := range tp.nodes[:tp.n] {
		u.fresh = true
	}
	g, acc := tp.grad(v)
	seedInto(g, acc, seed)
	if !tp.retain {
		tp.released = true
	}
	if tp.anomaly {
		tp.track, tp.touched = true, tp.touched[:0]
		defer func() { tp.track = false }()
	}
	for i := v.id; i >= 0; i-- {
		u := tp.nodes[i]
		if !u.requiresGrad || u.grad == nil || u.fresh || u.fn == nil {
			continue // not reached, or nothing to send back
		}
		// Each op's typed node runs its own backward: u.grad holds ū; it
		// adds to the adjoints of u's inputs that require a gradient.
		u.fn.backward(tp, u)
		if tp.anomaly {
			if err := tp.checkTouched(u); err != nil {
				return err
			}
		}
	}
	return nil
}

func seedInto[T tensor.Float](g []T, acc bool, seed *tensor.Dense[T]) {
	if seed == nil {
		if acc {
			g[0]++
		} else {
			g[0] = 1
		}
		return
	}
	s := seed.Contiguous().Data()
	if acc {
		for i := range g {
			g[i] += s[i]
		}
	} else {
		copy(g, s)
	}
}

// checkTouched looks for a non-finite value in the adjoints that u's
// backward wrote.
func (tp *Tape[T]) checkTouched(u *Var[T]) error {
	for _, in := range tp.touched {
		if err := findBad(u.op, "backward", in.grad); err != nil {
			return err
		}
	}
	tp.touched = tp.touched[:0]
	return nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
