package onnx

import (
	"fmt"
	"math"
	"sort"
	"sync"
)

// Kernel runs one node. Run reads the node's inputs and writes its outputs.
//
// in has one entry per input the node names; a missing optional input (an
// empty name, or one past the end) is nil, so use Input(in, i). out has one
// entry per output the node names (an unnamed optional output still gets a
// scratch tensor), never nil. A kernel makes each output the right type and
// shape with out[i].Reset(dtype, shape), which reuses that tensor's storage
// from the previous run, then writes every element. A kernel must not keep or
// alias in or out tensors across calls, must not modify inputs, and must be
// safe to call from several goroutines at once (keep per-run scratch in the
// output tensors or allocate it).
//
// Run returns an error for a problem in the data (shapes that do not
// broadcast, an index out of range); the session adds the node's name and op.
type Kernel interface {
	Run(in, out []*Tensor) error
}

// KernelFunc lets a plain function be a Kernel.
type KernelFunc func(in, out []*Tensor) error

// Run calls f(in, out).
func (f KernelFunc) Run(in, out []*Tensor) error { return f(in, out) }

// Constructor makes the kernel for one node at load time. It reads and
// validates the node's attributes (n.Int, n.Floats, ...; a wrong attribute
// type is recorded in the node and reported by the loader) and returns an
// error for an attribute value it cannot support, so that an unsupported
// model fails at Load, never in Run.
type Constructor func(n *Node) (Kernel, error)

// Latest is the "to" opset of a registration that is still current.
const Latest = math.MaxInt32

type registration struct {
	from, to int
	ctor     Constructor
}

var (
	registryMu sync.RWMutex
	registry   = map[string][]registration{} // key: domain + "\x00" + opType
)

// Register adds a kernel constructor for opType in domain ("" is the default
// ONNX domain; "ai.onnx" is treated as ""), valid for the domain's opset
// versions from..to inclusive (to = Latest for open-ended). Call it from an
// init function, one file per op family. It panics on overlapping ranges for
// the same op, an empty op type, or from > to.
func Register(domain, opType string, from, to int, ctor Constructor) {
	if opType == "" || from > to || from < 1 || ctor == nil {
		panic(fmt.Sprintf("onnx: Register(%q, %q, %d, %d): bad arguments", domain, opType, from, to))
	}
	key := canonDomain(domain) + "\x00" + opType
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, r := range registry[key] {
		if from <= r.to && r.from <= to {
			panic(fmt.Sprintf("onnx: Register(%q, %q, %d, %d): overlaps registration %d..%d", domain, opType, from, to, r.from, r.to))
		}
	}
	registry[key] = append(registry[key], registration{from, to, ctor})
}

func canonDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

func lookup(domain, opType string, opset int) Constructor {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for _, r := range registry[canonDomain(domain)+"\x00"+opType] {
		if opset >= r.from && opset <= r.to {
			return r.ctor
		}
	}
	return nil
}

// Supported reports whether an op of the given domain and type is registered
// at opset.
func Supported(domain, opType string, opset int) bool { return lookup(domain, opType, opset) != nil }

// RegisteredOps lists the registered ops as "domain:op" (domain empty for the
// default domain), sorted.
func RegisteredOps() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []string
	for k := range registry {
		for i := 0; i < len(k); i++ {
			if k[i] == 0 {
				out = append(out, k[:i]+":"+k[i+1:])
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// Input returns in[i], or nil when the optional input i is absent.
func Input(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}
