// Package avoutil is the setup the amd64 (avo) generators share, so every
// generated file gets the same build constraint and every kernel the same
// attributes and declaration.
package avoutil

import (
	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
)

// Constraint is the build constraint of every generated amd64 file: the
// purego tag (and gccgo) remove the assembly.
const Constraint = "amd64,gc,!purego"

// Start sets the build constraint; call it before the first TEXT.
func Start() { build.ConstraintExpr(Constraint) }

// TEXT starts a NOSPLIT function with Go signature sig (e.g. "func(d *float32,
// n int)") and marks it go:noescape in the stubs avo writes (-stubs), so the
// callers' slices and stack buffers do not escape to the heap.
func TEXT(name, sig string) {
	build.TEXT(name, attr.NOSPLIT, sig)
	build.Pragma("noescape")
}
