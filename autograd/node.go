package autograd

import "github.com/adjoint-go/adjoint/tensor"

// node is what an op records for its backward: a struct of the op
// family's own, with named fields for the inputs and whatever else the
// backward needs, declared beside the op's forward and backward in the
// family's file. Nodes come from per-type pools on the tape (newNode), so
// recording one allocates nothing in a steady-state loop.
type node[T tensor.Float] interface {
	// backward adds out's inputs' adjoints given out.grad (ū), through
	// tp.grad or tp.gradDense, for the inputs that require a gradient.
	backward(tp *Tape[T], out *Var[T])
}

// poolKey indexes a node type's pool in Tape.pools. Each family takes one
// at package initialisation with newPoolKey.
type poolKey int

// nPoolKeys counts the keys taken; package variables initialise in one
// goroutine, so a plain counter does.
var nPoolKeys poolKey

func newPoolKey() poolKey {
	k := nPoolKeys
	nPoolKeys++
	return k
}

// rewinder is a pool of nodes as the tape sees it.
type rewinder interface{ rewind() }

// clearer is implemented by a node type that must keep something across
// Reset (a slice's capacity, a cached view): rewind calls clearRefs instead
// of zeroing the node.
type clearer interface{ clearRefs() }

// nodePool hands out the nodes of one type for a step: nodes[:n] are in
// use; rewind makes them all free again, dropping their references.
type nodePool[N any] struct {
	nodes []*N
	n     int
	keep  bool // N implements clearer
}

func (p *nodePool[N]) get() *N {
	if p.n < len(p.nodes) {
		x := p.nodes[p.n]
		p.n++
		return x
	}
	x := new(N)
	p.nodes = append(p.nodes, x)
	p.n++
	return x
}

func (p *nodePool[N]) rewind() {
	for _, x := range p.nodes[:p.n] {
		if p.keep {
			any(x).(clearer).clearRefs()
		} else {
			var z N
			*x = z
		}
	}
	p.n = 0
}

// newNode returns a node of type N for this step from the tape's pool k
// (N's family's key).
func newNode[N any, T tensor.Float](tp *Tape[T], k poolKey) *N {
	if int(k) < len(tp.pools) {
		if p, ok := tp.pools[k].(*nodePool[N]); ok {
			return p.get()
		}
	}
	return newPool[N](tp, k).get()
}

// newPool makes the tape's pool k, on the first use of its node type.
func newPool[N any, T tensor.Float](tp *Tape[T], k poolKey) *nodePool[N] {
	for int(k) >= len(tp.pools) {
		tp.pools = append(tp.pools, nil)
	}
	if tp.pools[k] != nil {
		panic("autograd: node pool key used by two node types")
	}
	p := new(nodePool[N])
	_, p.keep = any(new(N)).(clearer)
	tp.pools[k] = p
	return p
}
