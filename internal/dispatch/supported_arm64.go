//go:build arm64 && gc && !purego

package dispatch

// NEON is mandatory in ARMv8-A: every arm64 CPU runs it.
var supported = [numLevels]bool{NEON: true}
