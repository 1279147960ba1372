// Package dispatch chooses, once per process, which level of hand-written
// vector kernels the packages of this module run, and keeps a registry of
// those packages' implementations so that tests can list them, force one and
// check what was chosen (as the standard library's crypto/internal/impl does).
//
// Every package with assembly follows one idiom: it keeps its level (or its
// feature switches) in package variables that its hot loops read directly,
// and in an init function hands Register its implementations' levels and a
// pair of functions that read and set those variables. Register sets them to
// Choose's answer, so ADJOINT_KERNEL means the same in every package:
//
//   - generic: no assembly anywhere;
//   - avx2: on amd64, the AVX2+FMA code of every package (AVX2 where a
//     package has no AVX-512 code, generic where it has no AVX2 code);
//   - avx512: on amd64, the best code of every package;
//   - neon: on arm64, the NEON code of every package (the default there).
//
// A level this CPU or build cannot run, or an unknown name, is ignored with
// one warning line on standard error, and the best level is used.
package dispatch

import (
	"fmt"
	"os"
	"slices"
	"sync"
)

// Level is a class of CPU instructions that kernels are written for. The
// levels of one architecture are ordered: code of a level runs on every CPU
// that runs the higher ones.
type Level uint8

const (
	Generic Level = iota // portable Go, every CPU
	AVX2                 // amd64 with AVX2 and FMA
	AVX512               // amd64 with AVX-512F
	NEON                 // arm64 Advanced SIMD (mandatory in ARMv8-A)
	numLevels
)

var names = [numLevels]string{"generic", "avx2", "avx512", "neon"}

// String returns the level's name as ADJOINT_KERNEL spells it.
func (l Level) String() string {
	if l < numLevels {
		return names[l]
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Parse returns the level named name ("generic", "avx2", "avx512", "neon").
func Parse(name string) (Level, error) {
	for l, n := range names {
		if n == name {
			return Level(l), nil
		}
	}
	return Generic, fmt.Errorf("unknown kernel level %q (want one of %v)", name, names)
}

// Env is the environment variable read at start-up to cap every package's
// level: generic, avx2, avx512 or neon.
const Env = "ADJOINT_KERNEL"

// Supported reports whether this CPU and build can run code of level l. Only
// Generic is supported under the purego build tag, on gccgo, and on an
// architecture without assembly.
func Supported(l Level) bool { return l == Generic || l < numLevels && supported[l] }

// Levels returns the levels this CPU and build support, lowest first.
func Levels() []Level {
	var ls []Level
	for l := range numLevels {
		if Supported(l) {
			ls = append(ls, l)
		}
	}
	return ls
}

// requested is the cap read from Env at start-up.
var requested = func() Level {
	best := Levels()[len(Levels())-1]
	name := os.Getenv(Env)
	if name == "" {
		return best
	}
	l, err := Parse(name)
	if err == nil && !Supported(l) {
		err = fmt.Errorf("%q is not supported by this CPU or build (have %v)", name, Levels())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "adjoint: %s=%q ignored (%v); using %s\n", Env, name, err, best)
		return best
	}
	return l
}()

// Requested returns the level chosen at start-up: ADJOINT_KERNEL's when it
// is set and supported, otherwise the best level this CPU and build run.
func Requested() Level { return requested }

// Choose returns the highest of impls (the levels a package has code for,
// beside Generic) that this CPU supports and that is not above Requested;
// Generic if there is none.
func Choose(impls ...Level) Level {
	best := Generic
	for _, l := range impls {
		if Supported(l) && l <= requested && l > best {
			best = l
		}
	}
	return best
}

type entry struct {
	impls []Level
	get   func() Level
	set   func(Level)
}

var (
	mu       sync.Mutex
	registry = map[string]*entry{}
)

// Register records the vector implementations of package pkg (its path in
// the module, e.g. "gemm" or "internal/math32"): impls are the levels it has
// code for beside Generic, get reports the level its package variables
// select, and set makes them select a level (Generic or one of impls that
// this CPU supports). Register sets it to Choose(impls...) and returns that.
// It is called once per package, from an init function; a second call for
// the same pkg panics.
func Register(pkg string, get func() Level, set func(Level), impls ...Level) Level {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[pkg]; dup {
		panic("dispatch: Register: package " + pkg + " registered twice")
	}
	registry[pkg] = &entry{impls: slices.Clone(impls), get: get, set: set}
	l := Choose(impls...)
	set(l)
	return l
}

func lookup(pkg string) *entry {
	mu.Lock()
	defer mu.Unlock()
	e := registry[pkg]
	if e == nil {
		panic("dispatch: package " + pkg + " is not registered")
	}
	return e
}

// Packages returns the registered packages, sorted. Only packages linked
// into the program are registered.
func Packages() []string {
	mu.Lock()
	defer mu.Unlock()
	var ps []string
	for p := range registry {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// Available returns the levels package pkg can run on this CPU and build,
// lowest first, Generic always among them. It panics if pkg is not
// registered.
func Available(pkg string) []Level {
	e := lookup(pkg)
	ls := []Level{Generic}
	for l := range numLevels {
		if l != Generic && Supported(l) && slices.Contains(e.impls, l) {
			ls = append(ls, l)
		}
	}
	return ls
}

// Current returns the level package pkg runs now. It panics if pkg is not
// registered.
func Current(pkg string) Level { return lookup(pkg).get() }

// Set makes package pkg run level l, for tests and benchmarks; it returns
// an error, and changes nothing, if pkg cannot run l here. It panics if pkg
// is not registered. Set is not synchronised with the package's kernels:
// call it while none runs.
func Set(pkg string, l Level) error {
	if !slices.Contains(Available(pkg), l) {
		return fmt.Errorf("dispatch: package %s cannot run %v here (have %v)", pkg, l, Available(pkg))
	}
	lookup(pkg).set(l)
	return nil
}
