//go:build !(amd64 || arm64) || !gc || purego

package dispatch

// Without assembly only the generic code runs.
var supported [numLevels]bool
